"""Landing of hand-made extracts: every rule, the conservation equation, exactly-once, atomicity."""

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from orchestration.contracts import load_contracts
from orchestration.landing import land, manifest
from orchestration.landing.land import STAGING, LandingFailed, land_source
from orchestration.lib import atomic_files
from tests.conftest import event, order, write_batches, write_csv


def raw_rows(paths, source, columns="*"):
    glob = paths.raw_for(source) / "*" / "*.parquet"
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY ALL").fetchall()


def quarantine_reasons(paths, source):
    glob = paths.quarantine_for(source) / "*.parquet"
    return duckdb.sql(f"SELECT reason_code, field, payload FROM '{glob}' ORDER BY ALL").fetchall()


def test_each_broken_rule_is_quarantined_with_its_reason_and_payload(paths):
    write_csv(
        paths,
        "orders",
        "orders_20261101.csv",
        [
            order(order_id="ok"),
            order(order_id=""),  # missing key
            order(order_id="cur", currency="XXX"),  # unknown currency
            order(order_id="neg", subtotal="-1.00"),  # below the contract minimum
            order(order_id="ts", placed_at="yesterday"),  # unparseable timestamp
            order(order_id="cents", total_amount="1.005"),  # more decimals than money has
            order(order_id="st", status="teleported"),
        ],
    )
    [record] = land_source(paths, "orders")
    assert record.quarantined_by_reason == {
        "missing_required:order_id": 1,
        "not_allowed:currency": 1,
        "out_of_range:subtotal": 1,
        "invalid_type:placed_at": 1,
        "invalid_type:total_amount": 1,
        "not_allowed:status": 1,
        # 6 of 7 rows quarantined is far beyond the batch's tolerance: the batch is held back whole.
        "failed_expectations": 1,
    }
    assert record.status == "failed_validation"
    assert (record.rows_received, record.rows_landed, record.rows_quarantined) == (7, 0, 7)
    assert record.is_conserved
    payloads = {field: payload for _, field, payload in quarantine_reasons(paths, "orders")}
    assert '"currency":"XXX"' in payloads["currency"]
    held_back = paths.quarantine / "orders" / "failed_batches" / record.extract_id / "date=2026-11-01"
    assert duckdb.sql(f"SELECT order_id, total_amount FROM '{held_back}/*.parquet'").fetchall() == [
        ("ok", Decimal("113.00"))
    ]


def test_csv_line_the_parser_cannot_split_is_quarantined_as_unparseable(paths):
    target = write_csv(paths, "orders", "orders_20261101.csv", [order(order_id=f"o{i}") for i in range(30)])
    with target.open("a") as handle:
        handle.write("o99,us,c1,too,few,columns\r\n")
    [record] = land_source(paths, "orders")
    assert record.quarantined_by_reason == {"unparseable_row": 1}
    assert (record.rows_received, record.rows_landed) == (31, 30)
    [(reason, field, payload)] = quarantine_reasons(paths, "orders")
    assert (reason, field) == ("unparseable_row", None)
    assert "o99,us,c1,too,few,columns" in payload


def test_counts_are_split_by_the_store_each_row_names(paths):
    rows = [order(order_id=f"u{i}") for i in range(60)] + [order(order_id=f"k{i}", store_id="uk") for i in range(10)]
    rows += [
        order(order_id="u1", status="cancelled"),  # a changed copy: the older us row is a duplicate
        order(order_id="k-bad", store_id="uk", currency="XXX"),
        order(order_id="nobody", store_id=""),  # no store to count it for
    ]
    target = write_csv(paths, "orders", "orders_20261101.csv", rows)
    with target.open("a") as handle:
        handle.write("o99,us,c1,too,few,columns\r\n")
    [record] = land_source(paths, "orders")
    assert record.counts_by_store == {
        "uk": {"received": 11, "landed": 10, "duplicates": 0, "late": 0,
               "quarantined_by_reason": {"not_allowed:currency": 1}, "erased_subject": 0},
        "unattributed": {"received": 2, "landed": 0, "duplicates": 0, "late": 0,
                         "quarantined_by_reason": {"missing_required:store_id": 1, "unparseable_row": 1},
                         "erased_subject": 0},
        "us": {"received": 61, "landed": 60, "duplicates": 1, "late": 0, "quarantined_by_reason": {},
               "erased_subject": 0},
    }  # fmt: skip
    assert (record.rows_received, record.rows_landed, record.rows_quarantined, record.duplicates_dropped) == (
        74, 70, 3, 1
    )  # fmt: skip
    assert record.is_conserved


