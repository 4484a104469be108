"""Every inbox file gets an outcome: whatever it holds, landing records it in the manifest, lands
or quarantines its rows with a reason (or keeps it whole), and goes on with the other files."""

import gzip
import json

import duckdb
import pytest

from orchestration.contracts import load_contracts
from orchestration.landing import manifest, readers
from orchestration.landing.land import LandingFailed, kept_file, land_source, pending_extracts
from tests.conftest import event, order, write_batches, write_csv


def quarantined(paths, source):
    files = paths.quarantine_for(source) / "*.parquet"
    return duckdb.sql(f"SELECT reason_code, payload FROM '{files}' ORDER BY row_number").fetchall()


def land_beside_a_good_file(paths, source="orders"):
    """Land a source's inbox, where a good extract waits beside the bad one under test."""
    write_csv(paths, "orders", "orders_20261101_good.csv", [order(order_id=f"g{i}") for i in range(20)])
    records = {r.file.split("/")[1]: r for r in land_source(paths, source)}
    good = records.pop("orders_20261101_good.csv", None)
    if source == "orders":
        assert (good.status, good.rows_landed, good.validation_failures) == ("landed", 20, [])
    assert pending_extracts(paths, load_contracts()[source]) == []  # recorded: never landed again
    [bad] = records.values()
    assert manifest.records(paths, source) == sorted([bad, good] if good else [bad], key=lambda r: r.sha256)
    return bad


def assert_kept_whole(paths, record, data: bytes):
    [kept] = (paths.quarantine_for(record.source) / "files").iterdir()
    assert kept.name.startswith(record.extract_id) and kept.read_bytes() == data
    assert (record.rows_received, record.rows_quarantined, record.counts_by_store) == (0, 0, {})


def test_an_empty_file_is_rejected_as_empty_and_kept(paths):
    target = paths.inbox_for("orders") / "orders_20261102.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    record = land_beside_a_good_file(paths)
    assert (record.status, record.reason) == ("rejected", "empty_file")
    assert record.validation_failures == [
        "orders/orders_20261102.csv: rejected, empty_file: the file holds no bytes but blank space"
    ]
    assert_kept_whole(paths, record, b"")


def test_a_truncated_gzip_file_is_unreadable_with_the_decoders_message(paths):
    target = write_batches(
        paths,
        "events_20261101_0000.jsonl.gz",
        [{"sent_at": "2026-11-01T09:00:00Z", "received_at": "2026-11-01T09:00:00Z", "events": [event("e1")]}],
    )
    data = target.read_bytes()[:-12]
    target.write_bytes(data)
    record = land_beside_a_good_file(paths, "events")
    assert (record.status, record.reason) == ("rejected", "unreadable_file")
    assert record.detail == "EOFError: Compressed file ended before the end-of-stream marker was reached"
    assert_kept_whole(paths, record, data)


def test_a_corrupt_gzip_stream_is_unreadable_with_the_decoders_message(paths):
    """Corrupt compressed data (not a truncation): the count's decoder (ISA-L's) names it, and the
    file is kept whole like any other it cannot read."""
    target = write_batches(
        paths,
        "events_20261101_0000.jsonl.gz",
        [{"sent_at": "2026-11-01T09:00:00Z", "received_at": "2026-11-01T09:00:00Z", "events": [event("e1")]}],
    )
    data = target.read_bytes()
    # The first deflate block, past the header and its file name, given the block type no encoder
    # writes (the two bits 11).
    blocks = data.index(b"\x00", 10) + 1
    data = data[:blocks] + b"\xff" + data[blocks + 1 :]
    target.write_bytes(data)
    record = land_beside_a_good_file(paths, "events")
    assert (record.status, record.reason) == ("rejected", "unreadable_file")
    assert record.detail == "IsalError: Error -1 Invalid deflate block found"
    assert_kept_whole(paths, record, data)


def test_binary_junk_is_unreadable_and_kept_whole(paths):
    target = paths.inbox_for("orders") / "orders_20261102.csv"
    target.parent.mkdir(parents=True)
    junk = bytes(range(256)) * 4
    target.write_bytes(junk)
    record = land_beside_a_good_file(paths)
    assert (record.status, record.reason) == ("rejected", "unreadable_file")
    # Its first line happens to decode (bytes 0 to 9): no header of the contract there.
    assert record.detail.startswith("header lacks required column(s) order_id, store_id")
    assert_kept_whole(paths, record, junk)


