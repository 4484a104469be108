"""DuckDB reading a Spark table's folder as its contract types it (what publishing on Spark reads),
on folders laid out as Spark writes them, and publishing them; no Spark needed."""

import json
from datetime import date
from decimal import Decimal

import duckdb

from orchestration import warehouse
from orchestration.publish import publish_marts
from orchestration.settings import SPARK_TARGET, DataPaths
from orchestration.spark_warehouse import SPARK_NULL_PARTITION, spark_table_folder, typed_relation_sql

# Contract order: the partition columns (store_id, date) first, as the mart declares them.
COLUMNS = {"store_id": "varchar", "date": "date", "orders": "bigint", "gmv": "decimal(18,2)"}


def write_part(folder, rows: str) -> None:
    """A Parquet file of the non-partition columns, typed as Spark writes them (one schema per table)."""
    folder.mkdir(parents=True, exist_ok=True)
    select = f"select orders::bigint as orders, gmv::decimal(18,2) as gmv from (values {rows}) t(orders, gmv)"
    duckdb.sql(f"copy ({select}) to '{folder}/part-0.parquet' (format parquet)")


def test_partition_folders_come_back_in_contract_order_and_types(tmp_path):
    paths = DataPaths(tmp_path)
    table = spark_table_folder(paths, "marts", "kpis_daily")
    write_part(table / "store_id=us" / "date=2026-11-01", "(3, 10.5)")
    write_part(table / f"store_id=uk/date={SPARK_NULL_PARTITION}", "(1, 2.25)")
    # files of a write in progress or abandoned are not the table's
    write_part(table / "_temporary" / "0" / "store_id=us" / "date=2026-11-02", "(99, 99)")
    write_part(table / ".spark-staging-1" / "store_id=us" / "date=2026-11-03", "(98, 98)")
    with duckdb.connect() as con:
        relation = con.sql(typed_relation_sql(paths, "marts", "kpis_daily", COLUMNS))
        assert relation.columns == list(COLUMNS)
        assert [str(t) for t in relation.types] == ["VARCHAR", "DATE", "BIGINT", "DECIMAL(18,2)"]
        assert sorted(relation.fetchall(), key=str) == [
            ("uk", None, 1, Decimal("2.25")),
            ("us", date(2026, 11, 1), 3, Decimal("10.50")),
        ]


def test_an_empty_or_missing_table_is_empty_and_typed(tmp_path):
    paths = DataPaths(tmp_path)
    spark_table_folder(paths, "marts", "kpis_daily").mkdir(parents=True)
    with duckdb.connect() as con:
        for table in ("kpis_daily", "never_built"):
            relation = con.sql(typed_relation_sql(paths, "marts", table, COLUMNS))
            assert relation.columns == list(COLUMNS)
            assert [str(t) for t in relation.types] == ["VARCHAR", "DATE", "BIGINT", "DECIMAL(18,2)"]
            assert relation.fetchall() == []


def test_a_spark_publish_types_the_marts_by_the_manifest_of_the_build_it_publishes(tmp_path, monkeypatch):
    """Publishing on Spark reads the contracts of the manifest the build recorded (its own, parsed
    for Spark), not the checkout's target/dagster/manifest.json, which another build or a parse may
    be replacing meanwhile: here the checkout's has no `kpis_daily_trial` at all."""
    paths = DataPaths(tmp_path / "data")
    monkeypatch.setenv("DBT_TARGET", "spark")
    write_part(spark_table_folder(paths, "marts", "kpis_daily_trial") / "store_id=us" / "date=2026-11-01", "(3, 10.5)")
    columns = {name: {"data_type": declared} for name, declared in COLUMNS.items()}
    node = {"resource_type": "model", "schema": "marts", "alias": "kpis_daily_trial", "columns": columns}
    manifest = tmp_path / "build-manifest.json"
    manifest.write_text(json.dumps({"nodes": {"model.commerce_analytics.kpis_daily_trial": node}}))
    warehouse.record_build(paths, "spark-run", SPARK_TARGET, manifest=manifest)
    published = publish_marts(paths)
    with duckdb.connect(str(published.path), read_only=True) as con:
        assert con.execute("SELECT * FROM kpis_daily_trial").fetchall() == [
            ("us", date(2026, 11, 1), 3, Decimal("10.50"))
        ]
        [(tables,)] = con.execute("SELECT list(table_name) FROM information_schema.tables").fetchall()
    assert tables == ["kpis_daily_trial"]