def test_late_rows_are_dated_a_day_before_the_newest_landed_date(paths):
    write_csv(
        paths,
        "orders",
        "orders_20261103.csv",
        [order(order_id=f"n{i}", placed_at="2026-11-03T10:00:00Z") for i in range(20)],
    )
    land_source(paths, "orders")
    # A store-local day spans two UTC dates, so the day before the newest is not late; older is.
    rows = [order(order_id=f"y{i}", placed_at="2026-11-02T10:00:00Z") for i in range(20)]
    rows += [order(order_id=f"old{i}", placed_at="2026-11-01T10:00:00Z") for i in range(4)]
    write_csv(paths, "orders", "orders_20261104.csv", rows)
    [record] = land_source(paths, "orders")
    assert record.late_rows == record.counts_by_store["us"]["late"] == 4


def test_broken_lines_of_two_files_landed_together_stay_with_their_own_file(paths):
    for day in ("01", "02"):
        target = write_csv(
            paths, "orders", f"orders_202611{day}.csv", [order(order_id=f"o{day}-{i}") for i in range(30)]
        )
        with target.open("a") as handle:
            handle.write(f"broken-{day},us,c1,too,few,columns\r\n")
    first, second = land_source(paths, "orders")
    assert [first.quarantined_by_reason, second.quarantined_by_reason] == [{"unparseable_row": 1}] * 2
    payloads = [payload for _, _, payload in quarantine_reasons(paths, "orders")]
    assert [("broken-01" in p, "broken-02" in p) for p in payloads] == [(True, False), (False, True)]


def test_file_without_a_required_column_is_quarantined_whole(paths):
    target = paths.inbox_for("orders") / "orders_20261101.csv"
    target.parent.mkdir(parents=True)
    target.write_text("order_id,store_id\no1,us\no2,us\n")
    [record] = land_source(paths, "orders")
    assert record.status == "rejected"
    assert "customer_id" in record.detail
    assert record.quarantined_by_reason == {"unreadable_file": 2}
    assert record.rows_received == record.rows_quarantined == 2
    assert not paths.raw_for("orders").exists()


def test_pattern_rules_apply_to_json_fields(paths):
    events = [event(f"e{i}") for i in range(40)] + [event("bad", context={"platform": "web", "country": "usa"})]
    write_batches(
        paths,
        "events_20261101_0000.jsonl.gz",
        [{"sent_at": "2026-11-01T09:00:00.000Z", "received_at": "2026-11-01T09:00:00.000Z", "events": events}],
    )
    [record] = land_source(paths, "events")
    assert record.quarantined_by_reason == {"pattern_mismatch:country": 1}
    assert (record.rows_landed, record.status) == (40, "landed")


def test_mutable_rows_keep_the_last_copy_of_a_key_within_a_file(paths):
    rows = [order(order_id=f"o{i}") for i in range(20)] + [order(order_id="o3", status="cancelled")]
    write_csv(paths, "orders", "orders_20261101.csv", rows)
    [record] = land_source(paths, "orders")
    assert (record.rows_received, record.rows_landed, record.duplicates_dropped) == (21, 20, 1)
    assert ("o3", "cancelled") in raw_rows(paths, "orders", "order_id, status")


