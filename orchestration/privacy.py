"""The key behind every pseudonymised value. From PII_HMAC_KEY when set (production keeps it in
a secret store); otherwise a random key generated once per DATA_DIR, outside git, readable by its
owner only (mode 0600). Analysts never reach it: their SQL runs with file access disabled."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from orchestration.settings import DataPaths

KEY_ENV = "PII_HMAC_KEY"
OWNER_ONLY = 0o600


def key_file(paths: DataPaths) -> Path:
    return paths.root / ".pii_hmac_key"


def _create_key_file(target: Path) -> None:
    """Write a new key under a private temporary name, then link it into place: the key is never
    readable by others, not even for a moment, and a key another process created first wins."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, target)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def hmac_key(paths: DataPaths) -> str:
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    target = key_file(paths)
    if not target.exists():
        _create_key_file(target)
    if target.stat().st_mode & 0o077:  # a key copied in by hand with a looser mode
        target.chmod(OWNER_ONLY)
    return target.read_text(encoding="utf-8").strip()


def share_key_with_spark(paths: DataPaths) -> Path:
    """The key as Spark's SQL reads it (macros/pii_hmac_key.sql): Spark skips files named with a
    leading dot, so it gets `$DATA_DIR/spark/pii_hmac_key`, owner-only: a hard link to the key file,
    or the key from PII_HMAC_KEY written there. Called before every Spark build."""
    key = hmac_key(paths)
    shared = paths.root / "spark" / "pii_hmac_key"
    shared.parent.mkdir(parents=True, exist_ok=True)
    if shared.exists() and shared.read_text(encoding="utf-8").strip() == key:
        return shared
    shared.unlink(missing_ok=True)
    if os.environ.get(KEY_ENV):
        fd = os.open(shared, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
    else:
        os.link(key_file(paths), shared)
    return shared
