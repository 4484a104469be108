"""The right of access: everything held on a customer, as one JSON document.

Read from the landed Parquet, where values are in clear (the warehouse holds pseudonyms of the same
rows), with the same row selection erasure removes: every landed version of the CRM record, orders
and what hangs off them, reviews, consent decisions, the events of every stitched device, and the
quarantined rows that name them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from orchestration.contracts import load_contracts
from orchestration.governance.subject import find_subject, parquet_files, quarantine_filter, row_filters
from orchestration.landing.rules import quote_ident, quote_literal
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
    return document


def to_json(document: dict) -> str:
    # Timestamps as ISO 8601, decimals as exact strings.
    return json.dumps(document, indent=2, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
