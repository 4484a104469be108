"""Rewriting what the warehouse holds in place: Parquet files atomically, then the published marts."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from orchestration.lib.atomic_files import write_atomic
from orchestration.lib.parquet_output import PARQUET_OPTIONS
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.publish import NothingToPublish, drop_kept, publish_marts
from orchestration.settings import DataPaths
from orchestration.spark_warehouse import partition_columns, spark_files_relation


def rewrite_parquet(con: duckdb.DuckDBPyConnection, path: Path, select: str, source: str | None = None) -> None:
    """Replace `path` by the rows of `select`, which reads `src`: the file as it is, or the relation
    `source` over it (one that adds the values of its `key=value` folders, say): tmp, fsync, rename.

    Row order is kept (DuckDB preserves insertion order), so lineage row numbers still read in order.
    """
    source = source or f"read_parquet({quote_literal(str(path))})"

    def copy(tmp: Path) -> None:
        con.execute(
            f"COPY (WITH src AS (SELECT * FROM {source}) {select}) TO {quote_literal(str(tmp))} ({PARQUET_OPTIONS})"
        )

    write_atomic(path, copy)


def rewrite_spark_file(
    con: duckdb.DuckDBPyConnection, folder: Path, file: Path, replace: str | None = None, where: str = "true"
) -> None:
    """Rewrite one Parquet file of the Spark table in `folder`, atomically and under its own name:
    its rows `where` holds, with the `replace` list of `SELECT * REPLACE (...)` applied. Both may
    read the partition columns of the file's folders, which are not written back (Spark keeps them
    in the folder names only). Its Hadoop checksum goes first: Spark checks a file against its
    `.crc` sibling, which would no longer match, and reads one without it unchecked; gone first, a
    rewrite killed halfway leaves no stale one."""
    kept_out = ", ".join(quote_ident(c) for c in partition_columns(folder, file))
    exclude = f"EXCLUDE ({kept_out}) " if kept_out else ""
    replaced = f"REPLACE ({replace}) " if replace else ""
    file.with_name(f".{file.name}.crc").unlink(missing_ok=True)
    select = f"SELECT * {exclude}{replaced}FROM src WHERE {where}"
    rewrite_parquet(con, file, select, source=spark_files_relation([file]))


def rewrite_spark_files_holding(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    files: list[Path],
    holding: str,
    replace: str | None = None,
    where: str = "true",
) -> None:
    """`rewrite_spark_file` each of `files` with a row `holding` is true for; a file without one,
    rewritten already before a kill say, is left as it is."""
    for file in files:
        if con.execute(f"SELECT count(*) FROM {spark_files_relation([file])} WHERE {holding}").fetchone()[0]:
            rewrite_spark_file(con, folder, file, replace, where)


def compact_warehouse(paths: DataPaths) -> None:
    """Make deleted and overwritten values leave the warehouse file, not just its live tables.

    DuckDB reuses freed blocks but leaves their bytes in place until overwritten; rewriting every
    table into a fresh file (COPY FROM DATABASE) and renaming it over the old one drops them.
    """
    fresh = paths.warehouse.with_name(f".{paths.warehouse.name}.compact")
    fresh.unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute(f"ATTACH {quote_literal(str(paths.warehouse))} AS old (READ_ONLY)")
        # Named like the warehouse, so views that name their catalog bind in the copy too.
        con.execute(f"ATTACH {quote_literal(str(fresh))} AS warehouse")
        con.execute("COPY FROM DATABASE old TO warehouse")
        con.execute("DETACH warehouse")
    write_atomic(paths.warehouse, fresh.replace)


def republish(paths: DataPaths) -> list[Path]:
    """Publish the marts again, and every per-store copy that exists, so no copy keeps what was removed;
    the files kept for rollback hold it too, and go."""
    stores = [p.stem.removeprefix("marts_") for p in sorted(paths.root.glob("marts_*.duckdb"))]
    published = []
    for store in [None, *stores]:
        # No completed build (yet): nothing was published from it, so nothing to redo.
        with contextlib.suppress(NothingToPublish):
            published.append(publish_marts(paths, store=store).path)
        drop_kept(paths, store)
    return published
