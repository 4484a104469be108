"""Publishing a warehouse's marts, and what analysts run on the published copy: `sql`, `export`."""

import csv
import json
import os
import threading
from decimal import Decimal

import duckdb
import pytest

from orchestration import analyst, warehouse
from orchestration.cli import main
from orchestration.privacy import hmac_key, key_file
from orchestration.publish import NothingToPublish, publish_marts, published_digests, published_path

REVENUE = [
    ("us", "2026-11-01", "USD", 3, Decimal("120.50")),
    ("us", "2026-11-02", "USD", 1, Decimal("9.99")),
    ("uk", "2026-11-01", "GBP", 2, Decimal("40.00")),
    ("uk", "2026-11-03", "GBP", 5, Decimal("250.00")),
]


@pytest.fixture
def published(paths):
    """A warehouse with two small marts, built by run r1 and published."""
    paths.root.mkdir(parents=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.revenue_daily"
            " (store_id varchar, date date, currency varchar, orders integer, gmv decimal(18, 2))"
        )
        con.executemany("insert into marts.revenue_daily values (?, ?, ?, ?, ?)", REVENUE)
        con.execute(
            "create table marts.dim_stores as select * from (values ('us', 'USD'), ('uk', 'GBP')) s(store_id, currency)"
        )
        con.execute("create view main.stg_not_published as select 1 as x")
    warehouse.record_build(paths, "r1")
    publish_marts(paths, built_by_run="r1")
    return paths


def sql(capsys, *args):
    assert main(["sql", *args]) == 0
    return capsys.readouterr().out


