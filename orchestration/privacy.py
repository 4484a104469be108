"""The key behind every pseudonymised value. From PII_HMAC_KEY when set (production keeps it in
a secret store); otherwise a random key generated once per DATA_DIR, outside git."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from orchestration.settings import DataPaths

KEY_ENV = "PII_HMAC_KEY"


def hmac_key(paths: DataPaths | None = None) -> str:
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    key_file = (paths or DataPaths.from_env()).root / ".pii_hmac_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


def share_key_with_spark(paths: DataPaths | None = None) -> Path:
    """The key as Spark's SQL reads it (macros/pii_hmac_key.sql): Spark skips files named with a
    leading dot, so it gets `$DATA_DIR/spark/pii_hmac_key`, owner-only, a hard link to the key file
    (or the key from PII_HMAC_KEY, written there). Called before every Spark build."""
    paths = paths or DataPaths.from_env()
    key = hmac_key(paths)
    shared = paths.root / "spark" / "pii_hmac_key"
    shared.parent.mkdir(parents=True, exist_ok=True)
    if shared.exists() and shared.read_text(encoding="utf-8").strip() == key:
        return shared
    shared.unlink(missing_ok=True)
    key_file = paths.root / ".pii_hmac_key"
    if key_file.exists() and key_file.read_text(encoding="utf-8").strip() == key:
        os.link(key_file, shared)
    else:
        shared.write_text(key, encoding="utf-8")
    shared.chmod(0o600)
    return shared
