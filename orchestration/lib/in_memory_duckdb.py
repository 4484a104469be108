"""A scratch in-memory DuckDB for work on Parquet files outside the warehouse."""

from __future__ import annotations

import os

import duckdb

# DuckDB's default memory limit: this share of the machine's RAM.
DEFAULT_MEMORY_SHARE = 0.8


def connect(shared_by: int = 1) -> duckdb.DuckDBPyConnection:
    """UTC so that timestamps and dates mean UTC; settings SET after connecting, because
    DuckDB 2.0 refuses enable_progress_bar as a connect() option. `shared_by` connections working
    at once (landing's workers) each get that fraction of DuckDB's default memory limit and of the
    cores: each would otherwise take 80 % of RAM and every core, and together run out of memory."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if shared_by > 1:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        con.execute(f"SET memory_limit = '{int(ram * DEFAULT_MEMORY_SHARE / shared_by) // 2**20}MiB'")
        con.execute(f"SET threads = {max(1, (os.cpu_count() or 1) // shared_by)}")
    return con
