"""The retention purge: past its class's retention (`PII_RETENTION_DAYS`), a value is set to NULL,
or, for a customer or device id (a contract field marked `pseudonymous_key`), replaced in raw by its
pseudonymous key (`governance/pseudonyms.py`, marked so staging does not hash it again): lifetime
marts keep a returning customer as the same customer, and a full refresh rebuilds what was built.
A user agent that declares a crawler (the bot_user_agent_patterns seed) names software, not a
person: it is kept, so the bots a full refresh finds are those the first build found.

A pseudonymous key goes 25 months after its customer's or device's last activity (an order, an
event, a connected device's telemetry, a subscription change or a loyalty entry naming it, in raw):
the plan lists those keys (`Forgotten.keys`, in the checkpoint), the purge clears them from raw and
from the incremental tables' `pseudonymous` columns, whatever their date.
Consent decisions are evidence instead: kept while in force, and 3 years after they end (a grant
ends when the next decision of its device and purpose supersedes it; a denial or withdrawal, which
proves no consent, when made); then the decision's device and customer keys are cleared
(`Forgotten.consents`). A device's consent outlives its inactivity: its key stays in the evidence.

Where personal values are kept, and how their age is measured:
- raw Parquet (and whole batches quarantined after landing): by the partition date; each file is
  rewritten atomically with its expired columns NULL. A record's primary key and partition field are
  kept: a row without them cannot be deduplicated or placed (erasure removes them on request).
- quarantined rows: the payload (the row as received) by the quarantine time, at the retention of
  the most sensitive field of its contract; a file quarantine keeps whole, as received (landing
  could not split it into lines), likewise by the time it was kept, and deleted (column `file`).
- incremental warehouse tables (they keep history the raw no longer holds): by the date of their
  unique key, `UPDATE ... SET column = NULL`; then the file is compacted so the old bytes go too.
  On Spark (DBT_TARGET=spark) the same values of the same tables are cleared in their Parquet
  files, each file that holds any rewritten atomically under its own name.
  Staging views read raw, and full tables are rebuilt from them by the next build (the schedule runs
  the purge before the daily build); aggregates hold no personal column and are not touched: the
  daily marts counting visitors or customers keep the days the purge closed (the audit row's as_of
  reaches dbt through the pii_key plugin; macros/closed_by_purge.sql), and the staging tests allow
  NULL where it has been (the `retained` columns of tests/generic/not_null_columns.sql).

The plan (one entry per file or table and column, with the rows to clear) is what a dry run prints
and what a real run does, then records in the audit table `purge_log`. Like an erasure it is
checkpointed (`governance/checkpoint.py`, `$DATA_DIR/purge.pending.json`), written before anything
changes, then applied step by step, each idempotent: files (one already rewritten is skipped),
warehouse (one transaction, then compaction), published marts, audit (once: its `purged_at` is the
planning time). Killed at any point, it is finished by the next purge or the next build, which
finishes it before dbt runs; until then the build already counts its `as_of` as purged.
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import asdict, astuple, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.contracts import PII_CLASSES, PII_RETENTION_DAYS, Contract, Field, load_contracts
from orchestration.dbt_project import PROJECT_DIR
from orchestration.governance import audit, checkpoint, pseudonyms, unconsented
from orchestration.governance.storage import (
    compact_warehouse,
    republish,
    rewrite_parquet,
    rewrite_spark_files_holding,
)
from orchestration.governance.warehouse_tables import spark_table_files, warehouse_relations
from orchestration.lib.file_locks import exclusive
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.settings import DataPaths, on_spark
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
KEY_CLASS = "pseudonymous"
# Where a key's last activity is read: (extract, field naming the customer or device); a connected
# device in use (readings, doses, patches) is as active as a browsing one.
ACTIVITY = (("orders", "customer_id"), ("events", "user_id"), ("events", "anonymous_id"))
ACTIVITY += tuple(
    (telemetry, field)
    for telemetry in ("sensor_readings", "dosage_deliveries", "patch_applications")
    for field in ("device_id", "customer_id")
)
# A subscriber's renewals and a loyalty member's points are activity too, orders or not.
ACTIVITY += (("subscription_events", "customer_id"), ("loyalty_transactions", "customer_id"))
# The SQL lists of the keys and consent decisions this purge forgets (temporary tables of its connections).
EXPIRED_KEYS = "(SELECT key FROM expired_keys)"
EXPIRED_CONSENTS = "(SELECT consent_event_id FROM expired_consents)"
CONSENT_EVIDENCE_YEARS = 3


@dataclass(frozen=True)
class Forgotten:
    """What a purge forgets whatever the rows' dates: keys 25 months inactive, consent decisions 3
    years after they ended (by consent_event_id); and the raw days before which unconsented events
    lose their clear identifiers (`unconsented.py`)."""

    keys: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    unconsented_before: str | None = None


def cutoff(pii: str, as_of: date) -> date | None:
    days = PII_RETENTION_DAYS[pii]
    return None if days is None else as_of - timedelta(days=days)


@functools.cache
def _bot_patterns() -> str:
    """The seed's crawler patterns as one regex, read once: the purge asks for it per file."""
    with (PROJECT_DIR / "seeds" / "bot_user_agent_patterns.csv").open(encoding="utf-8") as handle:
        return "|".join(row["pattern"] for row in csv.DictReader(handle))


