"""The audit trail of purges, erasures and reads: `$DATA_DIR/audit.duckdb`, one table per kind of action.

Rows hold what was done, where, when and how many rows, never a personal value nor a secret: an
erased customer appears only as the keyed hash of its id, a reader only as its access token's id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from orchestration.governance.checkpoint import pending_purge_as_of
from orchestration.settings import DataPaths

TABLES = {
    "purge_log": "purged_at TIMESTAMPTZ, as_of DATE, place VARCHAR, target VARCHAR, column_name VARCHAR,"
    " pii_class VARCHAR, cutoff DATE, rows_purged BIGINT",
    "erasure_log": "erased_at TIMESTAMPTZ, store_id VARCHAR, customer_key VARCHAR, place VARCHAR, rows_removed BIGINT",
    # Every read of the published marts: the API and dashboard (channel `api`/`page`) and the CLI's
    # sql, export and gdpr-export (channel `cli`, token_id `cli:<os user>`).
    "access_log": "accessed_at TIMESTAMPTZ, token_id VARCHAR, role VARCHAR, channel VARCHAR, endpoint VARCHAR,"
    " stores VARCHAR[], status INTEGER, rows_returned BIGINT, duration_ms DOUBLE",
}
# The file has one writer at a time: the server's audit thread, a CLI command or a purge may meet.
LOCK_RETRIES = 50
LOCK_WAIT_SECONDS = 0.1
# Within a process (the server's threads), two concurrent opens of one file collide in DuckDB's
# instance cache: one at a time.
_PROCESS_LOCK = threading.Lock()


def audit_path(paths: DataPaths) -> Path:
    return paths.root / "audit.duckdb"


def _open_for_writing(paths: DataPaths) -> duckdb.DuckDBPyConnection:
    paths.root.mkdir(parents=True, exist_ok=True)
    for _ in range(LOCK_RETRIES - 1):
        try:
            return duckdb.connect(str(audit_path(paths)))
        except duckdb.IOException as exc:  # another process holds the file's write lock
            if "lock" not in str(exc).lower():
                raise
            time.sleep(LOCK_WAIT_SECONDS)
    return duckdb.connect(str(audit_path(paths)))


@contextmanager
def _writing(paths: DataPaths) -> Iterator[duckdb.DuckDBPyConnection]:
    with _PROCESS_LOCK, _open_for_writing(paths) as con:
        yield con


@contextmanager
def held_still(paths: DataPaths) -> Iterator[Path]:
    """The audit file with its write lock held and everything checkpointed into it, to be copied."""
    with _writing(paths) as con:
        con.execute("CHECKPOINT")
        yield audit_path(paths)


def append(paths: DataPaths, table: str, rows: list[tuple]) -> None:
    with _writing(paths) as con:
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


def query(paths: DataPaths, queries: dict[str, tuple[str, str, list]]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Named reads `(table, sql, params)` on one opening of the file, while writers come and go; a
    table not written yet reads as no rows."""
    if not audit_path(paths).exists():
        return {name: ([], []) for name in queries}
    results = {}
    with _writing(paths) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for name, (table, sql, params) in queries.items():
            if table not in tables:
                results[name] = ([], [])
                continue
            cursor = con.execute(sql, params)
            results[name] = ([d[0] for d in cursor.description], cursor.fetchall())
    return results
