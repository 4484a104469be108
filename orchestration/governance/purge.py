"""The retention purge: past its class's retention (`PII_RETENTION_DAYS`), a value is set to NULL.

Where personal values are kept, and how their age is measured:
- raw Parquet (and whole batches quarantined after landing): by the partition date; each file is
  rewritten atomically with its expired columns NULL. A record's primary key and partition field are
  kept: a row without them cannot be deduplicated or placed (erasure removes them on request).
- quarantined rows: the payload (the row as received) by the quarantine time, at the retention of
  the most sensitive field of its contract; a file quarantine keeps whole, as received (landing
  could not split it into lines), likewise by the time it was kept, and deleted (column `file`).
- incremental warehouse tables (they keep history the raw no longer holds): by the date of their
  unique key, `UPDATE ... SET column = NULL`; then the file is compacted so the old bytes go too.
  Staging views read raw, and full tables are rebuilt from them by the next build (the schedule runs
  the purge before the daily build); aggregates hold no personal column and are not touched: the
  daily marts counting visitors or customers keep the days the purge closed (the audit row's as_of
  reaches dbt through the pii_key plugin; macros/closed_by_purge.sql), and the staging tests allow
  NULL where it has been (tests/generic/not_null_within_retention.sql).

The plan (one entry per file or table and column, with the rows to clear) is what a dry run prints
and what a real run does, then records in the audit table `purge_log`. Like an erasure it is
checkpointed (`governance/checkpoint.py`, `$DATA_DIR/purge.pending.json`), written before anything
changes, then applied step by step, each idempotent: files (one already rewritten is skipped),
warehouse (one transaction, then compaction), published marts, audit (once: its `purged_at` is the
planning time). Killed at any point, it is finished by the next purge or the next build, which
finishes it before dbt runs; until then the build already counts its `as_of` as purged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, astuple, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.contracts import PII_CLASSES, PII_RETENTION_DAYS, Contract, load_contracts
from orchestration.governance import audit, checkpoint
from orchestration.governance.storage import compact_warehouse, republish, rewrite_parquet
from orchestration.landing.rules import quote_ident, quote_literal
from orchestration.locks import exclusive
from orchestration.settings import DataPaths
from orchestration.warehouse import writer


@dataclass(frozen=True)
class Expired:
    place: str  # raw, quarantine or warehouse
    target: str  # a file relative to DATA_DIR, or schema.table
    column: str
    pii: str
    cutoff: date  # values dated before it are expired
    rows: int  # values to clear (non-null ones)


# The "column" of a plan entry that deletes a file quarantine kept whole.
KEPT_FILE = "file"
# One purge at a time, and a build waits for a running one rather than finishing it alongside.
LOCK_NAME = "purge"


def cutoff(pii: str, as_of: date) -> date | None:
    days = PII_RETENTION_DAYS[pii]
    return None if days is None else as_of - timedelta(days=days)


def _count_non_null(con, relation: str, columns: list[str], where: str = "true") -> list[int]:
    counts = ", ".join(f"count({quote_ident(c)}) FILTER (WHERE {where})" for c in columns)
    return list(con.execute(f"SELECT {counts} FROM {relation}").fetchone())


def _parquet(path: Path) -> str:
    return f"read_parquet({quote_literal(str(path))}, hive_partitioning = false)"


def _partition_files(paths: DataPaths, source: str) -> list[tuple[date, Path]]:
    """Landed files and files of batches quarantined whole, with their partition date."""
    folders = [paths.raw_for(source), *paths.quarantine_for(source).glob("failed_batches/*")]
    return [
        (date.fromisoformat(file.parent.name.removeprefix("date=")), file)
        for folder in folders
        for file in sorted(folder.glob("date=*/*.parquet"))
    ]


def _raw_plan(con, paths: DataPaths, contract: Contract, as_of: date) -> list[Expired]:
    kept = {*contract.primary_key, contract.partition_by}
    fields = [f for f in contract.columns if f.name not in kept and cutoff(f.pii, as_of)]
    plan = []
    for day, file in _partition_files(paths, contract.name):
        expired = [f for f in fields if day < cutoff(f.pii, as_of)]
        if not expired:
            continue
        counts = _count_non_null(con, _parquet(file), [f.name for f in expired])
        target = str(file.relative_to(paths.root))
        plan += [
            Expired("raw", target, f.name, f.pii, cutoff(f.pii, as_of), n)
            for f, n in zip(expired, counts, strict=True)
            if n
        ]
    return plan


def _quarantine_plan(con, paths: DataPaths, contract: Contract, as_of: date) -> list[Expired]:
    pii = max((f.pii for f in contract.columns), key=PII_CLASSES.index)
    limit = cutoff(pii, as_of)
    if limit is None:
        return []
    plan = []
    for file in sorted(paths.quarantine_for(contract.name).glob("part-*.parquet")):
        where = f"quarantined_at < {quote_literal(limit.isoformat())}::DATE"
        [n] = _count_non_null(con, _parquet(file), ["payload"], where)
        if n:
            plan.append(Expired("quarantine", str(file.relative_to(paths.root)), "payload", pii, limit, n))
    for file in sorted(paths.quarantine_for(contract.name).glob("files/*")):
        if datetime.fromtimestamp(file.stat().st_mtime, UTC).date() < limit:
            plan.append(Expired("quarantine", str(file.relative_to(paths.root)), KEPT_FILE, pii, limit, 1))
    return plan


def incremental_tables(manifest_path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(schema.table, its date column, {column: class} of the columns with a finite retention)."""
    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"].values()
    tables = []
    for node in nodes:
        if node["resource_type"] != "model" or node["config"]["materialized"] != "incremental":
            continue
        # Incremental models replace whole days of a store: the key names the date the rows belong to.
        [date_column] = [k for k in node["config"]["unique_key"] if k != "store_id"]
        columns = {
            name: column["meta"]["pii"]
            for name, column in node["columns"].items()
            if PII_RETENTION_DAYS.get(column.get("meta", {}).get("pii")) is not None
        }
        if columns:
            tables.append((f"{node['schema']}.{node['alias']}", date_column, columns))
    return tables