def fails(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, "one line"
    return err.strip()


def test_publish_copies_the_marts_read_only_and_only_a_completed_build(published):
    path = published_path(published)
    assert path.stat().st_mode & 0o777 == 0o444
    assert set(published_digests(path)) == {"dim_stores", "revenue_daily"}
    assert published_digests(path)["revenue_daily"][0] == 4
    with duckdb.connect(str(path), read_only=True) as con:
        # Both spellings work: the file's catalog is called marts.
        assert con.execute("select sum(orders) from marts.revenue_daily").fetchone() == (11,)
        assert con.execute("select count(*) from dim_stores").fetchone() == (2,)
    warehouse.forget_build(published)  # a build started (or failed): nothing to publish
    with pytest.raises(NothingToPublish):
        publish_marts(published)
    warehouse.record_build(published, "r2")
    with pytest.raises(NothingToPublish):
        publish_marts(published, built_by_run="r1")  # r2 rebuilt it since: r2 publishes
    assert not list(published.root.glob(".marts*"))  # no temporary file left behind


def test_publish_of_one_store_holds_only_its_rows(published, capsys):
    assert main(["publish", "--store", "uk"]) == 0
    path = published_path(published, "uk")
    assert capsys.readouterr().out == f"published 2 marts (3 rows) to {path}\n"
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select distinct store_id from revenue_daily").fetchall() == [("uk",)]


def test_a_reader_keeps_its_snapshot_while_a_publish_replaces_the_file(published):
    reader = duckdb.connect(str(published_path(published)), read_only=True)
    with duckdb.connect(str(published.warehouse)) as con:
        con.execute("delete from marts.revenue_daily where store_id = 'uk'")
    done = threading.Event()
    threading.Thread(target=lambda: (publish_marts(published), done.set())).start()
    assert done.wait(30), "publishing never waits for readers"
    assert reader.execute("select count(*) from revenue_daily").fetchone() == (4,)
    reader.close()
    assert published_digests(published_path(published))["revenue_daily"][0] == 2


def test_sql_prints_an_aligned_table_by_default(published, capsys):
    out = sql(
        capsys, "select store_id, sum(orders) as orders, sum(gmv) as gmv from revenue_daily group by 1 order by 1"
    )
    assert out.splitlines() == [
        "store_id  orders     gmv",
        "--------  ------  ------",
        "uk             7  290.00",
        "us             4  130.49",
        "(2 rows)",
    ]


def test_sql_writes_csv_and_json_lines(published, capsys):
    query = "select store_id, date, gmv from marts.revenue_daily where store_id = 'us' order by date"
    assert sql(capsys, query, "--csv") == "store_id,date,gmv\nus,2026-11-01,120.50\nus,2026-11-02,9.99\n"
    lines = [json.loads(line) for line in sql(capsys, query, "--json").splitlines()]
    assert lines == [
        {"store_id": "us", "date": "2026-11-01", "gmv": "120.50"},
        {"store_id": "us", "date": "2026-11-02", "gmv": "9.99"},
    ]


def test_sql_errors_are_one_clear_line(published, capsys):
    assert fails(capsys, ["sql", "select nope from revenue_daily"]).startswith(
        'commerce-analytics: error: Binder Error: Referenced column "nope" not found'
    )
    assert "read-only" in fails(capsys, ["sql", "delete from revenue_daily"])


def test_sql_runs_one_query_per_call_and_says_so(published, capsys):
    assert fails(capsys, ["sql", ""]) == (
        'commerce-analytics: error: no SQL statement given, e.g. "select * from kpis_daily limit 5"'
    )
    assert fails(capsys, ["sql", "select 1; select 2"]) == (
        "commerce-analytics: error: one statement per call, got 2: run them one at a time"
    )
    assert fails(capsys, ["sql", "selec 1"]).startswith("commerce-analytics: error: Parser Error: syntax error")
    assert sql(capsys, "select 1 as one;") == "one\n---\n  1\n(1 row)\n"
    assert sql(capsys, "describe revenue_daily").splitlines()[2].split()[:2] == ["store_id", "VARCHAR"]


@pytest.fixture
def secrets_around(published):
    """What an analyst must never reach, beside the published marts: the key file, the live
    warehouse (with a customer's e-mail in clear), a raw extract and a folder to write into."""
    key = hmac_key(published)
    with duckdb.connect(str(published.warehouse)) as con:
        con.execute("create table main.stg_crm__customers as select 'ann@example.com' as email")
    raw = published.raw_for("customers") / "date=2026-11-01" / "part-x.parquet"
    raw.parent.mkdir(parents=True)
    duckdb.sql(f"copy (select 'ann@example.com' as email) to '{raw}'")
    return published, key, raw


def forbidden_statements(paths, raw) -> dict[str, str]:
    """Each way out of the sandbox, with the part of the refusal that names why."""
    out = paths.root / "leak"
    return {
        f"select * from read_text('{key_file(paths)}')": "file system operations are disabled",
        "select * from read_csv('/etc/passwd')": "file system operations are disabled",
        f"select * from read_parquet('{raw}')": "file system operations are disabled",
        f"select * from '{raw}'": "file system operations are disabled",
        f"select * from glob('{paths.root}/*')": "file system operations are disabled",
        f"copy revenue_daily to '{out}.csv'": "not COPY",
        f"copy (select 1) to '{out}.csv'": "not COPY",
        f"export database '{out}'": "not EXPORT",
        f"attach '{paths.warehouse}' as live (read_only)": "not ATTACH",
        "install httpfs": "not LOAD",  # DuckDB parses INSTALL and LOAD as one statement type
        "load httpfs": "not LOAD",
        "set enable_external_access = true": "not SET",
        "reset lock_configuration": "not SET",
        "set variable pii_hmac_key = 'x'": "not SET",
        "pragma enable_profiling": "not PRAGMA",
        "create temp table t as select 1": "not CREATE",
        "checkpoint": "not CALL",
        f"select 1; copy revenue_daily to '{out}.csv'": "one statement per call",
    }


def test_sql_refuses_every_statement_that_leaves_the_published_marts(secrets_around, capsys):
    paths, key, raw = secrets_around
    before = sorted(p.relative_to(paths.root) for p in paths.root.rglob("*"))
    for statement, reason in forbidden_statements(paths, raw).items():
        err = fails(capsys, ["sql", statement])
        assert err.startswith("commerce-analytics: error: ") and reason in err, (statement, err)
        assert key not in err and "ann@" not in err
    assert sorted(p.relative_to(paths.root) for p in paths.root.rglob("*")) == before, "nothing written"


def test_the_analyst_connection_itself_refuses_files_extensions_and_settings(secrets_around):
    """The sandbox under the statement check, as `sql` and `export` both open it."""
    paths, _, raw = secrets_around
    with analyst.connect(paths) as con:
        for statement in [*forbidden_statements(paths, raw)][:11]:  # file reads and writes, ATTACH, INSTALL, LOAD
            with pytest.raises(duckdb.Error, match=r"disabled|read-only|locked"):
                con.execute(statement).fetchall()
        for statement in ["set enable_external_access = true", "set memory_limit = '1GB'", "reset lock_configuration"]:
            with pytest.raises(duckdb.Error, match="the configuration has been locked"):
                con.execute(statement)
        assert con.execute("select current_setting('enable_external_access')").fetchone() == (False,)


def test_export_refuses_the_same_statements_as_mart_or_store_names(secrets_around, tmp_path, capsys):
    paths, _, raw = secrets_around
    target = tmp_path / "out" / "x.csv"
    for statement in forbidden_statements(paths, raw):
        err = fails(capsys, ["export", statement, "--output", str(target)])
        assert err.startswith(f"commerce-analytics: error: unknown mart {statement!r}; known marts: dim_stores")
        err = fails(capsys, ["export", "revenue_daily", "--store", statement, "--output", str(target)])
        assert err == f"commerce-analytics: error: unknown store {statement!r}; known stores: uk, us"
    assert not target.parent.exists()


def test_the_key_file_is_created_readable_by_its_owner_only(paths):
    old = os.umask(0)  # the most permissive umask: the mode comes from the code, not the shell
    try:
        key = hmac_key(paths)
    finally:
        os.umask(old)
    assert key_file(paths).stat().st_mode & 0o777 == 0o600
    assert len(key) == 64 and hmac_key(paths) == key, "created once, then read back"
    assert [p.name for p in paths.root.iterdir()] == [".pii_hmac_key"], "no temporary file left"
    key_file(paths).chmod(0o644)  # copied in by hand with a looser mode: tightened on the next use
    assert hmac_key(paths) == key and key_file(paths).stat().st_mode & 0o777 == 0o600


def test_without_published_marts_the_commands_say_what_to_do(paths, capsys):
    expected = f"commerce-analytics: error: no published marts at {paths.root / 'marts.duckdb'}: run make run first"
    assert fails(capsys, ["sql", "select 1"]) == expected
    assert fails(capsys, ["export", "revenue_daily", "--output", str(paths.root / "x.csv")]) == expected


def test_export_streams_a_filtered_mart_to_csv(published, tmp_path, capsys):
    target = tmp_path / "out" / "uk.csv"
    argv = ["export", "revenue_daily", "--store", "uk", "--from", "2026-11-02", "--to", "2026-11-03"]
    assert main([*argv, "--output", str(target)]) == 0
    assert capsys.readouterr().err == f"wrote 1 rows of revenue_daily to {target}\n"
    with target.open() as handle:
        assert list(csv.reader(handle)) == [
            ["store_id", "date", "currency", "orders", "gmv"],
            ["uk", "2026-11-03", "GBP", "5", "250.00"],
        ]


def test_export_writes_parquet_with_its_types(published, tmp_path):
    target = tmp_path / "revenue.parquet"
    assert main(["export", "revenue_daily", "--format", "parquet", "--output", str(target)]) == 0
    rows = duckdb.sql(f"select store_id, gmv from '{target}' order by store_id, date").fetchall()
    assert rows == [(s, g) for s, _, _, _, g in sorted(REVENUE)]


def test_export_of_an_unknown_mart_lists_the_known_ones(published, tmp_path, capsys):
    out = ["--output", str(tmp_path / "out" / "x.csv")]
    assert fails(capsys, ["export", "kpis", *out]) == (
        "commerce-analytics: error: unknown mart 'kpis'; known marts: dim_stores, revenue_daily"
    )
    assert fails(capsys, ["export", "dim_stores", "--from", "2026-11-01", *out]) == (
        "commerce-analytics: error: dim_stores has no date column to filter with --from/--to"
    )
    assert not (tmp_path / "out").exists()


def test_export_refuses_an_unknown_store_a_reversed_range_and_no_output(published, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "out"
    out = ["--output", str(folder / "x.csv")]
    assert fails(capsys, ["export", "revenue_daily", "--store", "zz", *out]) == (
        "commerce-analytics: error: unknown store 'zz'; known stores: uk, us"
    )
    assert fails(capsys, ["export", "revenue_daily", "--from", "2026-11-03", "--to", "2026-11-01", *out]) == (
        "commerce-analytics: error: --from 2026-11-03 is after --to 2026-11-01"
    )
    assert not folder.exists()
    folder.mkdir()
    monkeypatch.chdir(folder)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "revenue_daily"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "commerce-analytics export: error: the following arguments are required: --output"
    )
    assert not list(folder.iterdir()), "nothing written into the current folder"


def test_export_replaces_an_existing_file_whole(published, tmp_path, capsys):
    target = tmp_path / "out" / "us.csv"
    target.parent.mkdir()
    target.write_text("an older, longer export\n" * 100)
    assert main(["export", "revenue_daily", "--store", "us", "--output", str(target)]) == 0
    assert target.read_text().splitlines() == [
        "store_id,date,currency,orders,gmv",
        "us,2026-11-01,USD,3,120.50",
        "us,2026-11-02,USD,1,9.99",
    ]
    assert [p.name for p in target.parent.iterdir()] == ["us.csv"], "no temporary file left"
