"""A scratch in-memory DuckDB for work on Parquet files outside the warehouse."""

from __future__ import annotations

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """UTC so that timestamps and dates mean UTC; settings SET after connecting, because
    DuckDB 2.0 refuses enable_progress_bar as a connect() option."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con
