"""Atomic file publication: write beside the target under a hidden temporary name, fsync,
then rename. Readers glob `*.parquet` / `*.json`, so they never see a half-written file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_target(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target` durably."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        publish(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def publish(tmp: Path, target: Path) -> None:
    """The rename that makes a file visible; a seam for crash tests."""
    tmp.replace(target)


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_target(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_atomic(target: Path, write: Callable[[Path], None]) -> None:
    with atomic_target(target) as tmp:
        write(tmp)
