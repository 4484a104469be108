"""The live warehouse file: one writer at a time, and which run's build it holds.

Every step that opens `warehouse.duckdb` (the dbt build with its tests, publishing)
does so inside `writer()`. A run's steps are separate, so between its build and its publish
another run may rebuild: the build record names the run whose dbt build last completed, and
publishing refuses a warehouse that another run built (that run publishes it after its own
checks). A failed or running build leaves no record, so nothing publishes it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.atomic_files import write_text_atomic
from orchestration.lib.file_locks import exclusive
from orchestration.settings import DEFAULT_TARGET, DataPaths

LOCK_NAME = "warehouse"


@contextlib.contextmanager
def writer(paths: DataPaths, log: logging.Logger | None = None) -> Iterator[None]:
    """Hold the warehouse; with a run's log, the hold is logged (when, and for how long)."""
    with exclusive(paths, LOCK_NAME, log=log):
        if log:
            log.info("warehouse lock acquired")
        try:
            yield
        finally:
            if log:
                log.info("warehouse lock released")


def _build_record(paths: DataPaths) -> Path:
    return paths.root / "warehouse.build.json"


def forget_build(paths: DataPaths) -> None:
    """A build starts: the warehouse holds no complete build until it ends well."""
    _build_record(paths).unlink(missing_ok=True)


def record_build(paths: DataPaths, run_id: str, target: str = DEFAULT_TARGET, manifest: Path | None = None) -> None:
    """A build ended well: the run, the dbt target it built (DuckDB's or Spark's tables), and the
    dbt manifest it built from, when it left one of its own."""
    record = {"run_id": run_id, "target": target, "built_at": datetime.now(UTC).isoformat()}
    if manifest is not None:
        record["manifest"] = str(manifest)
    write_text_atomic(_build_record(paths), json.dumps(record))


def _record(paths: DataPaths) -> dict | None:
    path = _build_record(paths)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def built_by(paths: DataPaths) -> str | None:
    """The run whose dbt build the warehouse holds, or None while none completed."""
    record = _record(paths)
    return record["run_id"] if record else None


def built_manifest(paths: DataPaths) -> Path | None:
    """The dbt manifest of the last completed build, if it recorded one that still exists."""
    record = _record(paths)
    manifest = Path(record["manifest"]) if record and "manifest" in record else None
    return manifest if manifest and manifest.exists() else None


def built_target(paths: DataPaths) -> str | None:
    """The dbt target of the last completed build (records of older builds name none: DuckDB's)."""
    record = _record(paths)
    return record.get("target", DEFAULT_TARGET) if record else None
