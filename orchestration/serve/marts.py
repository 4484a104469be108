"""The published marts as the server reads them: one read-only snapshot per published file.

`publish` renames a complete new file over `marts.duckdb`. Each request takes the current snapshot
once and runs all its queries on it, so it sees one build from start to end; a connection opened
before a rename keeps reading the file it opened (the old inode), and the next request opens the new
file. Nothing needs a restart, and no request fails or mixes two builds while a publish happens.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import duckdb

from orchestration.publish import published_marts, published_path
from orchestration.settings import DataPaths


class NotPublished(RuntimeError):
    """No published marts yet."""


@dataclass
class Snapshot:
    identity: tuple[int, int]
    connection: duckdb.DuckDBPyConnection
    marts: frozenset[str] = field(default_factory=frozenset)

    def columns(self, mart: str) -> list[tuple[str, str]]:
        return self.query(
            "select column_name, data_type from information_schema.columns"
            " where table_catalog = 'marts' and table_schema = 'main' and table_name = ? order by ordinal_position",
            [mart],
        )[1]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one request's thread (a connection is not shared across threads)."""
        cursor = self.connection.cursor()
        cursor.execute("USE marts")  # a cursor starts in the in-memory catalog
        return cursor

    def query(self, sql: str, params: list | dict | None = None) -> tuple[list[str], list[tuple]]:
        with self.cursor() as cursor:
            cursor.execute(sql, params or [])
            return [d[0] for d in cursor.description], cursor.fetchall()


def read_only_connection(path: str) -> duckdb.DuckDBPyConnection:
    """An analyst's connection: read-only, no file or network access beyond the file, settings locked.

    The file is ATTACHed to a new in-memory database: `duckdb.connect(path)` would hand back the
    process's cached instance of the file replaced by the last publish.
    """
    con = duckdb.connect(":memory:")
    con.execute("ATTACH ? AS marts (READ_ONLY)", [path])
    con.execute("USE marts")
    con.execute("SET enable_progress_bar = false")
    if limit := os.environ.get("DUCKDB_MEMORY_LIMIT"):
        con.execute("SET memory_limit = ?", [limit])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


class PublishedMarts:
    def __init__(self, paths: DataPaths):
        self.path = published_path(paths)
        self._lock = threading.Lock()
        self._current: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The snapshot of the file now at the published path (opened when the file changed)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise NotPublished(f"no published marts at {self.path}: run make run first") from None
        identity = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._current is None or self._current.identity != identity:
                # The replaced snapshot is closed once its last request drops it.
                connection = read_only_connection(str(self.path))
                self._current = Snapshot(identity, connection, frozenset(published_marts(connection)))
            return self._current