def _warehouse_plan(con, manifest_path: Path, as_of: date) -> list[Expired]:
    existing = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    plan = []
    for table, date_column, columns in incremental_tables(manifest_path):
        if table not in existing:
            continue
        for column, pii in columns.items():
            limit = cutoff(pii, as_of)
            where = f"{quote_ident(date_column)} < {quote_literal(limit.isoformat())}::DATE"
            [n] = _count_non_null(con, table, [column], where)
            if n:
                plan.append(Expired("warehouse", table, column, pii, limit, n))
    return plan


def plan_purge(paths: DataPaths, as_of: date, manifest_path: Path) -> list[Expired]:
    with duckdb.connect() as con:
        plan = []
        for contract in load_contracts().values():
            plan += _raw_plan(con, paths, contract, as_of) + _quarantine_plan(con, paths, contract, as_of)
    if paths.warehouse.exists():
        with writer(paths), duckdb.connect(str(paths.warehouse), read_only=True) as con:
            plan += _warehouse_plan(con, manifest_path, as_of)
    return plan


def _file_items(plan: list[Expired]) -> dict[str, list[Expired]]:
    by_file: dict[str, list[Expired]] = {}
    for item in plan:
        if item.place != "warehouse":
            by_file.setdefault(item.target, []).append(item)
    return by_file


def _expired_left(con, file: Path, items: list[Expired]) -> int:
    """Values of the plan still set in the file: none once it was rewritten (before a kill, say)."""
    if items[0].place == "quarantine":
        where = f"quarantined_at < {quote_literal(items[0].cutoff.isoformat())}::DATE"
        return _count_non_null(con, _parquet(file), ["payload"], where)[0]
    return sum(_count_non_null(con, _parquet(file), [i.column for i in items]))


def _apply_files(paths: DataPaths, plan: list[Expired]) -> None:
    contracts = {c.name: c for c in load_contracts().values()}
    with duckdb.connect() as con:
        for target, items in _file_items(plan).items():
            file = paths.root / target
            if items[0].column == KEPT_FILE:
                file.unlink(missing_ok=True)
                continue
            if not file.exists() or not _expired_left(con, file, items):
                continue
            if items[0].place == "quarantine":
                limit = quote_literal(items[0].cutoff.isoformat())
                replace = f"CASE WHEN quarantined_at < {limit}::DATE THEN NULL ELSE payload END AS payload"
            else:
                contract = contracts[Path(target).parts[1]]
                replace = ", ".join(
                    f"CAST(NULL AS {contract.field(i.column).sql_type}) AS {quote_ident(i.column)}" for i in items
                )
            rewrite_parquet(con, file, f"SELECT * REPLACE ({replace}) FROM src")


