"""The audit trail of purges and erasures: `$DATA_DIR/audit.duckdb`, one table per kind of action.

Rows hold what was done, where, when and how many rows, never a personal value: an erased customer
appears only as the keyed hash of its id.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from orchestration.governance.checkpoint import pending_purge_as_of
from orchestration.settings import DataPaths

TABLES = {
    "purge_log": "purged_at TIMESTAMPTZ, as_of DATE, place VARCHAR, target VARCHAR, column_name VARCHAR,"
    " pii_class VARCHAR, cutoff DATE, rows_purged BIGINT",
    "erasure_log": "erased_at TIMESTAMPTZ, store_id VARCHAR, customer_key VARCHAR, place VARCHAR, rows_removed BIGINT",
}


def audit_path(paths: DataPaths) -> Path:
    return paths.root / "audit.duckdb"


def append(paths: DataPaths, table: str, rows: list[tuple]) -> None:
    with duckdb.connect(str(audit_path(paths))) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({TABLES[table]})")
        if rows:
            # One transaction: a job killed while auditing leaves all its rows or none.
            con.execute("BEGIN")
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
            con.execute("COMMIT")


def read(paths: DataPaths, table: str) -> list[tuple]:
    with duckdb.connect(str(audit_path(paths)), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table}").fetchall()


def last_purge_as_of(paths: DataPaths) -> date | None:
    """The reference date of the latest purge that cleared anything: values of a class dated before
    it less the class's retention are NULL wherever the purge reaches. None before any purge."""
    if not audit_path(paths).exists():
        return None
    with duckdb.connect(str(audit_path(paths)), read_only=True) as con:
        if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'purge_log'").fetchall():
            return None
        [(as_of,)] = con.execute("SELECT max(as_of) FROM purge_log").fetchall()
    return as_of


def purged_as_of(paths: DataPaths) -> date | None:
    """What the build must take as purged: the latest audited purge, or a later one stopped halfway
    (its checkpoint is written before it changes anything, so every NULL it made is covered)."""
    dates = [d for d in (last_purge_as_of(paths), pending_purge_as_of(paths)) if d]
    return max(dates, default=None)


def read_if_any(paths: DataPaths, table: str) -> list[tuple]:
    """The table's rows; none when nothing was ever audited."""
    if not audit_path(paths).exists():
        return []
    with duckdb.connect(str(audit_path(paths)), read_only=True) as con:
        if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall():
            return []
        return con.execute(f"SELECT * FROM {table}").fetchall()
