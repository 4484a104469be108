"""The right to erasure: remove a customer and every stitched device from every place data lives.

An erasure is a request file, `$DATA_DIR/erasure_requests/<store>/<key>.json` (mode 0600, `key` the
keyed hash of the customer id, the same the audit keeps): the only place the clear id waits, so a
Dagster run's config names the key, never the person. The file also checkpoints the erasure, which
is planned first (every file and row to remove, counted) and then applied step by step, each step
idempotent: run again after a crash, it resumes where it stopped and the audit counts the plan,
once. The file is deleted when the erasure is complete.

1. inbox: an extract not landed yet is rewritten without the subject's rows (it lands without
   them); a landed one that names the subject is deleted: its rows live on in raw and quarantine,
   which are erased next, and its manifest record (counts only) keeps the accounting. A file that
   cannot be parsed (landing rejects it) is deleted when its bytes name the subject.
2. raw Parquet (and batches quarantined whole): each affected file rewritten atomically.
3. quarantine: rows whose payload names the subject (a rejected row, or a line that could not be
   parsed at all), likewise; a file kept whole, as received, is deleted when it names them.
4. warehouse: rebuilt from the erased raw by the Dagster build of the models (`runner.rebuild_since`:
   the `build` command's dbt args, excludes, window, lock, checks and events), every day the last
   retention purge left open (all days before any purge): the days it closed hold no personal value
   and their aggregates stay as built. A row still naming the subject's pseudonyms afterwards (a
   store-day the subject alone made, which delete+insert leaves) is deleted. Then compacted: DuckDB
   keeps freed blocks' bytes, so the file is copied table by table into a fresh one
   (`storage.compact_warehouse`). On Spark (DBT_TARGET=spark) the rebuild is the same Dagster build
   on Spark, and the rows left naming the subject go by rewriting each Parquet file that holds any.
5. the published marts, and every per-store copy, republished.
6. an audit row per place in `erasure_log`: the keyed hash of the id, rows removed, time.

Before any of these, the keyed hashes of every identifier of the subject (customer id, e-mails,
stitched devices, orders) join the suppression list (orchestration/landing/suppression.py), so a
later delivery naming them is dropped at landing: the erased person never comes back.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import zlib
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration import warehouse
from orchestration.contracts import load_contracts
from orchestration.governance import audit, checkpoint
from orchestration.governance.purge import cutoff
from orchestration.governance.storage import (
    compact_warehouse,
    republish,
    rewrite_parquet,
    rewrite_spark_files_holding,
)
from orchestration.governance.subject import (
    Subject,
    UnknownCustomer,
    checked_customer_id,
    find_subject,
    parquet_files,
    quarantine_filter,
    row_filters,
)
from orchestration.governance.warehouse_tables import spark_table_files, spark_tables
from orchestration.landing import manifest, suppression
from orchestration.lib.atomic_files import write_atomic
from orchestration.lib.content_hash import content_hash
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.progress import Progress
from orchestration.settings import DataPaths, dbt_target, on_spark
from orchestration.spark_warehouse import spark_files_relation

# The class whose purge closes days (the default of macros/closed_by_purge.sql).
CLOSING_CLASS = "low"


class RebuildFailed(RuntimeError):
    """The warehouse could not be rebuilt after the erasure; nothing was republished."""


class UnknownRequest(ValueError):
    """No pending erasure request of that key: never filed, or already completed."""


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


def _read_inbox_file(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def _inbox_files(paths: DataPaths):
    for contract in load_contracts().values():
        folder = paths.inbox_for(contract.name)
        for path in sorted(folder.glob(contract.file_pattern)) if folder.exists() else []:
            yield contract, path


def _erase_inbox_file(contract, path: Path, identifiers: set[str]) -> tuple[str, int]:
    erase = _erase_batches if contract.format == "jsonl_batches" else _erase_csv
    return erase(_read_inbox_file(path), identifiers)


# What parsing a file landing rejects may raise: bad gzip, bytes that are not UTF-8 or JSON
# (ValueError), a CSV the csv module refuses, JSON that is no batch.
_UNPARSEABLE = (EOFError, OSError, zlib.error, ValueError, csv.Error, KeyError, TypeError, AttributeError)


def _lines_naming(path: Path, identifiers: set[str]) -> int:
    """Lines of a file that cannot be parsed that hold one of the identifiers, in as much of it as
    can be read (a truncated gzip stream's decompressed part); a substring match, so a file
    naming a longer id is counted too, and such a file is only ever deleted."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        with contextlib.suppress(zlib.error):  # not gzip at all: its bytes as they are
            data = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data)
    values = [i.encode() for i in identifiers]
    return sum(any(v in line for v in values) for line in data.splitlines())


