"""Plausible time: rows dated far in the future or before the floor are quarantined and do not
poison the late-row counts, and landing stamps follow the landing sequence, not the clock."""

import datetime as dt
import os

from orchestration import health
from orchestration.landing import land
from orchestration.landing.land import land_source
from tests.conftest import event, order, write_batches, write_csv


def test_far_future_and_far_past_dates_are_quarantined_and_late_counts_stay_true(paths):
    soon = (land._machine_now() + dt.timedelta(days=1)).isoformat()  # within the tolerance: lands
    rows = [order(order_id=f"n{i}", placed_at="2026-11-03T10:00:00Z") for i in range(40)]
    rows += [
        order(order_id="future", placed_at="2030-01-01T00:00:00Z"),
        order(order_id="past", placed_at="1999-12-31T00:00:00Z"),
        order(order_id="soon", placed_at=soon),
    ]
    write_csv(paths, "orders", "orders_20261103.csv", rows)
    [first] = land_source(paths, "orders")
    assert first.quarantined_by_reason == {"out_of_range:placed_at": 2}
    assert (first.status, first.rows_landed, sorted(first.rows_by_partition)[0]) == ("landed", 41, "2026-11-03")

    # The next regular extract: only its rows dated before the day before 2026-11-03 are late,
    # not every row dated before the one order from tomorrow.
    rows = [order(order_id=f"y{i}", placed_at="2026-11-02T10:00:00Z") for i in range(20)]
    rows += [order(order_id=f"old{i}", placed_at="2026-11-01T10:00:00Z") for i in range(4)]
    write_csv(paths, "orders", "orders_20261104.csv", rows)
    [second] = land_source(paths, "orders")
    assert second.late_rows == 4


def test_an_event_from_a_clock_set_to_2030_is_quarantined_by_its_corrected_time(paths):
    at = "2026-11-01T09:00:00.000Z"
    events = [event(f"e{i}") for i in range(40)]
    skewed = {
        "sent_at": "2030-01-01T00:00:00.000Z",
        "received_at": at,
        "events": [event("dev", "2030-01-01T00:00:00.000Z")],
    }
    future = {
        "sent_at": "2030-01-01T00:00:00.000Z",
        "received_at": "2030-01-01T00:00:00.000Z",
        "events": [event("x", "2030-01-01T00:00:00.000Z")],
    }
    write_batches(paths, "events_1.jsonl.gz", [{"sent_at": at, "received_at": at, "events": events}, skewed, future])
    [record] = land_source(paths, "events")
    # The device's own clock is corrected by the collector's: only the collector's 2030 is implausible.
    assert record.quarantined_by_reason == {"out_of_range:event_at": 1}
    assert record.rows_landed == 41


def test_landing_stamps_follow_the_landing_sequence_when_the_clock_is_behind(paths, monkeypatch):
    write_csv(paths, "orders", "orders_1.csv", [order(order_id=f"a{i}") for i in range(20)])
    [first] = land_source(paths, "orders")
    behind = dt.datetime.fromisoformat(first.landed_at) - dt.timedelta(days=1)
    monkeypatch.setattr(land, "_machine_now", lambda: behind)
    write_csv(paths, "orders", "orders_2.csv", [order(order_id=f"b{i}") for i in range(20)])
    [second] = land_source(paths, "orders")
    assert dt.datetime.fromisoformat(second.landed_at) == dt.datetime.fromisoformat(first.landed_at) + dt.timedelta(
        seconds=1
    )


def test_the_record_keeps_when_the_extract_arrived_in_the_inbox(paths):
    extract = write_csv(paths, "orders", "orders_1.csv", [order(order_id=f"a{i}") for i in range(20)])
    arrived = dt.datetime(2026, 11, 1, 22, 0, tzinfo=dt.UTC)
    os.utime(extract, (arrived.timestamp(), arrived.timestamp()))
    [record] = land_source(paths, "orders")
    assert dt.datetime.fromisoformat(record.arrived_at) == arrived
    assert health._delay_hours(record) == (dt.datetime.fromisoformat(record.landed_at) - arrived).total_seconds() / 3600