def _kept_bots(contract: Contract, field: Field) -> str | None:
    """SQL condition on a user agent that declares a crawler (kept past retention), else None."""
    if (contract.name, field.name) != ("events", "user_agent"):
        return None
    return f"regexp_matches(lower({quote_ident(field.name)}), {quote_literal(_bot_patterns())})"


def _to_change(contract: Contract, item: Expired) -> str:
    """SQL condition on a raw row: the item's column still holds a value the purge changes."""
    field = contract.field(item.column)
    column = quote_ident(field.name)
    if item.pii == KEY_CLASS:
        return f"{column} IS NOT NULL AND {_forgets(contract, column)}"
    if item.pii == unconsented.UNCONSENTED:
        return f"{column} IS NOT NULL AND {unconsented.IS_UNCONSENTED}"
    if field.pseudonymous_key:
        return f"{column} IS NOT NULL AND NOT {pseudonyms.is_marked(column)}"
    bots = _kept_bots(contract, field)
    return f"{column} IS NOT NULL" + (f" AND NOT {bots}" if bots else "")


def _replacement(contract: Contract, column: str, items: list[Expired]) -> str:
    """SQL: the column's value once the purge's items for it are applied."""
    field = contract.field(column)
    name = quote_ident(column)
    value = name
    if any(i.pii not in (KEY_CLASS, unconsented.UNCONSENTED) for i in items):  # past its class's retention
        value = f"CAST(NULL AS {field.sql_type})"
        if field.pseudonymous_key:
            value = f"marked_pseudonym({name})"
        elif bots := _kept_bots(contract, field):
            value = f"CASE WHEN {bots} THEN {name} END"
    if any(i.pii == KEY_CLASS for i in items):
        value = f"CASE WHEN NOT coalesce({_forgets(contract, name)}, false) THEN {value} END"
    if any(i.pii == unconsented.UNCONSENTED for i in items):
        value = f"CASE WHEN NOT {unconsented.IS_UNCONSENTED} THEN {value} END"
    return f"{value} AS {name}"


def _forgets(contract: Contract, column: str) -> str:
    """SQL on a raw row: its key in `column` (quoted) is forgotten, as inactive or as ended evidence."""
    if contract.name == "consent_logs":
        return f"consent_event_id IN {EXPIRED_CONSENTS}"
    return f"pseudonym({column}) IN {EXPIRED_KEYS}"


