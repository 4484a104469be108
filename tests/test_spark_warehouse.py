"""DuckDB reading a Spark table's folder as its contract types it (what publishing on Spark reads),
on folders laid out as Spark writes them, publishing, purging and erasing them; no Spark needed."""

import json
from datetime import date
from decimal import Decimal

import duckdb

from orchestration import warehouse
from orchestration.governance.erase import delete_rows_naming, has_warehouse, warehouse_rows_naming
from orchestration.governance.purge import Expired, purge
from orchestration.governance.retention_state import share_with_spark, spark_state_file
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


def test_a_purge_on_spark_rewrites_the_files_that_hold_expired_values(tmp_path, monkeypatch):
    """Spark's incremental tables are Parquet files in partition folders: the purge clears the
    expired values of the files that hold any (their rows, order and types otherwise as they were,
    the partition columns still in the folder names only, their Hadoop checksums gone), leaves the
    others untouched, and a second
    purge finds nothing left. IP hashes are class medium, kept 90 days: on 2026-04-15 those dated
    before 2026-01-15 go; page paths (low, 2 years) all stay."""
    paths = DataPaths(tmp_path / "data")
    monkeypatch.setenv("DBT_TARGET", "spark")
    monkeypatch.setenv("PII_HMAC_KEY", "test-key")
    folder = spark_table_folder(paths, "main", "int_trial_sessions")
    old = folder / "store_id=us" / "session_date=2026-01-01" / "part-00000-a.c000.snappy.parquet"
    recent = folder / "store_id=us" / "session_date=2026-03-10" / "part-00000-b.c000.snappy.parquet"
    columns = "session_id, ip_hash, page_path, amount::DECIMAL(18,2) AS amount"
    for file, rows in [(old, "('s1', 'h1', '/a', 1.5), ('s2', NULL, '/b', 2)"), (recent, "('s3', 'h3', '/c', 3)")]:
        file.parent.mkdir(parents=True)
        query = f"SELECT {columns} FROM (VALUES {rows}) t(session_id, ip_hash, page_path, amount)"
        duckdb.sql(f"COPY ({query}) TO '{file}' (FORMAT parquet)")
        file.with_name(f".{file.name}.crc").write_bytes(b"checksums of the bytes Spark wrote")
    pii = {"session_id": "none", "ip_hash": "medium", "page_path": "low", "amount": "none"}
    node = {
        "resource_type": "model",
        "schema": "main",
        "alias": "int_trial_sessions",
        "config": {"materialized": "incremental", "unique_key": ["store_id", "session_date"]},
        "columns": {name: {"meta": {"pii": c}} for name, c in pii.items()},
    }
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {"model.commerce_analytics.int_trial_sessions": node}}))
    recent_written = recent.stat().st_mtime_ns

    plan = purge(paths, date(2026, 4, 15), manifest)

    assert [i for i in plan if i.place == "warehouse"] == [
        Expired("warehouse", "main.int_trial_sessions", "ip_hash", "medium", date(2026, 1, 15), 1)
    ]
    with duckdb.connect() as con:
        relation = con.sql(f"SELECT * FROM read_parquet('{old}', hive_partitioning = false)")
        assert relation.columns == ["session_id", "ip_hash", "page_path", "amount"]
        assert str(relation.types[3]) == "DECIMAL(18,2)"
        assert relation.fetchall() == [("s1", None, "/a", Decimal("1.50")), ("s2", None, "/b", Decimal("2.00"))]
    assert recent.stat().st_mtime_ns == recent_written
    # Spark's reader checks a file against its .crc sibling when there is one: the rewritten file has none
    assert not old.with_name(f".{old.name}.crc").exists()
    assert recent.with_name(f".{recent.name}.crc").exists()
    assert [i for i in purge(paths, date(2026, 4, 15), manifest) if i.place == "warehouse"] == []
    # and the next Spark build reads the purge's date (macros/pii_retained_since.sql)
    share_with_spark(paths)
    state = json.loads(spark_state_file(paths).read_text())
    assert state["purged_as_of"] == "2026-04-15"
    assert state["retention_days_medium"] == 90


def test_an_erasure_on_spark_removes_the_rows_naming_the_subject_from_every_file(tmp_path, monkeypatch):
    """After its rebuild, an erasure deletes the rows still naming the subject's pseudonyms (a
    store-day they alone made, which a partition overwrite keeps): on Spark by rewriting each file
    of any table that holds one, in any text column, partition folders or not; the other files are
    left as they are."""
    paths = DataPaths(tmp_path / "data")
    monkeypatch.setenv("DBT_TARGET", "spark")
    sessions = spark_table_folder(paths, "main", "int_trial_sessions")
    alone = sessions / "store_id=us" / "session_date=2026-11-01" / "part-00000-a.c000.snappy.parquet"
    shared = sessions / "store_id=us" / "session_date=2026-11-02" / "part-00000-b.c000.snappy.parquet"
    others = sessions / "store_id=uk" / "session_date=2026-11-02" / "part-00000-c.c000.snappy.parquet"
    customers = spark_table_folder(paths, "marts", "trial_customers") / "part-00000-d.c000.snappy.parquet"
    files = {
        alone: "('s1', 'k-subject', 1)",
        shared: "('s2', 'k-subject', 2), ('s3', 'k-other', 3)",
        others: "('s4', 'k-other', 4)",
        customers: "('k-other', 'k-subject', 5)",
    }
    for file, rows in files.items():
        file.parent.mkdir(parents=True)
        duckdb.sql(f"COPY (SELECT * FROM (VALUES {rows}) t(id, customer_key, n)) TO '{file}' (FORMAT parquet)")
        file.with_name(f".{file.name}.crc").write_bytes(b"checksums")
    untouched = others.stat().st_mtime_ns

    assert has_warehouse(paths)
    assert warehouse_rows_naming(paths, ["k-subject"]) == 3
    with warehouse.writer(paths):
        delete_rows_naming(paths, ["k-subject"])

    def rows(file):
        return duckdb.sql(f"SELECT * FROM read_parquet('{file}', hive_partitioning = false) ORDER BY ALL").fetchall()

    assert rows(alone) == []
    assert rows(shared) == [("s3", "k-other", 3)]
    assert rows(customers) == []
    assert others.stat().st_mtime_ns == untouched and others.with_name(f".{others.name}.crc").exists()
    assert not shared.with_name(f".{shared.name}.crc").exists()
    assert warehouse_rows_naming(paths, ["k-subject"]) == 0
