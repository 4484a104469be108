"""Where the Spark target keeps its tables, for readers that are not Spark: every table dbt builds
on Spark is Parquet under the warehouse folder the profile names ($DATA_DIR/spark/warehouse), one
folder per table, hive-partitioned for the incremental models. DuckDB reads them in place."""

from __future__ import annotations

from pathlib import Path

from orchestration.settings import DataPaths


def spark_table_folder(paths: DataPaths, schema: str, table: str) -> Path:
    return paths.root / "spark" / "warehouse" / f"{schema}.db" / table


def read_spark_table_sql(paths: DataPaths, schema: str, table: str) -> str:
    """A DuckDB table expression over one Spark table's Parquet files."""
    folder = spark_table_folder(paths, schema, table)
    return f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
