"""What analysts run against the published marts: ad-hoc SQL and streamed exports.

Both open `$DATA_DIR/marts.duckdb` read-only, never the live warehouse, so they neither wait
for nor block a build. The connection is a sandbox: DuckDB's file system access is off (no
`read_csv`, `read_text`, `COPY`, `EXPORT`, `ATTACH`, `INSTALL`), extensions cannot be loaded,
and the configuration is locked, so no `SET` turns any of it back on; on top of that only one
query (`SELECT` or `EXPLAIN`) runs per call. Exports are written by Python, not by DuckDB.
Both are recorded in the access audit (`$DATA_DIR/audit.duckdb`).
Errors an analyst can fix end in `AnalystError`: one line, exit code 2.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import duckdb
import pyarrow.parquet as pq

from orchestration.lib.atomic_files import atomic_target
from orchestration.publish import PUBLISHED_SCHEMA, published_marts, published_path
from orchestration.serve.audit_trail import cli_access
from orchestration.settings import DataPaths

FETCH_ROWS = 10_000
# Set in this order: the last one freezes every setting, itself included.
SANDBOX = (
    "SET enable_progress_bar = false",
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
)
QUERY_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class AnalystError(Exception):
    """A mistake in the request (unknown mart, bad SQL) or nothing published yet."""


def connect(paths: DataPaths) -> duckdb.DuckDBPyConnection:
    path = published_path(paths)
    if not path.exists():
        raise AnalystError(f"no published marts at {path}: run make run first")
    con = duckdb.connect(str(path), read_only=True)
    for setting in SANDBOX:
        con.execute(setting)
    return con


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
    try:
        return con.execute(sql, params or [])
    except duckdb.Error as exc:
        raise AnalystError(str(exc).splitlines()[0]) from None


def _one_query(sql: str) -> str:
    """The single SELECT or EXPLAIN `sql` holds; anything else is refused before it runs."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise AnalystError(str(exc).splitlines()[0]) from None
    if not statements:
        raise AnalystError('no SQL statement given, e.g. "select * from kpis_daily limit 5"')
    if len(statements) > 1:
        raise AnalystError(f"one statement per call, got {len(statements)}: run them one at a time")
    [statement] = statements
    if statement.type not in QUERY_TYPES:
        kind = statement.type.name.replace("_STATEMENT", "")
        raise AnalystError(f"the published marts are read-only: only queries (SELECT, EXPLAIN) run here, not {kind}")
    return statement.query


def _rows(cursor: duckdb.DuckDBPyConnection):
    while batch := cursor.fetchmany(FETCH_ROWS):
        yield from batch


def _text(value) -> str:
    return "" if value is None else str(value)


def write_table(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    """An aligned table: numbers right-aligned, everything else left (holds the result in memory)."""
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows) for i in range(len(names))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True))

    out.write(line(names).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    return len(rows)


def write_csv(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    """CSV with a header row, streamed; returns the rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([d[0] for d in cursor.description])
    rows = 0
    for row in _rows(cursor):
        writer.writerow([_text(v) for v in row])
        rows += 1
    return rows


def write_parquet(relation: duckdb.DuckDBPyRelation, target: Path) -> int:
    """Parquet with the marts' own types, streamed in record batches; returns the rows written."""
    batches = relation.to_arrow_reader(FETCH_ROWS)
    rows = 0
    with pq.ParquetWriter(target, batches.schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def write_json(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    """JSON lines, one object per row; dates and decimals as strings, so nothing loses precision."""
    names = [d[0] for d in cursor.description]
    rows = 0
    for rows, row in enumerate(_rows(cursor), start=1):  # noqa: B007 - the count is the loop's result
        out.write(json.dumps(dict(zip(names, row, strict=True)), default=str) + "\n")
    return rows


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json}


def run_sql(paths: DataPaths, sql: str, output: str = "table", out: TextIO | None = None) -> None:
    with cli_access(paths, "sql") as access:  # a refused statement is audited too
        query = _one_query(sql)
        with connect(paths) as con:
            cursor = _execute(con, query)
            if cursor.description is None:
                raise AnalystError("the statement returned no result set")
            access.rows_returned = WRITERS[output](cursor, out or sys.stdout)


def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> dict[str, str]:
    """The mart's columns and their types, in order."""
    return dict(
        con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [PUBLISHED_SCHEMA, mart],
        ).fetchall()
    )


def _date_column(columns: dict[str, str], mart: str) -> str:
    """The mart's calendar column: `date`, or else the first `<x>_date` / `month`."""
    dates = [name for name, kind in columns.items() if kind == "DATE"]
    for preferred in ("date", *(c for c in dates if c.endswith("_date")), "month"):
        if preferred in dates:
            return preferred
    raise AnalystError(f"{mart} has no date column to filter with --from/--to")


def _check_store(con: duckdb.DuckDBPyConnection, marts: list[str], mart: str, store: str) -> None:
    """A store the published marts know (dim_stores, else the mart's own), or an error naming them."""
    if "store_id" not in _columns(con, mart):
        raise AnalystError(f"{mart} has no store_id column to filter with --store")
    source = "dim_stores" if "dim_stores" in marts else mart
    known = [s for (s,) in con.execute(f'select distinct store_id from "{source}" order by 1').fetchall()]
    if store not in known:
        raise AnalystError(f"unknown store {store!r}; known stores: {', '.join(known)}")


def export_mart(
    paths: DataPaths,
    mart: str,
    fmt: str,
    output: Path,
    store: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> int:
    """Stream one mart (filtered) to `output`, atomically: memory stays bounded at any size.

    DuckDB only reads (its file system access is off); Python writes the file. Returns the rows written.
    """
    if first and last and first > last:
        raise AnalystError(f"--from {first} is after --to {last}")
    with cli_access(paths, f"export {mart}", [store] if store else None) as access, connect(paths) as con:
        marts = published_marts(con)
        if mart not in marts:
            raise AnalystError(f"unknown mart {mart!r}; known marts: {', '.join(marts)}")
        where, params = [], []
        if store is not None:
            _check_store(con, marts, mart, store)
            where.append("store_id = ?")
            params.append(store)
        if first or last:
            column = _date_column(_columns(con, mart), mart)
            if first:
                where.append(f'"{column}" >= ?')
                params.append(first)
            if last:
                where.append(f'"{column}" <= ?')
                params.append(last)
        query = f'select * from "{mart}"' + (f" where {' and '.join(where)}" if where else "")
        with atomic_target(output) as tmp:
            if fmt == "parquet":
                access.rows_returned = write_parquet(con.sql(query, params=params), tmp)
            else:
                with tmp.open("w", encoding="utf-8", newline="") as out:
                    access.rows_returned = write_csv(_execute(con, query, params), out)
        return access.rows_returned