def _apply_warehouse(paths: DataPaths, plan: list[Expired], date_columns: dict[str, str]) -> None:
    """NULL the expired values of the incremental tables in one transaction, then drop their bytes."""
    items = [i for i in plan if i.place == "warehouse"]
    if not items:
        return
    with writer(paths):
        with duckdb.connect(str(paths.warehouse)) as con:
            con.execute("BEGIN")
            for i in items:
                con.execute(
                    f"UPDATE {i.target} SET {quote_ident(i.column)} = NULL"
                    f" WHERE {quote_ident(date_columns[i.target])} < ?::DATE",
                    [i.cutoff.isoformat()],
                )
            con.execute("COMMIT")
        compact_warehouse(paths)


def _start(paths: DataPaths, as_of: date, plan: list[Expired], manifest_path: Path) -> dict:
    """The checkpoint of a planned purge, written before anything changes."""
    tables = {i.target for i in plan if i.place == "warehouse"}
    state = {
        "as_of": as_of.isoformat(),
        "planned_at": datetime.now(UTC).isoformat(),
        "plan": [{**asdict(i), "cutoff": i.cutoff.isoformat()} for i in plan],
        "date_columns": {table: column for table, column, _ in incremental_tables(manifest_path) if table in tables},
        "done": [],
    }
    checkpoint.save(checkpoint.purge_path(paths), state)
    return state


def _planned(state: dict) -> list[Expired]:
    return [Expired(**{**i, "cutoff": date.fromisoformat(i["cutoff"])}) for i in state["plan"]]


def _finish(paths: DataPaths, state: dict) -> list[Expired]:
    """Apply (or resume) a checkpointed purge: files, warehouse, published marts, audit; each step once."""
    path = checkpoint.purge_path(paths)
    plan = _planned(state)
    checkpoint.step(path, state, "files", lambda: _apply_files(paths, plan))
    if any(i.place == "warehouse" for i in plan):
        checkpoint.step(path, state, "warehouse", lambda: _apply_warehouse(paths, plan, state["date_columns"]))
        # Published copies hold the purged tables' values too (fct_sessions.visitor_id...).
        checkpoint.step(path, state, "published", lambda: republish(paths))
    purged_at = datetime.fromisoformat(state["planned_at"])
    if not [r for r in audit.read_if_any(paths, "purge_log") if r[0] == purged_at]:
        as_of = date.fromisoformat(state["as_of"])
        audit.append(paths, "purge_log", [(purged_at, as_of, *astuple(i)) for i in plan])
    forget(paths)
    return plan


def forget(paths: DataPaths) -> None:
    """The purge is done and audited: its checkpoint goes."""
    checkpoint.purge_path(paths).unlink()


def finish_pending_purge(paths: DataPaths) -> list[Expired]:
    """Finish a purge that stopped halfway (killed, out of space); the plan it finished, or []."""
    with exclusive(paths, LOCK_NAME):
        state = checkpoint.load(checkpoint.purge_path(paths))
        return _finish(paths, state) if state else []


def purge(paths: DataPaths, as_of: date, manifest_path: Path, dry_run: bool = False) -> list[Expired]:
    """Plan, and unless `dry_run` apply and audit, the purge of everything expired on `as_of`.

    A purge that stopped halfway is finished first, its plan returned with the new one; a dry run
    then returns what that purge has left to do, since planning on half-purged files would count
    its values twice."""
    with exclusive(paths, LOCK_NAME):
        pending = checkpoint.load(checkpoint.purge_path(paths))
        if dry_run:
            return plan_purge(paths, as_of, manifest_path) if pending is None else _planned(pending)
        finished = _finish(paths, pending) if pending else []
        plan = plan_purge(paths, as_of, manifest_path)
        if plan:
            _finish(paths, _start(paths, as_of, plan, manifest_path))
        return finished + plan
