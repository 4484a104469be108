"""Extracts of a run are staged in parallel and settled in delivery order: landing with one worker
or with two writes the same bytes and the same manifest, and a crash while settling or
committing leaves nothing under a final name that its record does not vouch for."""

import datetime as dt
import json
import shutil

import duckdb
import pytest

from orchestration.landing import land, manifest
from orchestration.landing.land import STAGING, WORKERS_ENV, land_source
from orchestration.settings import DataPaths
from tests.conftest import event, order, write_batches, write_csv

NOW = dt.datetime(2026, 11, 6, 12, 0, tzinfo=dt.UTC)
SOURCES = ("events", "orders")


class Crash(BaseException):
    """The process dying: no handler of landing's catches it."""


def deliver(paths: DataPaths) -> None:
    """Two clickstream files, the second re-sending 10 events of the first, with late events (an
    offline device's, received 20 hours after); three order exports: the newest dates first,
    then one of older, late orders, then one with another delimiter (rejected whole)."""
    at, late = "2026-11-01T09:00:00.000Z", "2026-11-02T05:00:00.000Z"
    write_batches(
        paths,
        "events_20261101_0000.jsonl.gz",
        [
            {"sent_at": at, "received_at": at, "events": [event(f"e{i}") for i in range(30)]},
            {"sent_at": late, "received_at": late, "events": [event(f"l{i}") for i in range(5)]},
        ],
    )
    write_batches(
        paths,
        "events_20261101_0100.jsonl.gz",
        [{"sent_at": at, "received_at": at, "events": [event(f"e{i}") for i in range(20, 50)]}],
    )
    newest = "2026-11-05T10:00:00.000Z"
    write_csv(paths, "orders", "orders_1.csv", [order(order_id=f"n{i}", placed_at=newest) for i in range(20)])
    write_csv(paths, "orders", "orders_2.csv", [order(order_id=f"o{i}") for i in range(20)])
    folder = paths.inbox_for("orders")
    (folder / "orders_3.csv").write_text("order_id;store_id;placed_at\na;us;2026-11-05T10:00:00.000Z\n")


def land_with(paths: DataPaths, workers: int, monkeypatch) -> dict[str, list]:
    monkeypatch.setenv(WORKERS_ENV, str(workers))
    monkeypatch.setattr(land, "_machine_now", lambda: NOW)
    return {source: land_source(paths, source) for source in SOURCES}


def files_under(paths: DataPaths) -> dict[str, bytes]:
    """Every file landing wrote, by its place under DATA_DIR (the inbox and the clock aside)."""
    return {
        str(p.relative_to(paths.root)): p.read_bytes()
        for p in sorted(paths.root.rglob("*"))
        if p.is_file() and p.relative_to(paths.root).parts[0] in ("raw", "quarantine", "manifest", STAGING)
    }


def copy_inbox(paths: DataPaths, root) -> DataPaths:
    other = DataPaths(root)
    shutil.copytree(paths.inbox, other.inbox, copy_function=shutil.copy2)  # arrival times kept
    return other


def test_one_worker_and_two_land_the_same_bytes_and_manifest(paths, tmp_path, monkeypatch):
    deliver(paths)
    serial = copy_inbox(paths, tmp_path / "serial")
    parallel = land_with(paths, 2, monkeypatch)
    one = land_with(serial, 1, monkeypatch)

    assert files_under(paths) == files_under(serial)
    assert [p for p in files_under(paths) if p.startswith("raw/")] == sorted(
        [
            "raw/events/date=2026-11-01/part-" + parallel["events"][0].extract_id + ".parquet",
            "raw/events/date=2026-11-01/part-" + parallel["events"][1].extract_id + ".parquet",
            "raw/orders/date=2026-11-01/part-" + parallel["orders"][1].extract_id + ".parquet",
            "raw/orders/date=2026-11-05/part-" + parallel["orders"][0].extract_id + ".parquet",
        ]
    )
    for source in SOURCES:
        assert [json.dumps(vars(r), sort_keys=True) for r in parallel[source]] == [
            json.dumps(vars(r), sort_keys=True) for r in one[source]
        ]
        assert manifest.records(paths, source) == manifest.records(serial, source)
    first, second = parallel["events"]
    # The second file's copies of e20..e29 are dropped against the first, landed in the same run.
    assert (first.rows_landed, first.late_rows, first.duplicates_already_landed) == (35, 5, 0)
    assert (second.rows_landed, second.duplicates_already_landed, second.duplicates_dropped) == (20, 10, 10)
    newest, older, rejected = parallel["orders"]
    # Older orders are late against the newest date landed before them in the run: 2026-11-05.
    assert (newest.late_rows, older.late_rows, older.rows_landed) == (0, 20, 20)
    assert (rejected.status, rejected.reason) == ("rejected", "wrong_delimiter")
    assert [r.sequence for r in parallel["orders"]] == [1, 2, 3]


@pytest.mark.parametrize("at", ["settling", "committing"])
def test_a_crash_after_parallel_staging_lands_nothing_unrecorded_and_the_rerun_lands_once(
    paths, tmp_path, monkeypatch, at
):
    deliver(paths)
    clean = copy_inbox(paths, tmp_path / "clean")
    land_with(clean, 1, monkeypatch)
    monkeypatch.setenv(WORKERS_ENV, "2")
    if at == "settling":  # the serial phase, on the second extract: no record written yet
        real = land._repeats_earlier
        calls = []

        def crash(con, paths, contract, record, earlier):
            calls.append(record)
            if len(calls) == 2:
                raise Crash
            return real(con, paths, contract, record, earlier)

        monkeypatch.setattr(land, "_repeats_earlier", crash)
    else:  # the commit, on the second extract's record: the first is recorded and in place
        real_write = manifest.write_record
        written = []

        def crash(paths, record):
            written.append(record)
            if len(written) == 2:
                raise Crash
            real_write(paths, record)

        monkeypatch.setattr(manifest, "write_record", crash)
    with pytest.raises(Crash):
        land_source(paths, "events")

    recorded = {r.extract_id for r in manifest.records(paths, "events")}
    assert len(recorded) == (0 if at == "settling" else 1)
    final = [p for p in paths.root.rglob("*.parquet") if STAGING not in p.relative_to(paths.root).parts]
    # Under a final name, only files of a recorded extract, and no temporary file anywhere.
    assert all(p.stem.removeprefix("part-") in recorded for p in final)
    assert len(final) == len(recorded)
    assert not [p for p in paths.root.rglob(".*") if p.is_file()]

    monkeypatch.undo()
    landed = land_with(paths, 2, monkeypatch)["events"]
    assert len(landed) == (2 if at == "settling" else 1)
    assert land_source(paths, "events") == []  # exactly once
    # As a clean landing, but for the landing stamp (the rerun is a later run).
    assert landed_rows(paths) == landed_rows(clean)
    recorded, expected = manifest.records(paths, "events"), manifest.records(clean, "events")
    assert [counts(r) for r in recorded] == [counts(r) for r in expected]
    assert list((paths.root / STAGING).rglob("*.parquet")) == []


def landed_rows(paths: DataPaths) -> list[tuple]:
    glob = paths.raw_for("events") / "*" / "*.parquet"
    return duckdb.sql(f"SELECT * EXCLUDE (_landed_at) FROM read_parquet('{glob}') ORDER BY ALL").fetchall()


def counts(record: manifest.ManifestRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k != "landed_at"}
