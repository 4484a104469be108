"""Which inbox files are complete, so that landing never takes a file still being written.

The delivery protocol (docs/landing.md): a source writes each file under a temporary name that its
extract pattern does not match (a leading dot, or a `.part` suffix) and renames it into place, then
touches `_SUCCESS` in its inbox folder, which vouches for every file not modified after it. A file
no marker vouches for (a source that cannot follow the protocol) is taken once it has stayed
unchanged for the settle period, measured by the inbox file system's own clock; and a file that
changes while it is landed is not landed (the caller checks `signature` again afterwards).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

DELIVERY_MARKER = "_SUCCESS"
# Seconds a file no marker vouches for must stay unchanged (size and mtime) before it is landed.
SETTLE_ENV = "LANDING_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 60

log = logging.getLogger(__name__)


class ExtractChanged(Exception):
    """The file changed while it was landed: it is left for the next run, not landed."""


def settle_seconds() -> float:
    return float(os.environ.get(SETTLE_ENV, DEFAULT_SETTLE_SECONDS))


def mark_delivered(folder: Path) -> None:
    """The source's side of the protocol, once every file of a delivery is in place."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DELIVERY_MARKER).touch()


def signature(path: Path) -> tuple[int, int]:
    """Size and modification time: a write to the file changes one of them."""
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _file_system_now(folder: Path) -> int:
    """The time (ns) by the clock that stamps the folder's files: on a network share, the
    server's, which also stamped the writer's files, whatever this machine's clock says."""
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".clock-") as probe:
        return os.fstat(probe.fileno()).st_mtime_ns


def complete_files(folder: Path, candidates: list[Path]) -> list[Path]:
    """The candidates (files of `folder`) that are complete: vouched for by the delivery marker,
    or unchanged for the settle period. The others are left for a later run."""
    settle = settle_seconds()
    if settle <= 0 or not candidates:
        return candidates
    marker = folder / DELIVERY_MARKER
    vouched = marker.stat().st_mtime_ns if marker.exists() else -1
    now = _file_system_now(folder)
    complete = []
    for path in candidates:
        modified = path.stat().st_mtime_ns
        if modified <= vouched or now - modified >= settle * 1e9:
            complete.append(path)
        else:
            log.info(
                "%s changed %.0f s ago and no delivery marker covers it: left for a later run",
                path,
                (now - modified) / 1e9,
            )
    return complete