def _plan_inbox(paths: DataPaths, identifiers: set[str]) -> list[dict]:
    plan = []
    for contract, path in _inbox_files(paths):
        try:
            _, removed = _erase_inbox_file(contract, path, identifiers)
            unparseable = False
        except _UNPARSEABLE:
            removed, unparseable = _lines_naming(path, identifiers), True
        if removed:
            landed = manifest.read_record(paths, contract.name, content_hash(path)) is not None
            target = str(path.relative_to(paths.root))
            plan.append({"place": "inbox", "target": target, "rows": removed, "delete": landed or unparseable})
    return plan


def _apply_inbox(paths: DataPaths, item: dict, identifiers: set[str]) -> None:
    path = paths.root / item["target"]
    if not path.exists():  # deleted before a crash
        return
    if item["delete"]:
        path.unlink()
        return
    contract = next(c for c, p in _inbox_files(paths) if p == path)
    kept, removed = _erase_inbox_file(contract, path, identifiers)
    if removed:
        data = kept.encode("utf-8")
        data = gzip.compress(data, mtime=0) if path.suffix == ".gz" else data
        write_atomic(path, lambda tmp, data=data: tmp.write_bytes(data))


def _count(con, file: Path, condition: str) -> int:
    [(n,)] = con.execute(f"SELECT count(*) FROM read_parquet(?) WHERE {condition}", [str(file)]).fetchall()
    return n


def _plan_files(con, paths: DataPaths, subject: Subject) -> list[dict]:
    plan = []
    for source, condition in row_filters(subject).items():
        for file in parquet_files(paths, source):
            if n := _count(con, file, condition):
                plan.append({"place": "raw", "target": str(file.relative_to(paths.root)), "rows": n, "source": source})
    for file in sorted(paths.quarantine.glob("*/part-*.parquet")):
        if n := _count(con, file, quarantine_filter(subject)):
            plan.append({"place": "quarantine", "target": str(file.relative_to(paths.root)), "rows": n})
    for file in sorted(paths.quarantine.glob("*/files/*")):
        if n := _lines_naming(file, set(subject.identifiers)):
            plan.append({"place": "quarantine", "target": str(file.relative_to(paths.root)), "rows": n, "delete": True})
    return plan


def _apply_file(con, paths: DataPaths, item: dict, subject: Subject) -> None:
    if item.get("delete"):  # a file kept whole, as received
        (paths.root / item["target"]).unlink(missing_ok=True)
        return
    condition = row_filters(subject)[item["source"]] if item["place"] == "raw" else quarantine_filter(subject)
    file = paths.root / item["target"]
    if _count(con, file, condition):  # none left: rewritten before a crash
        rewrite_parquet(con, file, f"SELECT * FROM src WHERE NOT coalesce({condition}, false)")


def _warehouse_tables(con) -> list[tuple[str, str, list[str]]]:
    return con.execute(
        "SELECT schema_name, table_name, list(column_name) FROM duckdb_columns()"
        " WHERE data_type = 'VARCHAR' AND NOT internal AND table_name IN"
        " (SELECT table_name FROM duckdb_tables()) GROUP BY ALL"
    ).fetchall()


