"""What analysts run against the published marts: ad-hoc SQL and streamed exports.

Both open `$DATA_DIR/marts.duckdb` read-only, never the live warehouse, so they neither wait
for nor block a build, and both are recorded in the access audit (`$DATA_DIR/audit.duckdb`).
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

from orchestration.publish import PUBLISHED_SCHEMA, published_marts, published_path
from orchestration.serve.audit_trail import cli_access
from orchestration.settings import DataPaths

FETCH_ROWS = 10_000
EXPORT_FORMATS = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet, COMPRESSION zstd"}


class AnalystError(Exception):
    """A mistake in the request (unknown mart, bad SQL) or nothing published yet."""


def connect(paths: DataPaths) -> duckdb.DuckDBPyConnection:
    path = published_path(paths)
    if not path.exists():
        raise AnalystError(f"no published marts at {path}: run make run first")
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET enable_progress_bar = false")
    return con


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
    try:
        return con.execute(sql, params or [])
    except duckdb.Error as exc:
        raise AnalystError(str(exc).splitlines()[0]) from None


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
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([d[0] for d in cursor.description])
    rows = 0
    for rows, row in enumerate(_rows(cursor), start=1):  # noqa: B007 - the count is the loop's result
        writer.writerow([_text(v) for v in row])
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
    with cli_access(paths, "sql") as access, connect(paths) as con:
        cursor = _execute(con, sql)
        if cursor.description is None:
            raise AnalystError("the statement returned no result set")
        access.rows_returned = WRITERS[output](cursor, out or sys.stdout)


def _date_column(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """The mart's calendar column: `date`, or else the first `<x>_date` / `month`."""
    columns = [
        name
        for (name, kind) in con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [PUBLISHED_SCHEMA, mart],
        ).fetchall()
        if kind == "DATE"
    ]
    for preferred in ("date", *(c for c in columns if c.endswith("_date")), "month"):
        if preferred in columns:
            return preferred
    raise AnalystError(f"{mart} has no date column to filter with --from/--to")


def export_mart(
    paths: DataPaths,
    mart: str,
    fmt: str,
    output: Path,
    store: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> int:
    """Stream one mart (filtered) to a file with DuckDB's COPY: memory stays bounded at any size.

    Returns the rows written.
    """
    with cli_access(paths, f"export {mart}", [store] if store else None) as access, connect(paths) as con:
        marts = published_marts(con)
        if mart not in marts:
            raise AnalystError(f"unknown mart {mart!r}; known marts: {', '.join(marts)}")
        where, params = [], []
        if store:
            where.append("store_id = ?")
            params.append(store)
        if first or last:
            column = _date_column(con, mart)
            if first:
                where.append(f'"{column}" >= ?')
                params.append(first)
            if last:
                where.append(f'"{column}" <= ?')
                params.append(last)
        query = f'select * from "{mart}"' + (f" where {' and '.join(where)}" if where else "")
        output.parent.mkdir(parents=True, exist_ok=True)
        target = str(output).replace("'", "''")
        [(rows,)] = _execute(con, f"COPY ({query}) TO '{target}' ({EXPORT_FORMATS[fmt]})", params).fetchall()
        access.rows_returned = rows
        return rows
