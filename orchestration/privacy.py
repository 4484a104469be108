"""The key behind every pseudonymised value. From PII_HMAC_KEY when set (production keeps it in
a secret store); otherwise a random key generated once per DATA_DIR, outside git."""

from __future__ import annotations

import os
import secrets

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