def _connect(paths: DataPaths, forgotten: Forgotten) -> duckdb.DuckDBPyConnection:
    """A connection with the pseudonym functions and what the purge forgets."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    pseudonyms.register(con, paths)
    _keep_forgotten(con, forgotten)
    with writer(paths):  # read from the warehouse while no build writes it
        unconsented.keep_unconsented(con, paths, forgotten.unconsented_before)
    return con


def _keep_forgotten(con, forgotten: Forgotten) -> None:
    con.execute("CREATE TEMP TABLE expired_keys AS SELECT unnest(?::VARCHAR[]) AS key", [forgotten.keys])
    consents = forgotten.consents
    con.execute("CREATE TEMP TABLE expired_consents AS SELECT unnest(?::VARCHAR[]) AS consent_event_id", [consents])


def evidence_cutoff(as_of: date) -> date:
    """Consent decisions that ended before it are no longer needed as proof."""
    try:
        return as_of.replace(year=as_of.year - CONSENT_EVIDENCE_YEARS)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - CONSENT_EVIDENCE_YEARS, day=28)


def expired_consents(con, paths: DataPaths, as_of: date) -> list[str]:
    """Consent decisions whose evidence is past its retention (see the module's docstring); none
    without a decision recorded before the evidence cutoff."""
    limit = evidence_cutoff(as_of)
    files = _partition_files(paths, "consent_logs")
    if not any(day < limit for day, _ in files):
        return []
    listing = "[" + ", ".join(quote_literal(str(f)) for _, f in files) + "]"
    return [
        c
        for (c,) in con.execute(
            f"""
            WITH decisions AS (
                SELECT DISTINCT consent_event_id, store_id, pseudonym(anonymous_id) AS device, purpose, action,
                    recorded_at
                FROM read_parquet({listing}, hive_partitioning = false, union_by_name = true)
                WHERE anonymous_id IS NOT NULL
            ),
            ended AS (
                SELECT consent_event_id, CASE WHEN action = 'granted' THEN lead(recorded_at) OVER (
                    PARTITION BY store_id, device, purpose ORDER BY recorded_at, consent_event_id
                ) ELSE recorded_at END AS ended_at
                FROM decisions
            )
            SELECT consent_event_id FROM ended WHERE ended_at < ?::DATE ORDER BY 1
            """,
            [limit.isoformat()],
        ).fetchall()
    ]


def expired_keys(con, paths: DataPaths, as_of: date) -> list[str]:
    """Pseudonymous keys with no activity (order or event naming them, in raw) on or after the key
    class's cutoff. Only rows older than the cutoff can hold one, so without such rows nothing is
    hashed."""
    limit = cutoff(KEY_CLASS, as_of)
    old, recent = [], []
    for source, column in ACTIVITY:
        for day, file in _partition_files(paths, source):
            select = f"SELECT pseudonym({quote_ident(column)}) AS key FROM {_parquet(file)}"
            (old if day < limit else recent).append(f"{select} WHERE {quote_ident(column)} IS NOT NULL")
    if not old:
        return []
    keys = f"SELECT DISTINCT key FROM ({' UNION ALL '.join(old)})"
    if recent:
        keys += f" EXCEPT SELECT key FROM ({' UNION ALL '.join(recent)})"
    return sorted(k for (k,) in con.execute(keys).fetchall())


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


def _raw_plan(con, paths: DataPaths, contract: Contract, as_of: date, forgotten: Forgotten) -> list[Expired]:
    kept = {*contract.primary_key, contract.partition_by}
    fields = [f for f in contract.columns if f.name not in kept and cutoff(f.pii, as_of)]
    evidence = contract.name == "consent_logs"
    forgetting = forgotten.consents if evidence else forgotten.keys
    keys = [f for f in fields if f.pseudonymous_key] if forgetting else []
    # Keys last active before the key cutoff, and evidence that ended before its cutoff, sit only in
    # rows dated before it.
    key_cutoff = evidence_cutoff(as_of) if evidence else cutoff(KEY_CLASS, as_of)
    plan = []
    for day, file in _partition_files(paths, contract.name):
        target = str(file.relative_to(paths.root))
        candidates = [Expired("raw", target, f.name, f.pii, cutoff(f.pii, as_of), 0) for f in fields]
        candidates = [i for i in candidates if day < i.cutoff]
        if day < key_cutoff:
            candidates += [Expired("raw", target, f.name, KEY_CLASS, key_cutoff, 0) for f in keys]
        if contract.name == unconsented.SOURCE and forgotten.unconsented_before:
            closed = date.fromisoformat(forgotten.unconsented_before)
            if day < closed:
                candidates += [
                    Expired("raw", target, c, unconsented.UNCONSENTED, closed, 0) for c in unconsented.COLUMNS
                ]
        if not candidates:
            continue
        counts = ", ".join(f"count(*) FILTER (WHERE {_to_change(contract, i)})" for i in candidates)
        found = con.execute(f"SELECT {counts} FROM {_parquet(file)}").fetchone()
        plan += [
            Expired(i.place, i.target, i.column, i.pii, i.cutoff, n)
            for i, n in zip(candidates, found, strict=True)
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


def _warehouse_condition(item: Expired, date_column: str) -> str:
    """SQL on an incremental table's row: the item clears its column there. A key goes wherever it
    is, whatever the row's date; an unconsented event's ids once its day closed; another value by
    the row's date."""
    if item.pii == KEY_CLASS:
        return f"{quote_ident(item.column)} IN {EXPIRED_KEYS}"
    if item.pii == unconsented.UNCONSENTED:
        return unconsented.excluded_before(item.cutoff.isoformat())
    return f"{quote_ident(date_column)} < {quote_literal(item.cutoff.isoformat())}::DATE"


def _warehouse_plan(con, paths: DataPaths, manifest_path: Path, as_of: date, forgotten: Forgotten) -> list[Expired]:
    tables = incremental_tables(manifest_path)
    date_columns = {table: date_column for table, date_column, _ in tables}
    candidates = [
        Expired("warehouse", table, column, pii, cutoff(pii, as_of), 0)
        for table, _, columns in tables
        for column, pii in columns.items()
    ]
    if forgotten.unconsented_before:
        closed = date.fromisoformat(forgotten.unconsented_before)
        candidates += [
            Expired("warehouse", unconsented.CLASSIFIED, column, unconsented.UNCONSENTED, closed, 0)
            for column in unconsented.CLASSIFIED_COLUMNS
        ]
    plan = []
    with writer(paths), warehouse_relations(con, paths, sorted(date_columns)) as relations:
        for item in (i for i in candidates if i.target in relations):
            where = _warehouse_condition(item, date_columns[item.target])
            [n] = _count_non_null(con, relations[item.target], [item.column], where)
            if n:
                plan.append(replace(item, rows=n))
    return plan


def plan_purge(paths: DataPaths, as_of: date, manifest_path: Path) -> tuple[list[Expired], Forgotten]:
    """Everything expired on `as_of`, and the keys and consent decisions it forgets."""
    with _connect(paths, Forgotten()) as con:
        keys, consents = expired_keys(con, paths, as_of), expired_consents(con, paths, as_of)
    forgotten = Forgotten(keys, consents, unconsented.closed_before(as_of).isoformat())
    plan = []
    with _connect(paths, forgotten) as con:
        for contract in load_contracts().values():
            plan += _raw_plan(con, paths, contract, as_of, forgotten) + _quarantine_plan(con, paths, contract, as_of)
    with duckdb.connect() as con:
        _keep_forgotten(con, forgotten)
        plan += _warehouse_plan(con, paths, manifest_path, as_of, forgotten)
    return plan, forgotten


def _file_items(plan: list[Expired]) -> dict[str, list[Expired]]:
    by_file: dict[str, list[Expired]] = {}
    for item in plan:
        if item.place != "warehouse":
            by_file.setdefault(item.target, []).append(item)
    return by_file


def _expired_left(con, file: Path, items: list[Expired], contract: Contract) -> int:
    """Values of the plan still set in the file: none once it was rewritten (before a kill, say)."""
    if items[0].place == "quarantine":
        where = f"quarantined_at < {quote_literal(items[0].cutoff.isoformat())}::DATE"
        return _count_non_null(con, _parquet(file), ["payload"], where)[0]
    condition = " OR ".join(f"({_to_change(contract, i)})" for i in items)
    return con.execute(f"SELECT count(*) FROM {_parquet(file)} WHERE {condition}").fetchone()[0]


def _apply_files(paths: DataPaths, plan: list[Expired], forgotten: Forgotten) -> None:
    contracts = {c.name: c for c in load_contracts().values()}
    with _connect(paths, forgotten) as con:
        for target, items in _file_items(plan).items():
            file = paths.root / target
            if items[0].column == KEPT_FILE:
                file.unlink(missing_ok=True)
                continue
            contract = contracts[Path(target).parts[1]]
            if not file.exists() or not _expired_left(con, file, items, contract):
                continue
            if items[0].place == "quarantine":
                limit = quote_literal(items[0].cutoff.isoformat())
                replace = f"CASE WHEN quarantined_at < {limit}::DATE THEN NULL ELSE payload END AS payload"
            else:
                columns = {i.column: [j for j in items if j.column == i.column] for i in items}
                replace = ", ".join(_replacement(contract, c, its) for c, its in columns.items())
            rewrite_parquet(con, file, f"SELECT * REPLACE ({replace}) FROM src")


def _apply_warehouse(paths: DataPaths, plan: list[Expired], date_columns: dict[str, str], forgotten: Forgotten) -> None:
    """NULL the expired values of the incremental tables: on DuckDB in one transaction, then drop
    their bytes; on Spark file by file."""
    items = [i for i in plan if i.place == "warehouse"]
    if not items:
        return
    with writer(paths):
        if on_spark():
            _apply_spark_tables(paths, items, date_columns, forgotten)
        else:
            _apply_duckdb_tables(paths, items, date_columns, forgotten)


def _apply_duckdb_tables(
    paths: DataPaths, items: list[Expired], date_columns: dict[str, str], forgotten: Forgotten
) -> None:
    with duckdb.connect(str(paths.warehouse)) as con:
        _keep_forgotten(con, forgotten)
        con.execute("BEGIN")
        for i in items:
            where = _warehouse_condition(i, date_columns[i.target])
            con.execute(f"UPDATE {i.target} SET {quote_ident(i.column)} = NULL WHERE {where}")
        con.execute("COMMIT")
    compact_warehouse(paths)


def _apply_spark_tables(
    paths: DataPaths, items: list[Expired], date_columns: dict[str, str], forgotten: Forgotten
) -> None:
    """Rewrite each Parquet file of Spark's incremental tables that still holds values of the plan,
    with those values NULL (Parquet has no UPDATE; `storage.rewrite_spark_file`). A file already
    rewritten (before a kill, say) holds none and is left alone. The conditions read the partition
    columns from the file's folders."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        _keep_forgotten(con, forgotten)
        for table in sorted({i.target for i in items}):
            conditions: dict[str, list[str]] = {}
            for i in (i for i in items if i.target == table):
                conditions.setdefault(i.column, []).append(_warehouse_condition(i, date_columns[table]))
            clears = {column: " OR ".join(f"({c})" for c in found) for column, found in conditions.items()}
            left = " OR ".join(f"({quote_ident(c)} IS NOT NULL AND ({w}))" for c, w in clears.items())
            replaced = ", ".join(
                f"CASE WHEN {w} THEN NULL ELSE {quote_ident(c)} END AS {quote_ident(c)}" for c, w in clears.items()
            )
            rewrite_spark_files_holding(con, *spark_table_files(paths, table), holding=left, replace=replaced)


def _start(paths: DataPaths, as_of: date, plan: list[Expired], forgotten: Forgotten, manifest_path: Path) -> dict:
    """The checkpoint of a planned purge, written before anything changes."""
    tables = {i.target for i in plan if i.place == "warehouse"}
    state = {
        "as_of": as_of.isoformat(),
        "planned_at": datetime.now(UTC).isoformat(),
        "plan": [{**asdict(i), "cutoff": i.cutoff.isoformat()} for i in plan],
        "date_columns": {table: column for table, column, _ in incremental_tables(manifest_path) if table in tables},
        "forgotten": asdict(forgotten),
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
    forgotten = Forgotten(**state.get("forgotten", {}))
    checkpoint.step(path, state, "files", lambda: _apply_files(paths, plan, forgotten))
    if any(i.place == "warehouse" for i in plan):
        warehouse_step = lambda: _apply_warehouse(paths, plan, state["date_columns"], forgotten)  # noqa: E731
        checkpoint.step(path, state, "warehouse", warehouse_step)
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
            return plan_purge(paths, as_of, manifest_path)[0] if pending is None else _planned(pending)
        finished = _finish(paths, pending) if pending else []
        plan, forgotten = plan_purge(paths, as_of, manifest_path)
        if plan:
            _finish(paths, _start(paths, as_of, plan, forgotten, manifest_path))
        return finished + plan