def _naming(names: list[str], values: list[str]) -> str:
    listing = ", ".join(quote_literal(v) for v in values)
    return " OR ".join(f"{quote_ident(c)} IN ({listing})" for c in names)


def _spark_text_tables(con, paths: DataPaths) -> list[tuple[Path, list[Path], str, list[str]]]:
    """Spark's tables with files: folder, files, a relation over them, and their text columns."""
    tables = []
    for table in spark_tables(paths):
        folder, files = spark_table_files(paths, table)
        if files:
            relation = spark_files_relation(files)
            described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            names = [name for name, kind, *_ in described if kind == "VARCHAR"]
            if names:  # a table without text names no one
                tables.append((folder, files, relation, names))
    return tables


def has_warehouse(paths: DataPaths) -> bool:
    """Whether the current engine's warehouse was ever built: DuckDB's file, or Spark's folder."""
    return paths.spark_warehouse.is_dir() if on_spark() else paths.warehouse.exists()


def warehouse_rows_naming(paths: DataPaths, values: list[str]) -> int:
    """Rows of the warehouse's tables with a text column equal to one of `values` (the subject's pseudonyms)."""
    if not values:
        return 0
    if on_spark():
        with duckdb.connect() as con:
            return sum(
                con.execute(f"SELECT count(*) FROM {relation} WHERE {_naming(names, values)}").fetchone()[0]
                for _, _, relation, names in _spark_text_tables(con, paths)
            )
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return sum(
            con.execute(
                f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)} WHERE {_naming(names, values)}"
            ).fetchall()[0][0]
            for schema, table, names in _warehouse_tables(con)
        )


def delete_rows_naming(paths: DataPaths, values: list[str]) -> None:
    """Delete the rows naming one of `values`: on Spark, by rewriting each file that holds any."""
    if not values:
        return
    if on_spark():
        with duckdb.connect() as con:
            for folder, files, _, names in _spark_text_tables(con, paths):
                naming = _naming(names, values)
                rewrite_spark_files_holding(con, folder, files, holding=naming, where=f"NOT coalesce({naming}, false)")
        return
    with duckdb.connect(str(paths.warehouse)) as con:
        for schema, table, names in _warehouse_tables(con):
            con.execute(f"DELETE FROM {quote_ident(schema)}.{quote_ident(table)} WHERE {_naming(names, values)}")


def first_open_day(paths: DataPaths) -> date:
    """The first day the last retention purge left open (all days before any purge); see
    macros/closed_by_purge.sql."""
    as_of = audit.purged_as_of(paths)
    return cutoff(CLOSING_CLASS, as_of) + timedelta(days=1) if as_of else date(1900, 1, 1)


def rebuild_warehouse(paths: DataPaths, pseudonyms: list[str], progress: Progress | None = None) -> None:
    """Rebuild the open days from raw, drop any row left naming the subject, then the freed bytes."""
    from orchestration.runner import rebuild_since

    if progress:
        progress.update(note="rebuilding the warehouse")
    result = rebuild_since(paths, first_open_day(paths))
    if not result.success:
        raise RebuildFailed(
            f"the Dagster build after the erasure failed: run {result.run_id}, see {paths.root / 'alerts'}"
        )
    with warehouse.writer(paths):
        delete_rows_naming(paths, pseudonyms)
        if not on_spark():  # Spark's rewritten files hold no freed bytes
            compact_warehouse(paths)
        warehouse.record_build(paths, f"erasure-{datetime.now(UTC).isoformat()}", dbt_target())


def _request_path(paths: DataPaths, store_id: str, customer_key: str) -> Path:
    if not (customer_key.isalnum() and store_id.replace("_", "").isalnum()):
        raise ValueError("a request is named by a store id and the keyed hash of a customer id")
    return paths.root / "erasure_requests" / store_id / f"{customer_key}.json"


