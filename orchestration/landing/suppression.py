"""The suppression list: keyed hashes of every identifier of an erased subject, per store.

Erasure adds to it; landing consults it, so an erased customer or device re-delivered in any
later extract is dropped at landing (counted as `erased_subject`), never written to raw or to
quarantine. Only keyed hashes are kept (HMAC-SHA256 under the pseudonymisation key, the same
values as the warehouse's pseudonyms): without the key, the list names no one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

from orchestration.contracts import Contract
from orchestration.lib.atomic_files import write_atomic
from orchestration.lib.sql_quoting import quote_ident
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths

# Columns whose value names a person or their records (the identifiers erasure removes).
SUBJECT_COLUMNS = ("customer_id", "user_id", "anonymous_id", "email", "order_id")
_TABLE = "suppressed_subjects"


def list_path(paths: DataPaths) -> Path:
    return paths.root / "suppression" / "erased_subjects.json"


def suppressed(paths: DataPaths) -> dict[str, list[str]]:
    """Store -> keyed hashes of its erased subjects' identifiers."""
    path = list_path(paths)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def suppress(paths: DataPaths, store_id: str, hashes: Iterable[str]) -> None:
    """Add keyed hashes to the store's list (kept if already there)."""
    listed = suppressed(paths)
    listed[store_id] = sorted(set(listed.get(store_id, [])) | set(hashes))
    text = json.dumps(listed, indent=1, sort_keys=True)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)

    write_atomic(list_path(paths), write)


def _hmac_pads(key: str) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), so DuckDB computes HMAC with two sha256."""
    block = key.encode()
    block = (hashlib.sha256(block).digest() if len(block) > 64 else block).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def erased_condition(con: duckdb.DuckDBPyConnection, paths: DataPaths, contract: Contract, table: str) -> str:
    """SQL condition on `table` (text columns as received): the row names an erased subject of its
    store. Loads the list into the connection; `false` when no store has erased anyone."""
    listed = suppressed(paths)
    columns = [c for c in SUBJECT_COLUMNS if c in {f.name for f in contract.fields}]
    if not any(listed.values()) or not columns:
        return "false"
    inner, outer = _hmac_pads(hmac_key(paths))
    # Variables, so the key never appears in SQL text (logged by DuckDB's profiler or an error).
    con.execute("SET VARIABLE suppression_inner_pad = ?", [inner])
    con.execute("SET VARIABLE suppression_outer_pad = ?", [outer])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TABLE} (store_id VARCHAR, hash VARCHAR)")
    con.executemany(f"INSERT INTO {_TABLE} VALUES (?, ?)", [(s, h) for s, hs in listed.items() for h in hs])

    def keyed(column: str) -> str:
        inner_hash = f"unhex(sha256(getvariable('suppression_inner_pad') || encode({table}.{quote_ident(column)})))"
        return f"sha256(getvariable('suppression_outer_pad') || {inner_hash})"

    hashes = ", ".join(keyed(c) for c in columns)
    return f"""EXISTS (
        SELECT 1 FROM {_TABLE} s WHERE s.store_id = {table}.store_id AND s.hash IN ({hashes})
    )"""
