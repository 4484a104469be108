"""Where the Spark target keeps its tables, for readers that are not Spark: every table dbt builds
on Spark is Parquet under the warehouse folder the profile names ($DATA_DIR/spark/warehouse), one
folder per table, hive-partitioned for the incremental models. DuckDB reads them in place."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.settings import DataPaths

# What Spark writes as the folder of a NULL partition value.
SPARK_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def spark_table_folder(paths: DataPaths, schema: str, table: str) -> Path:
    return paths.spark_warehouse / f"{schema}.db" / table


def read_spark_table_sql(paths: DataPaths, schema: str, table: str) -> str:
    """A DuckDB table expression over one Spark table's Parquet files."""
    folder = spark_table_folder(paths, schema, table)
    return f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"


def table_files(folder: Path) -> list[Path]:
    """The Parquet files of a table's folder, without those of a write in progress or abandoned
    (`_temporary/`, `.spark-staging-*`) and Spark's hidden files."""
    return sorted(
        f
        for f in folder.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in f.relative_to(folder).parts)
    )


def partition_columns(folder: Path, file: Path) -> list[str]:
    """The columns Spark wrote as folder names on the way from the table's folder to `file`."""
    return [part.split("=", 1)[0] for part in file.relative_to(folder).parts[:-1]]


def _listing(files: list[Path]) -> str:
    return "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"


def spark_files_relation(files: list[Path]) -> str:
    """Spark's Parquet files of one table with the partition columns of their folders, if any:
    store_id as text (a store may be named like a number), a date as a date."""
    by_store = any(part.startswith("store_id=") for part in files[0].parts)
    store_as_text = ", hive_types = {'store_id': 'VARCHAR'}" if by_store else ""
    return f"read_parquet({_listing(files)}, hive_partitioning = true{store_as_text})"


def typed_relation_sql(paths: DataPaths, schema: str, table: str, columns: dict[str, str | None]) -> str:
    """A DuckDB query over one Spark table that returns its columns in contract order (`columns`,
    name -> declared DuckDB type or None), each cast to its declared type. The partition columns
    Spark writes last, as folder names (`store_id=us/date=2026-11-01/`), are read back as text and
    cast like the others; an empty or missing folder gives no rows, typed the same."""
    if not columns:
        raise ValueError(f"{schema}.{table} declares no columns: its Spark files cannot be typed")
    folder = spark_table_folder(paths, schema, table)
    files = table_files(folder) if folder.exists() else []
    if not files:
        nulls = ", ".join(
            f"cast(null as {declared or 'varchar'}) as {quote_ident(name)}" for name, declared in columns.items()
        )
        return f"select {nulls} where false"
    partitions = partition_columns(folder, files[0])
    options = ""
    if partitions:
        hive_types = ", ".join(f"{quote_ident(p)}: 'VARCHAR'" for p in partitions)
        options = f", hive_partitioning = true, hive_types = {{{hive_types}}}"
    # Partition values come back as text: NULL is Spark's default-partition folder name.
    columns_of = {p: f"nullif({quote_ident(p)}, {quote_literal(SPARK_NULL_PARTITION)})" for p in partitions}
    select = ", ".join(
        f"cast({columns_of.get(name, quote_ident(name))} as {declared}) as {quote_ident(name)}"
        if declared
        else f"{columns_of.get(name, quote_ident(name))} as {quote_ident(name)}"
        for name, declared in columns.items()
    )
    return f"select {select} from read_parquet({_listing(files)}{options})"


def built_models(paths: DataPaths, manifest_path: Path, schema: str) -> dict[str, dict[str, str | None]]:
    """The models of `schema` in the dbt manifest whose Spark table exists (a folder of its own),
    name -> their columns (name -> declared type), by name."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    models = {
        node["alias"]: {name: column.get("data_type") for name, column in node["columns"].items()}
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == schema
    }
    return {name: models[name] for name in sorted(models) if spark_table_folder(paths, schema, name).is_dir()}