def file_request(paths: DataPaths, store_id: str, customer_id: str) -> str:
    """Record a request to erase the customer (kept if one is pending); returns the key naming it."""
    key = Subject(store_id, customer_id, (), (), ()).keyed_hash(checked_customer_id(customer_id), paths)
    path = _request_path(paths, store_id, key)
    if not path.exists():
        checkpoint.save(path, {"store_id": store_id, "customer_id": customer_id})
    return key


def pending_requests(paths: DataPaths) -> list[tuple[str, str]]:
    """(store, key) of every erasure filed and not completed."""
    folder = paths.root / "erasure_requests"
    return [(p.parent.name, p.stem) for p in sorted(folder.glob("*/*.json"))]


def run_request(paths: DataPaths, store_id: str, customer_key: str, progress: Progress | None = None) -> dict[str, int]:
    """Carry out (or resume) a filed erasure; returns rows removed per place. `progress` moves on
    per file rewritten and per step (files, warehouse rebuild, publish)."""
    path = _request_path(paths, store_id, customer_key)
    if not path.exists():
        raise UnknownRequest(f"no pending erasure request {customer_key} in store {store_id!r}")
    state = json.loads(path.read_text(encoding="utf-8"))
    if "plan" not in state:
        try:
            subject = find_subject(paths, store_id, state["customer_id"])
        except UnknownCustomer:
            path.unlink()
            raise
        with duckdb.connect() as con:
            plan = _plan_inbox(paths, set(subject.identifiers)) + _plan_files(con, paths, subject)
        pseudonyms = [subject.keyed_hash(v, paths) for v in subject.pseudonymized]
        state |= {
            "subject": asdict(subject),
            "plan": plan,
            "erased_at": datetime.now(UTC).isoformat(),
            "warehouse_rows": warehouse_rows_naming(paths, pseudonyms) if has_warehouse(paths) else None,
            "done": [],
        }
        checkpoint.save(path, state)
    subject = Subject(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["subject"].items()})
    pseudonyms = [subject.keyed_hash(v, paths) for v in subject.pseudonymized]

    if progress:
        progress.total = len(state["plan"]) + (2 if state["warehouse_rows"] is not None else 0)

    def step(name: str, action) -> None:
        checkpoint.step(path, state, name, action)
        if progress and name != "files":
            progress.update(advance=1, note=f"{name} done")

    def apply_files() -> None:
        with duckdb.connect() as con:
            for item in state["plan"]:
                if item["place"] == "inbox":
                    _apply_inbox(paths, item, set(subject.identifiers))
                else:
                    _apply_file(con, paths, item, subject)
                if progress:
                    progress.update(advance=1, note=f"{item['place']} rewritten")

    # First: from now on no delivery lands the subject again, whatever the inbox still receives.
    step(
        "suppressed",
        lambda: suppression.suppress(paths, store_id, {subject.keyed_hash(v, paths) for v in subject.identifiers}),
    )
    step("files", apply_files)
    if state["warehouse_rows"] is not None:
        step("warehouse", lambda: rebuild_warehouse(paths, pseudonyms, progress))
        step("published", lambda: republish(paths))
    removed = dict.fromkeys(("inbox", "raw", "quarantine"), 0)
    for item in state["plan"]:
        removed[item["place"]] += item["rows"]
    if state["warehouse_rows"] is not None:
        removed["warehouse"] = state["warehouse_rows"]
    erased_at = datetime.fromisoformat(state["erased_at"])
    logged = [r for r in audit.read_if_any(paths, "erasure_log") if r[0] == erased_at and r[2] == customer_key]
    if not logged:
        audit.append(paths, "erasure_log", [(erased_at, store_id, customer_key, p, n) for p, n in removed.items()])
    path.unlink()
    return removed


def erase(paths: DataPaths, store_id: str, customer_id: str, progress: Progress | None = None) -> dict[str, int]:
    """Erase the customer everywhere, or finish an erasure of them that stopped halfway; returns rows
    removed per place (UnknownCustomer if no row names them)."""
    return run_request(paths, store_id, file_request(paths, store_id, customer_id), progress)
