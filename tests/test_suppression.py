"""Erasure that sticks: landing drops every row naming an erased subject, counts it, writes it nowhere."""

import hashlib
import hmac

import duckdb

from orchestration.landing import suppression
from orchestration.landing.land import land_source
from tests.conftest import event, order, write_batches, write_csv

KEY = "suppression-test-key"


def keyed(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def written(paths, value: str) -> list[str]:
    """Files of raw and quarantine whose text holds the value."""
    files = [*paths.raw.rglob("*.parquet"), *paths.quarantine.rglob("*.parquet")]
    return [
        str(f)
        for f in files
        if duckdb.execute(
            "SELECT count(*) FROM read_parquet(?) t WHERE contains(CAST(t AS VARCHAR), ?)", [str(f), value]
        ).fetchall()[0][0]
    ]


def test_rows_naming_an_erased_subject_are_dropped_at_landing_and_counted(paths, monkeypatch):
    monkeypatch.setenv("PII_HMAC_KEY", KEY)
    # Erased in store us: a customer, one of their orders, and a device. The same customer id in
    # store uk is another person, and stays.
    suppression.suppress(paths, "us", [keyed("c-erased"), keyed("o-erased-old"), keyed("a-erased")])
    rows = [order(order_id=f"o{i}") for i in range(30)]
    rows += [order(order_id="o-new", customer_id="c-erased")]  # a new order of theirs
    rows += [order(order_id="o-bad", customer_id="c-erased", currency="XXX")]  # broken too: still dropped
    rows += [order(order_id="o-erased-old", customer_id="c-guest")]  # their old order, re-sent
    rows += [order(order_id="o-uk", store_id="uk", customer_id="c-erased")]
    write_csv(paths, "orders", "orders_20261101.csv", rows)
    [orders] = land_source(paths, "orders")
    assert (orders.status, orders.rows_received, orders.rows_landed, orders.rows_erased_subject) == (
        "landed",
        34,
        31,
        3,
    )
    assert orders.counts_by_store["us"]["erased_subject"] == 3 and orders.counts_by_store["uk"]["erased_subject"] == 0
    assert orders.rows_quarantined == 0 and orders.is_conserved

    events = [event(f"e{i}") for i in range(30)]
    events += [event("e-device", anonymous_id="a-erased"), event("e-user", user_id="c-erased")]
    write_batches(paths, "events_20261101_0000.jsonl.gz", [
        {"sent_at": "2026-11-01T09:00:00Z", "received_at": "2026-11-01T09:00:00Z", "events": events}
    ])  # fmt: skip
    [clicks] = land_source(paths, "events")
    assert (clicks.rows_received, clicks.rows_landed, clicks.rows_erased_subject) == (32, 30, 2)
    assert clicks.is_conserved

    assert written(paths, "a-erased") == [] and written(paths, "o-erased-old") == []
    [uk_file] = written(paths, "c-erased")  # only the uk customer of that id
    assert duckdb.execute(
        "SELECT DISTINCT store_id FROM read_parquet(?) WHERE customer_id = 'c-erased'", [uk_file]
    ).fetchall() == [("uk",)]
    # The list holds keyed hashes only, readable by its owner alone.
    text = suppression.list_path(paths).read_text()
    assert "erased" not in text and keyed("c-erased") in text
    assert suppression.list_path(paths).stat().st_mode & 0o777 == 0o600


def test_without_erasures_landing_reads_no_list(paths):
    write_csv(paths, "orders", "orders_20261101.csv", [order(order_id=f"o{i}") for i in range(20)])
    [record] = land_source(paths, "orders")
    assert (record.rows_landed, record.rows_erased_subject) == (20, 0)
    assert not suppression.list_path(paths).exists()
