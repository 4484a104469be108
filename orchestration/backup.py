"""Backups of a data folder, and restoring one: a content-addressed store with snapshots.

A backup target holds `objects/<sha256[:2]>/<sha256>` (each distinct file content once) and
`snapshots/<id>.json` (every file of the snapshot: its path under DATA_DIR, hash, size, mode).
A backup copies only contents the target lacks, and reuses the hash of a file whose size and
modification time match the previous snapshot, so an unchanged data folder costs a listing.
The snapshot record is written last (atomically): a backup that dies leaves no snapshot, only
objects that the next backup's garbage collection removes.

The snapshot is consistent: it is taken holding every lock that changes what it copies (the
retention purge, each source's landing, the warehouse with its publishes) and the audit file's
own write lock. The warehouse itself is not backed up: it is rebuilt from raw.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.contracts import load_contracts
from orchestration.governance import audit
from orchestration.governance.purge import LOCK_NAME as PURGE_LOCK
from orchestration.lib.atomic_files import write_atomic, write_text_atomic
from orchestration.lib.content_hash import content_hash
from orchestration.lib.file_locks import exclusive
from orchestration.settings import DataPaths

TARGET_ENV, KEEP_ENV = "COMMERCE_BACKUP_DIR", "COMMERCE_BACKUP_KEEP"
# Four a day for a week at the default schedule (every 6 hours).
DEFAULT_KEEP = 28
# What a backup holds, under DATA_DIR: folders whole, and single files (published marts by pattern).
FOLDERS = ["raw", "manifest", "quarantine", "staging", "suppression", "erasure_requests", "replay"]
FILES = ["audit.duckdb", "purge.pending.json", ".pii_hmac_key", "marts.duckdb", "marts_*.duckdb"]


class BackupError(ValueError):
    """A backup or restore that cannot be done as asked (the CLI prints it as an error)."""


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    files: int
    bytes: int
    new_objects: int
    new_bytes: int
    removed_snapshots: list[str]


def target_from_env() -> Path:
    target = os.environ.get(TARGET_ENV)
    if not target:
        raise BackupError(f"no backup target: pass --target or set {TARGET_ENV}")
    return Path(target)


def keep_from_env() -> int:
    return int(os.environ.get(KEEP_ENV, DEFAULT_KEEP))


def _files(paths: DataPaths) -> list[Path]:
    """Every file a backup holds, as paths under DATA_DIR (temporary `.name.tmp` files left out)."""
    found = [f for folder in FOLDERS for f in (paths.root / folder).rglob("*")]
    found += [f for pattern in FILES for f in paths.root.glob(pattern)]
    return sorted(f.relative_to(paths.root) for f in found if f.is_file() and not f.name.endswith(".tmp"))


def _copy_private(source: Path, tmp: Path) -> None:
    shutil.copyfile(source, tmp)
    tmp.chmod(0o600)


def _object(target: Path, sha256: str) -> Path:
    return target / "objects" / sha256[:2] / sha256


def _snapshot_records(target: Path) -> list[Path]:
    return sorted((target / "snapshots").glob("*.json"))


def _read_snapshot(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def _data_still(paths: DataPaths) -> Iterator[None]:
    """Hold everything that writes what a backup copies: purge, landing of each source, the warehouse
    (publishes and rollbacks), in the order the pipeline itself takes them; then the audit file."""
    with contextlib.ExitStack() as stack:
        for name in [PURGE_LOCK, *(f"landing-{source}" for source in load_contracts()), "warehouse"]:
            stack.enter_context(exclusive(paths, name))
        if audit.audit_path(paths).exists():
            stack.enter_context(audit.held_still(paths))
        yield


def backup(paths: DataPaths, target: Path, keep: int) -> Snapshot:
    """Snapshot the data folder into `target`, then keep only its last `keep` snapshots."""
    target = target.resolve()
    if target.is_relative_to(paths.root):
        raise BackupError(f"the backup target {target} is inside the data folder it backs up")
    if keep < 1:
        raise BackupError(f"a backup keeps at least 1 snapshot, not {keep}")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds raw personal data and the key
    with exclusive(DataPaths(target), "backup"), _data_still(paths):
        records = _snapshot_records(target)
        known = _read_snapshot(records[-1])["files"] if records else {}
        files, new_objects, new_bytes = {}, 0, 0
        for relative in _files(paths):
            source = paths.root / relative
            info = source.stat()
            before = known.get(str(relative))
            same = before and before["size"] == info.st_size and before["mtime_ns"] == info.st_mtime_ns
            sha256 = before["sha256"] if same else content_hash(source)
            stored = _object(target, sha256)
            if not stored.exists():
                write_atomic(stored, lambda tmp, source=source: _copy_private(source, tmp))
                new_objects, new_bytes = new_objects + 1, new_bytes + info.st_size
            files[str(relative)] = {
                "sha256": sha256,
                "size": info.st_size,
                "mtime_ns": info.st_mtime_ns,
                "mode": stat.S_IMODE(info.st_mode),
            }
        now = datetime.now(UTC)
        snapshot_id = now.strftime("%Y%m%dT%H%M%S%fZ")
        record = {"snapshot_id": snapshot_id, "created_at": now.isoformat(), "data_dir": str(paths.root)}
        write_text_atomic(target / "snapshots" / f"{snapshot_id}.json", json.dumps({**record, "files": files}))
    removed = _apply_retention(target, keep)
    return Snapshot(snapshot_id, len(files), sum(f["size"] for f in files.values()), new_objects, new_bytes, removed)


def _apply_retention(target: Path, keep: int) -> list[str]:
    """Drop the snapshots past the last `keep`, then every object no kept snapshot names."""
    with exclusive(DataPaths(target), "backup"):
        records = _snapshot_records(target)
        old = records[: max(len(records) - keep, 0)]
        for record in old:
            record.unlink()
        used = {f["sha256"] for record in records[len(old) :] for f in _read_snapshot(record)["files"].values()}
        for stored in (target / "objects").glob("*/*"):
            if stored.name not in used:
                stored.unlink()
    return [record.stem for record in old]


def snapshots(target: Path) -> list[str]:
    return [record.stem for record in _snapshot_records(target)]


def restore(source: Path, paths: DataPaths, snapshot_id: str | None = None) -> dict:
    """Bring a data folder back from a snapshot (the newest by default), each file checked against
    its hash. Refuses a data folder that already holds anything a backup holds: a restore never
    mixes two states."""
    records = _snapshot_records(source)
    if not records:
        raise BackupError(f"{source} holds no backup snapshot")
    chosen = source / "snapshots" / f"{snapshot_id}.json" if snapshot_id else records[-1]
    if not chosen.exists():
        raise BackupError(f"{source} has no snapshot {snapshot_id}; it has {', '.join(snapshots(source))}")
    present = _files(paths) if paths.root.exists() else []
    if present:
        raise BackupError(f"{paths.root} already holds data ({present[0]}, ...): restore into an empty data folder")
    snapshot = _read_snapshot(chosen)
    for relative, entry in snapshot["files"].items():
        stored = _object(source, entry["sha256"])
        if not stored.exists() or content_hash(stored) != entry["sha256"]:
            raise BackupError(f"the backup's copy of {relative} is missing or damaged ({stored})")
        place = paths.root / relative

        def copy(tmp: Path, stored: Path = stored, mode: int = entry["mode"]) -> None:
            shutil.copyfile(stored, tmp)
            tmp.chmod(mode | stat.S_IWUSR)  # writable until the fsync, then its own mode

        write_atomic(place, copy)
        place.chmod(entry["mode"])
    return {"snapshot_id": snapshot["snapshot_id"], "files": len(snapshot["files"])}
