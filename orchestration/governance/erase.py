"""The right to erasure: remove a customer and every stitched device from every place data lives.

1. inbox: an extract not landed yet is rewritten without the subject's rows (it lands without
   them); a landed one that names the subject is deleted: its rows live on in raw and quarantine,
   which are erased next, and its manifest record (counts only) keeps the accounting.
2. raw Parquet (and batches quarantined whole): each affected file rewritten atomically.
3. quarantine: rows whose payload names the subject, likewise.
4. warehouse: rebuilt from the erased raw with `dbt build --full-refresh`, so every aggregate is as if
   the customer had never been there (on the 2-core reference machine a small warehouse takes 1-2
   minutes; the cost grows with the history). Then compacted: DuckDB keeps freed blocks' bytes, so
   the file is copied table by table into a fresh one (`storage.compact_warehouse`).
5. the published marts, and every per-store copy, republished.
6. an audit row per place in `erasure_log`: the keyed hash of the id, rows removed, time.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration import warehouse
from orchestration.contracts import load_contracts
from orchestration.dbt_project import DBT_EXECUTABLE, PROJECT_DIR
from orchestration.governance import audit
from orchestration.governance.storage import compact_warehouse, republish, rewrite_parquet
from orchestration.governance.subject import Subject, find_subject, parquet_files, quarantine_filter, row_filters
from orchestration.landing import manifest
from orchestration.landing.atomic import write_atomic
from orchestration.landing.land import content_hash
from orchestration.landing.rules import quote_ident, quote_literal
from orchestration.settings import DataPaths


class RebuildFailed(RuntimeError):
    """The warehouse could not be rebuilt after the erasure; nothing was republished."""


def _names_subject(values, identifiers: set[str]) -> bool:
    return any(v in identifiers for v in values)


def _erase_csv(text: str, identifiers: set[str]) -> tuple[str, int]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    kept = [row for row in rows if not _names_subject(row, identifiers)]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(kept)
    return out.getvalue(), len(rows) - len(kept)


def _event_strings(event) -> list[str]:
    """Every string in an event, however deeply nested (ids sit under context, user...)."""
    if isinstance(event, dict):
        return [s for v in event.values() for s in _event_strings(v)]
    if isinstance(event, list):
        return [s for v in event for s in _event_strings(v)]
    return [event] if isinstance(event, str) else []


def _erase_batches(text: str, identifiers: set[str]) -> tuple[str, int]:
    lines, removed = [], 0
    for line in text.splitlines():
        batch = json.loads(line)
        events = [e for e in batch["events"] if not _names_subject(_event_strings(e), identifiers)]
        removed += len(batch["events"]) - len(events)
        if events:
            lines.append(json.dumps({**batch, "events": events}))
    return "".join(f"{line}\n" for line in lines), removed


def _erase_inbox(paths: DataPaths, subject: Subject) -> int:
    identifiers = set(subject.identifiers)
    removed_rows = 0
    for contract in load_contracts().values():
        folder = paths.inbox_for(contract.name)
        for path in sorted(folder.glob(contract.file_pattern)) if folder.exists() else []:
            gzipped = path.suffix == ".gz"
            text = (gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()).decode("utf-8")
            erase = _erase_batches if contract.format == "jsonl_batches" else _erase_csv
            kept, removed = erase(text, identifiers)
            if not removed:
                continue
            removed_rows += removed
            if manifest.read_record(paths, contract.name, content_hash(path)) is not None:
                path.unlink()
                continue
            data = kept.encode("utf-8")
            data = gzip.compress(data, mtime=0) if gzipped else data
            write_atomic(path, lambda tmp, data=data: tmp.write_bytes(data))
    return removed_rows


def _erase_files(con, files: list[Path], condition: str) -> int:
    removed = 0
    for file in files:
        [(n,)] = con.execute(f"SELECT count(*) FROM read_parquet(?) WHERE {condition}", [str(file)]).fetchall()
        if n:
            rewrite_parquet(con, file, f"SELECT * FROM src WHERE NOT coalesce({condition}, false)")
            removed += n
    return removed


def warehouse_rows_naming(paths: DataPaths, values: list[str]) -> int:
    """Rows of the warehouse's tables with a text column equal to one of `values` (the subject's pseudonyms)."""
    if not values:
        return 0
    listing = ", ".join(quote_literal(v) for v in values)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        columns = con.execute(
            "SELECT schema_name, table_name, list(column_name) FROM duckdb_columns()"
            " WHERE data_type = 'VARCHAR' AND NOT internal AND table_name IN"
            " (SELECT table_name FROM duckdb_tables()) GROUP BY ALL"
        ).fetchall()
        return sum(
            con.execute(
                f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}"
                f" WHERE {' OR '.join(f'{quote_ident(c)} IN ({listing})' for c in names)}"
            ).fetchone()[0]
            for schema, table, names in columns
        )


def rebuild_warehouse(paths: DataPaths) -> None:
    """Rebuild every model from raw, then drop the freed bytes from the file."""
    with warehouse.writer(paths):
        warehouse.forget_build(paths)
        result = subprocess.run(
            [
                *(DBT_EXECUTABLE, "build", "--full-refresh", "--quiet", "--project-dir", str(PROJECT_DIR)),
                *("--profiles-dir", str(PROJECT_DIR), "--target-path", str(paths.root / "dbt" / "erasure")),
            ],
            env={**os.environ, "DATA_DIR": str(paths.root)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RebuildFailed(f"dbt build after the erasure failed:\n{result.stdout[-4000:]}")
        compact_warehouse(paths)
        warehouse.record_build(paths, f"erasure-{datetime.now(UTC).isoformat()}")


def erase(paths: DataPaths, store_id: str, customer_id: str) -> dict[str, int]:
    """Erase the customer everywhere; returns rows removed per place (UnknownCustomer if none)."""
    subject = find_subject(paths, store_id, customer_id)
    removed = {"inbox": _erase_inbox(paths, subject)}
    filters = row_filters(subject)
    with duckdb.connect() as con:
        removed["raw"] = sum(_erase_files(con, parquet_files(paths, s), f) for s, f in filters.items())
        rejected = sorted(paths.quarantine.glob("*/part-*.parquet"))
        removed["quarantine"] = _erase_files(con, rejected, quarantine_filter(subject))
    if paths.warehouse.exists():
        pseudonyms = [subject.keyed_hash(v, paths) for v in (customer_id, *subject.devices)]
        removed["warehouse"] = warehouse_rows_naming(paths, pseudonyms)
        rebuild_warehouse(paths)
        republish(paths)
    key = subject.keyed_hash(customer_id, paths)
    erased_at = datetime.now(UTC)
    audit.append(paths, "erasure_log", [(erased_at, store_id, key, place, n) for place, n in removed.items()])
    return removed