def test_a_byte_that_is_not_utf8_quarantines_its_line_only(paths):
    target = write_csv(paths, "orders", "orders_20261102.csv", [order(order_id=f"o{i}") for i in range(30)])
    target.write_bytes(
        target.read_bytes() + b"o99,us,c\xe9,k1,2026-11-01T10:00:00Z,paid,USD,1.00,0,0,0,1.00,,web,x\r\n"
    )
    record = land_beside_a_good_file(paths)
    assert (record.status, record.rows_received, record.rows_landed) == ("landed", 31, 30)
    assert record.quarantined_by_reason == {"unparseable_row": 1}
    [(_, payload)] = quarantined(paths, "orders")
    assert json.loads(payload)["error"].startswith("Invalid unicode (byte sequence mismatch) detected.")


def test_a_file_with_another_delimiter_is_rejected_line_by_line(paths):
    rows = [order(order_id=f"o{i}") for i in range(3)]
    target = paths.inbox_for("orders") / "orders_20261102.csv"
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(";".join(row) for row in [list(rows[0]), *[list(r.values()) for r in rows]]) + "\n")
    record = land_beside_a_good_file(paths)
    assert (record.status, record.reason) == ("rejected", "wrong_delimiter")
    assert record.detail == "columns are separated by semicolon, the contract's by comma"
    assert record.quarantined_by_reason == {"unreadable_file": 3}
    assert (record.rows_received, record.rows_quarantined) == (3, 3)
    lines = quarantined(paths, "orders")
    assert [(reason, json.loads(payload)["line"].split(";")[0]) for reason, payload in lines] == [
        ("unreadable_file", "o0"), ("unreadable_file", "o1"), ("unreadable_file", "o2")
    ]  # fmt: skip


def test_a_line_of_40_megabytes_is_quarantined_as_too_long(paths):
    target = write_csv(paths, "orders", "orders_20261102.csv", [order(order_id=f"o{i}") for i in range(30)])
    long_line = f"long,us,c1,k1,2026-11-01T10:00:00Z,paid,USD,1.00,0,0,0,1.00,{'x' * (40 << 20)},web,x\r\n"
    with target.open("a") as handle:
        handle.write(long_line)
    record = land_beside_a_good_file(paths)
    assert (record.status, record.records_counted, record.records_read) == ("landed", 31, 31)
    assert (record.rows_received, record.rows_landed, record.quarantined_by_reason) == (31, 30, {"line_too_long": 1})
    assert record.is_conserved
    [(_, payload)] = quarantined(paths, "orders")
    kept = json.loads(payload)
    assert kept["bytes"] > 40 << 20 and json.loads(kept["line_start"][:1000] + '"}')["order_id"] == "long"


def test_a_broken_json_line_rejects_its_events_file_line_by_line(paths):
    target = write_batches(
        paths,
        "events_20261101_0000.jsonl.gz",
        [{"sent_at": "2026-11-01T09:00:00Z", "received_at": "2026-11-01T09:00:00Z", "events": [event("e1")]}] * 2,
    )
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    target.write_bytes(gzip.compress(f"{lines[0]}\n{lines[1][:40]}\n".encode()))
    record = land_beside_a_good_file(paths, "events")
    assert (record.status, record.reason, record.quarantined_by_reason) == (
        "rejected", "unreadable_file", {"unreadable_file": 2}
    )  # fmt: skip
    assert record.detail.startswith("not JSONL batches of the events contract: Invalid Input Error: Malformed JSON")
    assert record.validation_failures[0].startswith("events/events_20261101_0000.jsonl.gz: rejected, unreadable_file:")


def test_a_record_the_parser_drops_breaks_conservation_and_rejects_the_file(paths, monkeypatch):
    write_csv(paths, "orders", "orders_20261102.csv", [order(order_id=f"o{i}") for i in range(30)])
    load_csv = readers._load_csv

    def losing_a_row(con, contract, path, count):
        load_csv(con, contract, path, count)
        if path.name == "orders_20261102.csv":
            con.execute(f"DELETE FROM {readers.RAW_TABLE} WHERE _row_number = 7")
        return con.execute(f"SELECT count(*) FROM {readers.RAW_TABLE}").fetchall()[0][0]

    monkeypatch.setattr(readers, "_load_csv", losing_a_row)
    record = land_beside_a_good_file(paths)
    assert (record.status, record.reason, record.records_counted) == ("rejected", "rows_unaccounted", 30)
    assert record.detail == "the parser read 29 of the file's 30 records"
    assert record.quarantined_by_reason == {"unreadable_file": 30}  # every line kept, with the reason
    landed = paths.raw_for("orders") / "*" / "*.parquet"
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT _extract_id) FROM '{landed}'").fetchall() == [(20, 1)]


