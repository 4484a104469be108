"""Landing takes only complete files: one appended to while it is landed is left for the next run
and then lands whole; one no delivery marker vouches for waits for its settle period."""

import os

import duckdb

from orchestration.landing import delivery, manifest, readers
from orchestration.landing.land import land_source
from tests.conftest import event, write_batches

HEADER = "payment_attempt_id,order_id,store_id,attempted_at,gateway,method,status,amount,currency,latency_ms,risk_score"


def attempt(i: int, risk: str = "15") -> str:
    return f"pay-{i},o{i},us,2026-11-01T10:00:00.000Z,stripe,card,captured,10.00,USD,120,{risk}"


def test_a_file_appended_to_while_it_is_landed_waits_then_lands_whole(paths, monkeypatch):
    path = paths.inbox_for("payment_attempts") / "payment_attempts_20261101.csv"
    path.parent.mkdir(parents=True)
    rows = [attempt(i) for i in range(30)]
    # The source is writing: the last row is cut in the middle of its risk score, 15.
    path.write_text(HEADER + "\n" + "\n".join(rows)[:-1])
    count_records = readers.count_records

    def source_writes_on(file, contract):
        counted = count_records(file, contract)
        with file.open("a") as handle:
            handle.write("5\n" + attempt(30) + "\n")
        return counted

    monkeypatch.setattr(readers, "count_records", source_writes_on)
    assert land_source(paths, "payment_attempts") == []
    assert manifest.records(paths, "payment_attempts") == []
    assert not paths.raw_for("payment_attempts").exists()

    monkeypatch.undo()
    [record] = land_source(paths, "payment_attempts")
    assert (record.status, record.rows_received, record.rows_landed) == ("landed", 31, 31)
    glob = paths.raw_for("payment_attempts") / "*" / "*.parquet"
    risks = duckdb.sql(f"SELECT DISTINCT risk_score FROM '{glob}'").fetchall()
    assert risks == [(15,)]


def test_a_file_without_a_marker_waits_for_its_settle_period(paths, monkeypatch):
    monkeypatch.setenv(delivery.SETTLE_ENV, "3600")
    events = [event(f"e{i}") for i in range(20)]
    at = "2026-11-01T09:00:00.000Z"
    path = write_batches(paths, "events_20261101_0000.jsonl.gz", [{"sent_at": at, "received_at": at, "events": events}])
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # a gzip stream still being written
    assert land_source(paths, "events") == []  # neither landed nor rejected as truncated
    assert manifest.records(paths, "events") == []

    path.write_bytes(whole)
    assert land_source(paths, "events") == []  # complete, but just written: not yet settled
    hour_ago = path.stat().st_mtime - 3601
    os.utime(path, (hour_ago, hour_ago))
    [record] = land_source(paths, "events")
    assert (record.status, record.rows_landed) == ("landed", 20)


def test_the_delivery_marker_vouches_for_the_files_written_before_it(paths, monkeypatch):
    monkeypatch.setenv(delivery.SETTLE_ENV, "3600")
    at = "2026-11-01T09:00:00.000Z"
    first = write_batches(paths, "events_a.jsonl.gz", [{"sent_at": at, "received_at": at, "events": [event("e1")]}])
    # A temporary name is never taken, marker or not.
    (paths.inbox_for("events") / ".events_b.jsonl.gz").write_bytes(first.read_bytes())
    delivery.mark_delivered(paths.inbox_for("events"))
    later = write_batches(paths, "events_c.jsonl.gz", [{"sent_at": at, "received_at": at, "events": [event("e2")]}])
    marked = paths.inbox_for("events") / delivery.DELIVERY_MARKER
    os.utime(later, ns=(marked.stat().st_mtime_ns + 1, marked.stat().st_mtime_ns + 1))
    [record] = land_source(paths, "events")
    assert record.file == "events/events_a.jsonl.gz"
    delivery.mark_delivered(paths.inbox_for("events"))
    [record] = land_source(paths, "events")
    assert record.file == "events/events_c.jsonl.gz"