def test_events_are_flattened_skew_corrected_and_deduplicated_across_extracts(paths):
    # The device clock is 2 hours slow: received_at − (sent_at − timestamp) recovers the time.
    day1 = {
        "sent_at": "2026-11-01T08:00:30.000Z",
        "received_at": "2026-11-01T10:00:30.000Z",
        "events": [event(f"e{i}", "2026-11-01T08:00:00.000Z") for i in range(30)] + [event("e0")],
    }
    write_batches(paths, "events_20261101_0000.jsonl.gz", [day1])
    [first] = land_source(paths, "events")
    assert (first.rows_received, first.rows_landed, first.duplicates_dropped) == (31, 30, 1)
    [(event_at, device_at, url, platform)] = duckdb.sql(
        f"SELECT DISTINCT event_at, device_created_at, page_url, platform FROM '{paths.raw_for('events')}/*/*.parquet'"
    ).fetchall()
    assert event_at == dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    assert device_at == dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    assert (url, platform) == ("https://shop.example/p/1", "web")

    # Two days later the device re-sends e1..e3 and finally sends events it queued offline.
    day3 = {
        "sent_at": "2026-11-03T12:00:00.000Z",
        "received_at": "2026-11-03T12:00:00.000Z",
        "events": [event(f"e{i}", "2026-11-01T08:00:00.000Z") for i in (1, 2, 3)]
        + [event(f"late{i}", "2026-10-31T23:00:00.000Z") for i in range(5)]
        + [event(f"new{i}", "2026-11-03T11:00:00.000Z") for i in range(30)],
    }
    write_batches(paths, "events_20261103_0000.jsonl.gz", [day3])
    [second] = land_source(paths, "events")
    assert second.duplicates_already_landed == second.duplicates_dropped == 3
    assert second.rows_by_partition == {"2026-10-31": 5, "2026-11-03": 30}
    assert second.late_rows == 5
    assert second.is_conserved
    by_day = duckdb.sql(
        f"SELECT date, count(*) FROM read_parquet('{paths.raw_for('events')}/*/*.parquet', hive_partitioning = true) "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert by_day == [(dt.date(2026, 10, 31), 5), (dt.date(2026, 11, 1), 30), (dt.date(2026, 11, 3), 30)]


def test_the_postal_area_is_derived_at_landing_at_low_class(paths):
    def customer(customer_id, postal_code):
        return {
            "customer_id": customer_id,
            "store_id": "us",
            "email": f"{customer_id}@example.com",
            "postal_code": postal_code,
            "country": "US",
            "signup_channel": "web",
            "created_at": "2026-11-01T09:00:00Z",
            "updated_at": "2026-11-01T09:00:00Z",
        }

    write_csv(
        paths,
        "customers",
        "customers_20261101.csv",
        [customer("c1", "10001"), customer("c2", " sw1a 1aa"), customer("c3", "")],
    )
    [record] = land_source(paths, "customers")

    assert record.rows_landed == 3
    assert raw_rows(paths, "customers", "customer_id, postal_code, postal_prefix") == [
        ("c1", "10001", "100"),
        ("c2", " sw1a 1aa", "SW1"),
        ("c3", None, None),
    ]
    # The purge clears the medium-class code after 90 days; the low-class area stays 730.
    assert load_contracts()["customers"].field("postal_prefix").pii == "low"


def test_landing_the_same_extract_again_changes_nothing(paths):
    write_csv(paths, "orders", "orders_20261101.csv", [order(order_id=f"o{i}") for i in range(25)])
    [record] = land_source(paths, "orders")
    files = {p: p.stat().st_mtime_ns for p in paths.root.rglob("*") if p.is_file()}
    # The same bytes under another name are the same extract.
    copy = paths.inbox_for("orders") / "orders_20261101_resent.csv"
    copy.write_bytes((paths.inbox_for("orders") / "orders_20261101.csv").read_bytes())
    files[copy] = copy.stat().st_mtime_ns
    assert land_source(paths, "orders") == []
    assert {p: p.stat().st_mtime_ns for p in paths.root.rglob("*") if p.is_file()} == files
    assert manifest.records(paths, "orders") == [record]


def test_the_same_bytes_under_two_names_in_one_inbox_land_once(paths):
    first = write_csv(paths, "orders", "orders_20261101.csv", [order(order_id=f"o{i}") for i in range(25)])
    (paths.inbox_for("orders") / "orders_20261101_copy.csv").write_bytes(first.read_bytes())
    [record] = land_source(paths, "orders")
    assert (record.file, record.rows_landed) == ("orders/orders_20261101.csv", 25)
    assert len(raw_rows(paths, "orders")) == 25


def test_a_crash_mid_write_leaves_no_landed_file_and_the_retry_lands_once(paths, monkeypatch):
    rows = [order(order_id=f"a{i}") for i in range(20)]
    rows += [order(order_id=f"b{i}", placed_at="2026-11-02T10:00:00.000Z") for i in range(20)]
    write_csv(paths, "orders", "orders_20261102.csv", rows)
    real_publish = atomic_files.publish
    calls = []

    def crash_on_second_file(tmp, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError("disk unplugged")
        real_publish(tmp, target)

    monkeypatch.setattr(atomic_files, "publish", crash_on_second_file)
    with pytest.raises(LandingFailed, match=r"orders_20261102\.csv: OSError: disk unplugged"):
        land_source(paths, "orders")
    # Nothing reached raw, and nothing is left staged: the extract is simply not landed yet.
    assert [p for p in paths.root.rglob("*") if p.is_file() and ("manifest" in p.parts or "raw" in p.parts)] == []
    assert list((paths.root / STAGING).rglob("*.parquet")) == []

    monkeypatch.setattr(atomic_files, "publish", real_publish)
    [record] = land_source(paths, "orders")
    assert record.rows_by_partition == {"2026-11-01": 20, "2026-11-02": 20}
    assert len(raw_rows(paths, "orders")) == 40
    assert land_source(paths, "orders") == []


def test_a_crash_after_the_record_is_finished_by_the_next_run(paths, monkeypatch):
    rows = [order(order_id=f"a{i}") for i in range(20)]
    rows += [order(order_id=f"b{i}", placed_at="2026-11-02T10:00:00.000Z") for i in range(20)]
    write_csv(paths, "orders", "orders_20261102.csv", rows)
    monkeypatch.setattr(land, "_publish_staged", lambda paths, record: None)  # the process dies here
    [record] = land_source(paths, "orders")
    # Recorded, but no file of it in raw yet: raw never holds a file without its record.
    assert manifest.records(paths, "orders") == [record]
    assert not paths.raw_for("orders").exists()

    monkeypatch.undo()
    assert land_source(paths, "orders") == []  # the next run moves the staged files into place
    assert len(raw_rows(paths, "orders")) == 40
    assert list((paths.root / STAGING).rglob("*.parquet")) == []
