"""The right of access: everything held on a customer, as one JSON document.

Read from the landed Parquet, where values are in clear (the warehouse holds pseudonyms of the same
rows), with the same row selection erasure removes: every landed version of the CRM record, orders
and what hangs off them, reviews, consent decisions, the events of every stitched device, and the
quarantined rows that name them.

The document also states, per place, what was minimised or pseudonymised and when (`processing`):
the IP addresses landing truncated as their events were written, each retention purge that
replaced an id of theirs in raw by its pseudonymous key or cleared a value of their rows (from the
audit's `purge_log`), and what the warehouse holds of them in place of clear values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from orchestration.contracts import load_contracts
from orchestration.governance import audit, unconsented
from orchestration.governance.minimise import IP_ADDRESSES, truncated_ip
from orchestration.governance.subject import find_subject, parquet_files, quarantine_filter, row_filters
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.settings import DataPaths

# Section of the document -> extract.
SECTIONS = {
    "customer_records": "customers",
    "orders": "orders",
    "order_items": "order_items",
    "payments": "payment_attempts",
    "refunds": "refunds",
    "chargebacks": "chargebacks",
    "returns": "returns",
    "shipments": "shipments",
    "reviews": "reviews",
    "consent_decisions": "consent_logs",
    "events": "events",
    "connected_devices": "device_activations",
    "patch_applications": "patch_applications",
    "dosage_deliveries": "dosage_deliveries",
    "sensor_readings": "sensor_readings",
    "firmware_updates": "firmware_updates",
    "adverse_events": "adverse_events",
    "subscription_events": "subscription_events",
    "loyalty_transactions": "loyalty_transactions",
}


def _rows(con, paths: DataPaths, source: str, condition: str) -> list[dict]:
    files = parquet_files(paths, source)
    if not files:
        return []
    contract = load_contracts()[source]
    listing = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    columns = ", ".join(quote_ident(f.name) for f in contract.columns)
    key = ", ".join(quote_ident(k) for k in contract.primary_key)
    cursor = con.execute(
        f"SELECT DISTINCT {columns} FROM read_parquet({listing}, hive_partitioning = false, union_by_name = true)"
        f" WHERE {condition} ORDER BY {quote_ident(contract.partition_by)}, {key}"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# What the warehouse holds of a person, whatever the purges did.
WAREHOUSE_PROCESSING = (
    "customer and device ids only as pseudonymous keys (keyed HMAC-SHA256), IP addresses and user agents"
    " only as keyed hashes; names, e-mail addresses, phone numbers and street addresses never leave staging"
)


def _files_holding(con, paths: DataPaths, source: str, condition: str) -> dict[str, datetime]:
    """Raw files (relative to DATA_DIR) holding the subject's rows of `source` -> when they landed."""
    found = {}
    for file in parquet_files(paths, source):
        sql = f"SELECT min(_landed_at) FROM read_parquet(?, hive_partitioning = false) WHERE {condition}"
        [(landed_at,)] = con.execute(sql, [str(file)]).fetchall()
        if landed_at is not None:
            found[str(file.relative_to(paths.root))] = landed_at
    return found


def _truncated(con, paths: DataPaths, file: str, field: str, condition: str) -> bool:
    """The subject's rows of a raw file hold no full address (a file landed before the rule may)."""
    column = quote_ident(field)
    sql = f"SELECT count(*) FROM read_parquet(?) WHERE ({condition}) AND {column} <> {truncated_ip(column)}"
    return con.execute(sql, [str(paths.root / file)]).fetchone()[0] == 0


def _purge_action(source: str, column: str, pii: str) -> str:
    if pii == "pseudonymous":
        reason = "consent evidence past its retention" if source == "consent_logs" else "25 months without activity"
        return f"pseudonymous key deleted ({reason})"
    if pii == unconsented.UNCONSENTED:
        return "deleted (set to NULL) where the event counted for no one (privacy signal or no analytics consent)"
    if load_contracts()[source].field(column).pseudonymous_key:
        return "replaced by its pseudonymous key (keyed HMAC-SHA256)"
    return "deleted (set to NULL)"


def processing(con, paths: DataPaths, filters: dict[str, str]) -> list[dict]:
    """Per place, what was minimised or pseudonymised of the subject's data, and when."""
    held = {source: _files_holding(con, paths, source, filters[source]) for source in SECTIONS.values()}
    steps = [
        {
            "place": "raw",
            "target": file,
            "column": field,
            "action": "truncated to its network (/24 for IPv4, /48 for IPv6) before it was written",
            "at": first,
        }
        for source, field in sorted(IP_ADDRESSES)
        for file, first in held.get(source, {}).items()
        if _truncated(con, paths, file, field, filters[source])
    ]
    files = {file: source for source, found in held.items() for file in found}
    for purged_at, _, place, target, column, pii, cutoff, _ in audit.read_if_any(paths, "purge_log"):
        if place == "raw" and target in files:
            action = _purge_action(files[target], column, pii)
            steps.append({"place": place, "target": target, "column": column, "action": action, "at": purged_at})
        elif place == "warehouse" and pii == unconsented.UNCONSENTED:
            action = f"{_purge_action('events', column, pii)}, on rows dated before {cutoff}"
            steps.append({"place": place, "target": target, "column": column, "action": action, "at": purged_at})
        elif place == "warehouse" and pii != "pseudonymous":
            action = f"deleted (set to NULL) on every row dated before {cutoff}"
            steps.append({"place": place, "target": target, "column": column, "action": action, "at": purged_at})
    steps.append({"place": "warehouse", "target": "every table", "column": None, "action": WAREHOUSE_PROCESSING,
                  "at": "at every build"})  # fmt: skip
    return steps


def export_subject(paths: DataPaths, store_id: str, customer_id: str) -> dict:
    subject = find_subject(paths, store_id, customer_id)
    filters = row_filters(subject)
    document = {
        "store_id": store_id,
        "customer_id": customer_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "devices": list(subject.devices),
    }
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for section, source in SECTIONS.items():
            document[section] = _rows(con, paths, source, filters[source])
        # Rows landing refused that name them, as received (a line the parser could not split too).
        document["quarantined_rows"] = [
            {"source": file.parent.name, "reason_code": reason, "field": field, "payload": payload}
            for file in sorted(paths.quarantine.glob("*/part-*.parquet"))
            for reason, field, payload in con.execute(
                f"SELECT reason_code, field, payload FROM read_parquet(?) WHERE {quarantine_filter(subject)}"
                " ORDER BY row_number NULLS LAST, payload",
                [str(file)],
            ).fetchall()
        ]
        document["processing"] = processing(con, paths, filters)
    return document


def to_json(document: dict) -> str:
    # Timestamps as ISO 8601, decimals as exact strings.
    return json.dumps(document, indent=2, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