def test_a_failure_outside_the_files_content_stops_no_other_file(paths, monkeypatch):
    write_csv(paths, "orders", "orders_20261102.csv", [order(order_id=f"o{i}") for i in range(30)])
    load_raw = readers.load_raw

    def disk_error_on_one(con, contract, path, count):
        if path.name == "orders_20261102.csv":
            raise OSError("No space left on device")
        return load_raw(con, contract, path, count)

    monkeypatch.setattr(readers, "load_raw", disk_error_on_one)
    write_csv(paths, "orders", "orders_20261101_good.csv", [order(order_id=f"g{i}") for i in range(20)])
    with pytest.raises(LandingFailed, match=r"orders_20261102\.csv: OSError: No space left on device") as failed:
        land_source(paths, "orders")
    assert list(failed.value.errors) == ["orders_20261102.csv"]
    [good] = manifest.records(paths, "orders")
    assert (good.file, good.rows_landed) == ("orders/orders_20261101_good.csv", 20)
    monkeypatch.undo()
    [retried] = land_source(paths, "orders")  # not recorded, so landed by the next run
    assert (retried.file, retried.rows_landed) == ("orders/orders_20261102.csv", 30)


def test_kept_file_is_named_by_the_extract(paths):
    from orchestration.landing.land import Extract

    extract = Extract("orders", paths.inbox_for("orders") / "x.csv", "ab" * 32)
    assert kept_file(paths, extract) == paths.quarantine / "orders" / "files" / f"{'ab' * 8}-x.csv"


def test_a_header_that_is_not_utf8_is_unreadable_with_the_decoders_message(paths):
    target = paths.inbox_for("orders") / "orders_20261102.csv"
    target.parent.mkdir(parents=True)
    data = b"order_id,st\xffore_id\r\no1,us\r\n"
    target.write_bytes(data)
    record = land_beside_a_good_file(paths)
    assert (record.status, record.reason) == ("rejected", "unreadable_file")
    assert record.detail == (
        "header is not UTF-8: 'utf-8' codec can't decode byte 0xff in position 11: invalid start byte"
    )
    assert_kept_whole(paths, record, data)


def test_an_event_the_parser_drops_breaks_conservation_and_an_empty_batch_does_not(paths, monkeypatch):
    batch = {"sent_at": "2026-11-01T09:00:00Z", "received_at": "2026-11-01T09:00:00Z"}
    write_batches(
        paths,
        "events_20261101_0000.jsonl.gz",
        [{**batch, "events": [event(f"e{i}"), event(f"f{i}")]} for i in range(15)] + [{**batch, "events": []}],
    )
    load_jsonl = readers._load_jsonl_batches

    def losing_an_event(con, contract, path):
        load_jsonl(con, contract, path)
        con.execute(f"DELETE FROM {readers.RAW_TABLE} WHERE event_id = 'f3'")
        return con.execute(
            f"SELECT sum(n // _batch_size) FROM (SELECT _batch_size, count(*) n FROM {readers.RAW_TABLE} GROUP BY 1)"
        ).fetchall()[0][0]

    monkeypatch.setattr(readers, "_load_jsonl_batches", losing_an_event)
    [record] = land_source(paths, "events")
    assert (record.status, record.reason, record.detail) == (
        "rejected", "rows_unaccounted", "the parser read 14 of the file's 15 records"
    )  # fmt: skip
    assert not paths.raw_for("events").exists()

    monkeypatch.undo()
    write_batches(
        paths,
        "events_20261101_0001.jsonl.gz",
        [{**batch, "events": [event(f"g{i}"), event(f"h{i}")]} for i in range(15)] + [{**batch, "events": []}],
    )
    [landed] = land_source(paths, "events")
    assert (landed.status, landed.records_counted, landed.records_read, landed.rows_landed) == ("landed", 15, 15, 30)
