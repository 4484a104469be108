"""Unit tests of the shared helpers in orchestration/lib (no pipeline is run)."""

import hashlib
import os
import threading

import duckdb
import pytest

from orchestration.lib import atomic_files
from orchestration.lib.content_hash import content_hash
from orchestration.lib.file_locks import LockTimeout, exclusive
from orchestration.lib.in_memory_duckdb import connect
from orchestration.lib.parquet_output import PARQUET_OPTIONS
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.settings import DataPaths


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("store_id", '"store_id"'), ('we"ird', '"we""ird"'), ("", '""')],
)
def test_quote_ident_doubles_double_quotes(name, quoted):
    assert quote_ident(name) == quoted


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("EUR", "'EUR'"), ("O'Brien", "'O''Brien'"), ("''", "''''''")],
)
def test_quote_literal_doubles_single_quotes(value, quoted):
    assert quote_literal(value) == quoted


def test_quoted_values_round_trip_through_duckdb():
    with duckdb.connect() as con:
        row = con.execute(f"SELECT {quote_literal(chr(39) + 'x')} AS {quote_ident('a' + chr(34) + 'b')}").fetchone()
        assert row == ("'x",)
        assert con.description[0][0] == 'a"b'


def test_content_hash_is_the_sha256_of_the_bytes(tmp_path):
    body = b"x" * ((1 << 20) + 7)  # more than one read chunk
    (tmp_path / "f").write_bytes(body)
    assert content_hash(tmp_path / "f") == hashlib.sha256(body).hexdigest()


def test_atomic_write_leaves_no_temporary_file_on_success_or_failure(tmp_path):
    target = tmp_path / "deep" / "out.json"
    atomic_files.write_text_atomic(target, "{}")
    assert target.read_text() == "{}"

    def half_write(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_files.write_atomic(target, half_write)
    assert target.read_text() == "{}"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.json"]


def test_a_held_lock_times_out_for_the_second_holder(tmp_path):
    paths = DataPaths(tmp_path)
    with exclusive(paths, "warehouse"):
        errors = []

        def second():
            try:
                with exclusive(paths, "warehouse", timeout=0.3):
                    pass
            except LockTimeout as exc:
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    assert len(errors) == 1
    with exclusive(paths, "warehouse", timeout=0.3):  # released on exit
        pass


def test_scratch_duckdb_is_utc_and_parquet_options_write(tmp_path):
    with connect() as con:
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
        out = tmp_path / "x.parquet"
        con.execute(f"COPY (SELECT 1 AS a) TO {quote_literal(str(out))} ({PARQUET_OPTIONS})")
        meta = con.execute(f"SELECT compression FROM parquet_metadata({quote_literal(str(out))})").fetchone()
        assert meta == ("ZSTD",)


def test_scratch_duckdbs_working_at_once_split_memory_and_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with connect(shared_by=2) as con:
        limit, threads = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    assert threads == 2
    # DuckDB prints the limit rounded, in the largest fitting unit: 40 % of RAM, give or take 1 %.
    value, unit = limit.split()
    assert abs(float(value) * 1024 ** {"MiB": 2, "GiB": 3}[unit] / (ram * 0.4) - 1) < 0.01
