"""Exclusive file locks: under DATA_DIR one warehouse writer at a time and one lander per source;
in the project, one parse of the dbt manifest at a time.

A Dagster pool serialises the steps of runs launched by `dagster dev`; these locks hold across
every process and instance (an in-process CLI run, a second terminal, a test thread), because
`flock` conflicts between open files even within one process.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from orchestration.settings import DataPaths

WAREHOUSE = "warehouse"
POLL_SECONDS = 0.2


class LockTimeout(TimeoutError):
    """Another writer held the lock for longer than we were willing to wait."""


@contextlib.contextmanager
def exclusive(paths: DataPaths, name: str, timeout: float = 3600, log: logging.Logger | None = None) -> Iterator[None]:
    with exclusive_file(paths.root / "locks" / f"{name}.lock", name, timeout, log):
        yield


@contextlib.contextmanager
def exclusive_file(
    lock_file: Path, name: str, timeout: float = 3600, log: logging.Logger | None = None
) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited and log:
                    log.info(f"waiting for the {name} lock held by another run")
                waited = True
                if time.monotonic() > deadline:
                    raise LockTimeout(f"{lock_file} still locked after {timeout:.0f} s") from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
