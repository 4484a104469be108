"""Pseudonymous keys: the keyed HMAC-SHA256 of a customer or device id, as staging computes it
(macros/pseudonymize.sql), and as the purge writes it into raw in place of the clear id.

In raw a key is marked (`pseudonym:<64 hex digits>`), so staging passes it through instead of
hashing it again, and a reader of raw tells a clear id from a key at a glance.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
from duckdb.sqltypes import VARCHAR

from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths

MARK = "pseudonym:"


def pseudonym(value: str, key: str) -> str:
    """The key of a clear id, or the key a marked value already holds."""
    if value.startswith(MARK):
        return value.removeprefix(MARK)
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def marked(value: str, key: str) -> str:
    """What raw holds once the clear id is gone: its key, marked."""
    return MARK + pseudonym(value, key)


def register(con: duckdb.DuckDBPyConnection, paths: DataPaths) -> None:
    """SQL functions `pseudonym(value)` and `marked_pseudonym(value)` on `con`, under the project's key
    (NULL stays NULL)."""
    key = hmac_key(paths)

    def key_of(value: str) -> str:
        return pseudonym(value, key)

    def marked_key_of(value: str) -> str:
        return marked(value, key)

    con.create_function("pseudonym", key_of, [VARCHAR], VARCHAR)
    con.create_function("marked_pseudonym", marked_key_of, [VARCHAR], VARCHAR)


def is_marked(column: str) -> str:
    """SQL: the column holds a marked key rather than a clear id."""
    return f"starts_with({column}, '{MARK}')"
