"""An extract's failure is its own: the other extracts of the run land as if it had never come,
and an extract re-delivered in a new file lands as duplicates, counted, failing no gate."""

import duckdb

from orchestration.landing import manifest
from orchestration.landing.land import land_source
from tests.conftest import event, order, write_batches, write_csv

AT = "2026-11-01T09:00:00.000Z"


def landed(paths, source, columns):
    glob = paths.raw_for(source) / "*" / "*.parquet"
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{glob}') ORDER BY ALL").fetchall()


def batch(events):
    return [{"sent_at": AT, "received_at": AT, "events": events}]


def test_a_failed_extract_takes_no_other_extract_of_its_run_with_it(paths, tmp_path_factory):
    # The first file holds mostly broken rows (its batch fails) and copies of events the second sends.
    broken = [event(f"x{i}", event_type="teleport") for i in range(30)]
    write_batches(paths, "events_20261101_0000.jsonl.gz", batch([event(f"e{i}") for i in range(10)] + broken))
    write_batches(paths, "events_20261101_0100.jsonl.gz", batch([event(f"e{i}") for i in range(40)]))
    write_csv(paths, "orders", "orders_20261101_a.csv", [order(order_id="bad", currency="XXX")])
    write_csv(paths, "orders", "orders_20261101_b.csv", [order(order_id=f"o{i}") for i in range(20)])
    events_failed, events_good = land_source(paths, "events")
    orders_failed, orders_good = land_source(paths, "orders")

    assert [r.status for r in (events_failed, orders_failed)] == ["failed_validation"] * 2
    assert [r.status for r in (events_good, orders_good)] == ["landed"] * 2
    assert (events_good.rows_landed, events_good.duplicates_dropped, events_good.validation_failures) == (40, 0, [])
    assert (orders_good.rows_landed, orders_good.validation_failures) == (20, [])
    assert events_failed.validation_failures == [
        "events/events_20261101_0000.jsonl.gz: 30 of 40 rows quarantined (not_allowed:event_type: 30), more than 5%"
    ]
    assert all(r.is_conserved for r in (events_failed, events_good, orders_failed, orders_good))

    # Raw holds exactly what a clean delivery of the good files alone lands.
    clean = type(paths)(tmp_path_factory.mktemp("clean") / "data")
    write_batches(clean, "events_20261101_0100.jsonl.gz", batch([event(f"e{i}") for i in range(40)]))
    write_csv(clean, "orders", "orders_20261101_b.csv", [order(order_id=f"o{i}") for i in range(20)])
    land_source(clean, "events")
    land_source(clean, "orders")
    for source, columns in (("events", "event_id, event_at, page_url"), ("orders", "order_id, total_amount")):
        assert landed(paths, source, columns) == landed(clean, source, columns)
    assert len(landed(paths, "events", "event_id")) == 40


def test_an_extract_re_delivered_in_a_new_file_lands_as_counted_duplicates(paths):
    write_batches(paths, "events_20261101_0000.jsonl.gz", batch([event(f"e{i}") for i in range(25)]))
    [first] = land_source(paths, "events")
    # The source re-sends yesterday's export: the same events, in a file of other bytes.
    write_batches(
        paths,
        "events_20261102_resent.jsonl.gz",
        [{"sent_at": AT, "received_at": AT, "events": [event(f"e{i}") for i in reversed(range(25))]}],
    )
    [again] = land_source(paths, "events")
    assert again.sha256 != first.sha256
    assert (again.status, again.validation_failures) == ("landed", [])
    assert (again.rows_received, again.rows_landed, again.duplicates_already_landed) == (25, 0, 25)
    assert again.is_conserved
    assert len(landed(paths, "events", "event_id")) == 25
    assert [r.status for r in manifest.records(paths, "events")] == ["landed", "landed"]
