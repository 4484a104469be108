"""Access tokens: a role and a set of stores, kept hashed under `$DATA_DIR/access/`, one file per token.

A token reads `ca_<id>_<secret>`. Only the SHA-256 of the secret is stored (the secret is 256 random
bits, so a fast hash suffices); the id names the token everywhere else, in the audit trail too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.atomic_files import write_text_atomic
from orchestration.settings import DataPaths

# Each role may do what the roles before it may.
ROLES = ("viewer", "analyst", "admin")
ALL_STORES = "*"
TOKEN_PATTERN = re.compile(r"ca_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


class AccessError(ValueError):
    """An access command given something it cannot use (unknown role or token id)."""


@dataclass(frozen=True)
class Grant:
    token_id: str
    name: str
    role: str
    stores: tuple[str, ...]
    secret_sha256: str
    created_at: str
    revoked_at: str | None = None

    def allows_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def all_stores(self) -> bool:
        return ALL_STORES in self.stores


def access_dir(paths: DataPaths) -> Path:
    return paths.root / "access"


def _file(paths: DataPaths, token_id: str) -> Path:
    return access_dir(paths) / f"{token_id}.json"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _save(paths: DataPaths, grant: Grant) -> None:
    access_dir(paths).mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text_atomic(_file(paths, grant.token_id), json.dumps({**asdict(grant), "stores": list(grant.stores)}))
    _file(paths, grant.token_id).chmod(0o600)


def add(paths: DataPaths, name: str, role: str, stores: list[str]) -> tuple[Grant, str]:
    """A new grant and its token, which is shown this once and never stored."""
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    stores = sorted({s.strip() for s in stores if s.strip()})
    if not stores:
        raise AccessError(f"give at least one store, or {ALL_STORES} for all")
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    grant = Grant(token_id, name, role, tuple(stores), _digest(secret), datetime.now(UTC).isoformat())
    _save(paths, grant)
    return grant, f"ca_{token_id}_{secret}"


def load(paths: DataPaths, token_id: str) -> Grant | None:
    path = _file(paths, token_id)
    if not re.fullmatch(r"[0-9a-f]{12}", token_id) or not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    return Grant(**{**record, "stores": tuple(record["stores"])})


def grants(paths: DataPaths) -> list[Grant]:
    return [g for p in sorted(access_dir(paths).glob("*.json")) if (g := load(paths, p.stem))]


def revoke(paths: DataPaths, token_id: str) -> Grant:
    grant = load(paths, token_id)
    if grant is None:
        raise AccessError(f"no token with id {token_id!r}")
    if grant.revoked_at is None:
        grant = Grant(**{**asdict(grant), "revoked_at": datetime.now(UTC).isoformat()})
        _save(paths, grant)
    return grant


def authenticate(paths: DataPaths, token: str) -> Grant | None:
    """The live grant of a token, or None for a malformed, unknown, wrong or revoked one."""
    match = TOKEN_PATTERN.fullmatch(token.strip())
    if not match:
        return None
    grant = load(paths, match.group(1))
    if grant is None or grant.revoked_at is not None:
        return None
    return grant if hmac.compare_digest(grant.secret_sha256, _digest(match.group(2))) else None


def live(paths: DataPaths, token_id: str) -> Grant | None:
    """The grant behind a session, re-read on every request so that a revocation takes effect at once."""
    grant = load(paths, token_id)
    return grant if grant is not None and grant.revoked_at is None else None
