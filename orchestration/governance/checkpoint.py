"""Checkpoints of the jobs that change data in place, a retention purge and an erasure: the plan and
the steps already done, in one JSON file replaced atomically at every step (mode 0600: an erasure's
names the person). A job killed at any point runs again from its checkpoint, skips the steps it
recorded, redoes (idempotently) the one it was in, and audits its plan once.

The purge in progress is `$DATA_DIR/purge.pending.json`; its `as_of` already counts as purged for
the build (`audit.purged_as_of`): its raw files may be NULL before its audit row exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from orchestration.lib.atomic_files import write_atomic
from orchestration.settings import DataPaths


def save(path: Path, state: dict) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.chmod(0o600)

    write_atomic(path, write)


def load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def step(path: Path, state: dict, name: str, action: Callable[[], object]) -> None:
    """Run `action` unless the checkpoint records it done, then record it."""
    if name not in state["done"]:
        action()
        state["done"].append(name)
        save(path, state)


def purge_path(paths: DataPaths) -> Path:
    return paths.root / "purge.pending.json"


def pending_purge_as_of(paths: DataPaths) -> date | None:
    """The reference date of a purge that was planned and has not finished, if any."""
    state = load(purge_path(paths))
    return date.fromisoformat(state["as_of"]) if state else None
