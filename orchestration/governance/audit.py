"""The audit trail of purges, erasures and reads: `$DATA_DIR/audit.duckdb`, one table per kind of action.

Rows hold what was done, where, when and how many rows, never a personal value nor a secret: an
erased customer appears only as the keyed hash of its id, a reader only as its access token's id.
"""

from __future__ import annotations

import os
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
# Each use attaches the file to one in-memory DuckDB of the process and detaches it after, so other
# processes can write between uses: an attach costs about a millisecond, a new DuckDB instance 20-50
# (what made the compliance panel the slowest endpoint). Made per process: an instance is not fork-safe.
_HOST: tuple[int, duckdb.DuckDBPyConnection] | None = None
# The parent's instance, in a forked child: never closed there (its destructor crashes the child,
# as the purge's kill tests found), only left alone.
_INHERITED: list[duckdb.DuckDBPyConnection] = []


def audit_path(paths: DataPaths) -> Path:
    return paths.root / "audit.duckdb"


def _host() -> duckdb.DuckDBPyConnection:
    global _HOST
    if _HOST is None or _HOST[0] != os.getpid():
        if _HOST is not None:
            _INHERITED.append(_HOST[1])
        _HOST = (os.getpid(), duckdb.connect())
    return _HOST[1]


def _attach(con: duckdb.DuckDBPyConnection, paths: DataPaths, read_only: bool) -> None:
    path = str(audit_path(paths)).replace("'", "''")
    mode = " (READ_ONLY)" if read_only else ""
    for attempt in range(LOCK_RETRIES):
        try:
            con.execute(f"ATTACH '{path}' AS audit{mode}")
            con.execute("USE audit")
            return
        except duckdb.IOException as exc:  # another process holds the file's write lock
            if "lock" not in str(exc).lower() or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(LOCK_WAIT_SECONDS)


@contextmanager
def _opened(paths: DataPaths, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if not read_only:
        paths.root.mkdir(parents=True, exist_ok=True)
    with _PROCESS_LOCK:
        con = _host().cursor()
        try:
            _attach(con, paths, read_only)
            yield con
        finally:
            con.execute("USE memory")
            con.execute("DETACH DATABASE IF EXISTS audit")
            con.close()


def append(paths: DataPaths, table: str, rows: list[tuple]) -> None:
    with _opened(paths) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({TABLES[table]})")
        if rows:
            # One transaction: a job killed while auditing leaves all its rows or none.
            con.execute("BEGIN")
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
            con.execute("COMMIT")


def read(paths: DataPaths, table: str) -> list[tuple]:
    with _opened(paths, read_only=True) as con:
        return con.execute(f"SELECT * FROM {table}").fetchall()


def last_purge_as_of(paths: DataPaths) -> date | None:
    """The reference date of the latest purge that cleared anything: values of a class dated before
    it less the class's retention are NULL wherever the purge reaches. None before any purge."""
    if not audit_path(paths).exists():
        return None
    with _opened(paths, read_only=True) as con:
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
    with _opened(paths, read_only=True) as con:
        if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall():
            return []
        return con.execute(f"SELECT * FROM {table}").fetchall()


def query(paths: DataPaths, queries: dict[str, tuple[str, str, list]]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Named reads `(table, sql, params)` on one opening of the file, while writers come and go; a
    table not written yet reads as no rows."""
    if not audit_path(paths).exists():
        return {name: ([], []) for name in queries}
    results = {}
    with _opened(paths) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for name, (table, sql, params) in queries.items():
            if table not in tables:
                results[name] = ([], [])
                continue
            cursor = con.execute(sql, params)
            results[name] = ([d[0] for d in cursor.description], cursor.fetchall())
    return results
