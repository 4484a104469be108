"""Who is calling: a bearer token (the API) or a dashboard session cookie issued for a token.

A session lives in the server's memory only and ends after 15 minutes without a request; its grant
is re-read on every request, so revoking the token ends its sessions too.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from orchestration.serve import access
from orchestration.settings import DataPaths

SESSION_COOKIE = "ca_session"
IDLE_SECONDS = 15 * 60


@dataclass(frozen=True)
class Caller:
    grant: access.Grant
    # "api" for a bearer token, "page" for a dashboard session.
    channel: str


@dataclass
class _Session:
    token_id: str
    last_seen: float


class Sessions:
    def __init__(self, paths: DataPaths, clock: Callable[[], float] = time.monotonic):
        self.paths = paths
        self.clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def open(self, grant: access.Grant) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = _Session(grant.token_id, self.clock())
        return session_id

    def close(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def caller(self, authorization: str | None, session_id: str | None) -> Caller | None:
        """The live caller of a request, or None (no, unknown, revoked or expired credentials)."""
        if authorization:
            scheme, _, token = authorization.partition(" ")
            grant = access.authenticate(self.paths, token) if scheme.lower() == "bearer" else None
            return Caller(grant, "api") if grant else None
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or now - session.last_seen > IDLE_SECONDS:
                self._sessions.pop(session_id, None)
                return None
            session.last_seen = now
        grant = access.live(self.paths, session.token_id)
        if grant is None:
            self.close(session_id)
            return None
        return Caller(grant, "page")
