"""Publishing a warehouse's marts, and what analysts run on the published copy: `sql`, `export`."""

import csv
import json
import threading
from decimal import Decimal

import duckdb
import pytest

from orchestration import warehouse
from orchestration.cli import main
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


def test_without_published_marts_the_commands_say_what_to_do(paths, capsys):
    expected = f"commerce-analytics: error: no published marts at {paths.root / 'marts.duckdb'}: run make run first"
    assert fails(capsys, ["sql", "select 1"]) == expected
    assert fails(capsys, ["export", "revenue_daily"]) == expected


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


def test_export_of_an_unknown_mart_lists_the_known_ones(published, capsys):
    assert fails(capsys, ["export", "kpis"]) == (
        "commerce-analytics: error: unknown mart 'kpis'; known marts: dim_stores, revenue_daily"
    )
    assert fails(capsys, ["export", "dim_stores", "--from", "2026-11-01"]) == (
        "commerce-analytics: error: dim_stores has no date column to filter with --from/--to"
    )
