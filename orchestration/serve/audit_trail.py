"""Access records of the server and the CLI, appended to `$DATA_DIR/audit.duckdb` (`access_log`).

The server queues its records and one thread writes them in batches, so a request never waits for
the audit file's write lock (a CLI command or a purge may hold it for a moment).
"""

from __future__ import annotations

import getpass
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestration.governance import audit
from orchestration.settings import DataPaths

FLUSH_SECONDS = 0.5


@dataclass
class Access:
    """One read, filled in as it proceeds; `row()` is what the audit keeps."""

    token_id: str | None
    role: str | None
    channel: str
    endpoint: str
    stores: list[str] = field(default_factory=list)
    status: int = 200
    rows_returned: int = 0
    accessed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)

    def row(self) -> tuple:
        duration_ms = round((time.perf_counter() - self.started) * 1000, 3)
        return (
            self.accessed_at,
            self.token_id,
            self.role,
            self.channel,
            self.endpoint,
            self.stores,
            self.status,
            self.rows_returned,
            duration_ms,
        )


class AuditWriter:
    def __init__(self, paths: DataPaths):
        self.paths = paths
        self._queue: queue.Queue[tuple] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="access-audit", daemon=True)
        self._thread.start()

    def record(self, access: Access) -> None:
        self._queue.put(access.row())

    def flush(self) -> None:
        """Write every queued record now (also what the thread does every half second)."""
        with self._lock:
            rows = []
            while not self._queue.empty():
                rows.append(self._queue.get_nowait())
            if rows:
                audit.append(self.paths, "access_log", rows)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()


def cli_user() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def cli_access(paths: DataPaths, endpoint: str, stores: list[str] | None = None) -> Iterator[Access]:
    """Audit one CLI read: the caller sets `rows_returned`; a failure is recorded with status 500."""
    access = Access(cli_user(), "cli", "cli", endpoint, stores or ["*"])
    try:
        yield access
    except BaseException:
        access.status = 500
        raise
    finally:
        audit.append(paths, "access_log", [access.row()])
