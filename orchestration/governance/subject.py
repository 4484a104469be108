"""A data subject: a customer of one store, with everything that points at them.

The customer's rows are found in the landed Parquet (in clear: raw holds source values) and in the
quarantine (a rejected order still names its customer). Their devices are the stitched ones: devices
whose events carry the customer's user id, and devices of the customer's consent decisions. Past
their retention the retention purge replaced these ids in raw by their marked pseudonymous keys
(`governance/pseudonyms.py`): a row holding either form is theirs. Erasure removes, and the access
export returns, exactly the rows `row_filters` selects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from orchestration.governance.pseudonyms import marked, pseudonym
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths

# Extracts that reference an order rather than a person: they go with the customer's orders.
ORDER_CHILDREN = ("order_items", "payment_attempts", "refunds", "returns", "shipments", "chargebacks")
# The device cloud names the patient on every row.
DEVICE_EXTRACTS = (
    "device_activations",
    "patch_applications",
    "dosage_deliveries",
    "sensor_readings",
    "firmware_updates",
    "adverse_events",
)
# Logs that name the customer on every row (subscriptions in the OMS, the loyalty ledger in the CRM).
CUSTOMER_LOGS = ("subscription_events", "loyalty_transactions")


class UnknownCustomer(ValueError):
    """No landed or quarantined row names this customer (in this store, for landed rows)."""


@dataclass(frozen=True)
class Subject:
    store_id: str
    customer_id: str
    emails: tuple[str, ...]
    devices: tuple[str, ...]
    order_ids: tuple[str, ...]
    connected_devices: tuple[str, ...] = ()  # serials of the device cloud's units they hold
    # The marked pseudonymous keys of the customer id and of the devices found in clear: what raw
    # holds in their place once the purge has been.
    marked_keys: tuple[str, ...] = ()

    @property
    def identifiers(self) -> tuple[str, ...]:
        """Every value that names the person or their records."""
        return (
            self.customer_id,
            *self.emails,
            *self.devices,
            *self.order_ids,
            *self.connected_devices,
            *self.marked_keys,
        )

    @property
    def pseudonymized(self) -> tuple[str, ...]:
        """The identifiers the warehouse holds as keyed hashes (the ids staging pseudonymises)."""
        return (self.customer_id, *self.devices, *self.connected_devices)

    def keyed_hash(self, value: str, paths: DataPaths) -> str:
        """The pseudonym the warehouse holds for a value (macros/pseudonymize.sql, HMAC-SHA256); a
        marked key in raw is its own."""
        return pseudonym(value, hmac_key(paths))

    def with_marked_keys(self, paths: DataPaths) -> Subject:
        key = hmac_key(paths)
        ids = {self.customer_id, *self.devices}
        keys = tuple(sorted({marked(v, key) for v in ids} - ids))  # a device found marked is its own
        return replace(self, marked_keys=keys)


def parquet_files(paths: DataPaths, source: str) -> list[Path]:
    """Landed files of a source, those of batches quarantined whole included."""
    quarantined = paths.quarantine_for(source) / "failed_batches"
    return sorted(paths.raw_for(source).glob("date=*/*.parquet")) + sorted(quarantined.glob("*/date=*/*.parquet"))


def _in(column: str, values: tuple[str, ...]) -> str:
    if not values:
        return "false"
    return f"{quote_ident(column)} IN ({', '.join(quote_literal(v) for v in values)})"


def row_filters(subject: Subject) -> dict[str, str]:
    """Extract -> SQL condition true for the subject's rows of that extract."""
    people = (subject.customer_id, *subject.marked_keys)
    customer = _in("customer_id", people)
    orders = _in("order_id", subject.order_ids)
    devices = _in("anonymous_id", (*subject.devices, *subject.marked_keys))
    filters = {
        "customers": customer,
        "orders": f"{customer} OR {orders}",
        "reviews": customer,
        "consent_logs": f"{customer} OR {devices}",
        "events": f"{_in('user_id', people)} OR {devices}",
        **dict.fromkeys(ORDER_CHILDREN, orders),
        **dict.fromkeys(DEVICE_EXTRACTS, customer),
        **dict.fromkeys(CUSTOMER_LOGS, customer),
    }
    store = quote_literal(subject.store_id)
    return {source: f"store_id = {store} AND ({condition})" for source, condition in filters.items()}


