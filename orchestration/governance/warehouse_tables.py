"""The warehouse's tables as the purge reads and rewrites them, on either engine: DuckDB's file
attached read-only, or the Parquet folders Spark built (orchestration/spark_warehouse.py). Spark's
tables keep their partition columns (store_id and a date) as folder names, which a relation over
the files reads back as columns: the purge's conditions read them as on DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.settings import DataPaths, on_spark
from orchestration.spark_warehouse import spark_files_relation, spark_table_folder, table_files

WAREHOUSE = "warehouse"


def spark_tables(paths: DataPaths) -> list[str]:
    """Every table Spark built ("schema.table"), a folder of its own under the warehouse folder."""
    folders = paths.spark_warehouse.glob("*.db/*")
    return sorted(f"{f.parent.name.removesuffix('.db')}.{f.name}" for f in folders if f.is_dir())


def spark_table_files(paths: DataPaths, table: str) -> tuple[Path, list[Path]]:
    """The folder of a Spark table ("schema.table") and its finished Parquet files."""
    folder = spark_table_folder(paths, *table.split("."))
    return folder, table_files(folder) if folder.is_dir() else []


@contextmanager
def warehouse_relations(
    con: duckdb.DuckDBPyConnection, paths: DataPaths, tables: list[str]
) -> Iterator[dict[str, str]]:
    """The tables among `tables` ("schema.table") the current engine's warehouse holds, each as a
    relation `con` can read, for as long as the context lasts."""
    if on_spark():
        found = {table: spark_table_files(paths, table)[1] for table in tables}
        yield {table: spark_files_relation(files) for table, files in found.items() if files}
        return
    if not paths.warehouse.exists():
        yield {}
        return
    con.execute(f"ATTACH {quote_literal(str(paths.warehouse))} AS {WAREHOUSE} (READ_ONLY)")
    try:
        existing = {
            f"{schema}.{table}"
            for schema, table in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?", [WAREHOUSE]
            ).fetchall()
        }
        yield {
            table: f"{WAREHOUSE}.{'.'.join(quote_ident(p) for p in table.split('.'))}"
            for table in tables
            if table in existing
        }
    finally:
        con.execute(f"DETACH {WAREHOUSE}")