def quarantine_filter(subject: Subject) -> str:
    """SQL on a quarantine file: the payload (a row as received, or a raw line) names the subject.

    Matched as a whole token, so `cus-1` does not match `cus-12`."""
    alternatives = "|".join(re.escape(value) for value in subject.identifiers)
    pattern = rf"(^|[^\w@.-])({alternatives})($|[^\w@.-])"
    return f"regexp_matches(payload, {quote_literal(pattern)})"


def _distinct(con, source: str, paths: DataPaths, column: str, condition: str) -> set[str]:
    files = parquet_files(paths, source)
    if not files:
        return set()
    listing = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    sql = f"SELECT DISTINCT {column} FROM read_parquet({listing}, hive_partitioning = false, union_by_name = true)"
    return {v for (v,) in con.execute(f"{sql} WHERE {condition}").fetchall() if v is not None}


def checked_customer_id(customer_id: str) -> str:
    """The id, unless blank: a blank id is an empty alternative of `quarantine_filter`, which would
    match every quarantined line."""
    if not customer_id.strip():
        raise UnknownCustomer("the customer id is blank: name the customer to erase or export")
    return customer_id


def find_subject(paths: DataPaths, store_id: str, customer_id: str) -> Subject:
    """The customer's emails, stitched devices and orders, from raw and quarantine; or UnknownCustomer."""
    checked_customer_id(customer_id)
    seed = Subject(store_id, customer_id, (), (), ()).with_marked_keys(paths)
    filters = row_filters(seed)
    with duckdb.connect() as con:
        emails = _distinct(con, "customers", paths, "email", filters["customers"])
        devices = _distinct(con, "events", paths, "anonymous_id", filters["events"])
        devices |= _distinct(con, "consent_logs", paths, "anonymous_id", filters["consent_logs"])
        orders = _distinct(con, "orders", paths, "order_id", filters["orders"])
        reviews = _distinct(con, "reviews", paths, "review_id", filters["reviews"])
        units = _distinct(con, "device_activations", paths, "device_id", filters["device_activations"])
        # A quarantined order still names its customer: its landed children belong to them too.
        rejected = paths.quarantine_for("orders").glob("part-*.parquet")
        for file in rejected:
            orders |= {
                v
                for (v,) in con.execute(
                    "SELECT json_extract_string(payload, '$.order_id') FROM read_parquet(?)"
                    " WHERE json_extract_string(payload, '$.customer_id') = ?"
                    " AND json_extract_string(payload, '$.store_id') = ?",
                    [str(file), customer_id, store_id],
                ).fetchall()
                if v
            }
        # A quarantined row names them too, a line that could not be parsed included (its payload is
        # the line as received): erasure removes it even when nothing of theirs landed.
        quarantined = sum(
            con.execute(f"SELECT count(*) FROM read_parquet(?) WHERE {quarantine_filter(seed)}", [str(f)]).fetchall()[
                0
            ][0]
            for f in sorted(paths.quarantine.glob("*/part-*.parquet"))
        )
    if not (emails or devices or orders or reviews or units or quarantined):
        raise UnknownCustomer(f"no customer {customer_id!r} in store {store_id!r}: nothing to erase or export")
    found = Subject(
        store_id,
        customer_id,
        tuple(sorted(emails)),
        tuple(sorted(devices)),
        tuple(sorted(orders)),
        tuple(sorted(units)),
    )
    return found.with_marked_keys(paths)
