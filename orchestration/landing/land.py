"""Land inbox extracts as typed, date-partitioned Parquet, exactly once.

For one extract: count its records apart from the parser, read it as text, give every row that
breaks a contract rule a quarantine reason, cast the rest, drop duplicate keys, and write one
Parquet file per UTC event date, `raw/<source>/date=YYYY-MM-DD/part-<extract id>.parquet`.
A file that cannot be read (empty, not decompressible, not UTF-8, another delimiter, a record
the parser lost) gets an outcome too: rejected, its lines quarantined (or the file kept whole
when it has none), and a manifest record, so it is never landed again and blocks nothing.

Every file of an extract is first written under `staging/<source>/<content hash>/`, mirroring
its place under DATA_DIR; the manifest record is written next, and only then are the files
moved into place. So raw never holds a file without its record: a crash before the record
leaves only staging, discarded by the next run, which lands the extract again; a crash after it
leaves staged files that the next run moves. Nothing lands twice.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.contracts import Contract, load_contracts
from orchestration.governance import minimise
from orchestration.landing import delivery, manifest, profile, readers, suppression
from orchestration.landing.expectations import validate_batch
from orchestration.landing.rules import (
    CARD_NUMBER,
    FAILED_EXPECTATIONS,
    LINE_TOO_LONG,
    OUT_OF_RANGE,
    UNREADABLE_FILE,
    derived_columns,
    implausible_time,
    mask_card_numbers,
    partition_date,
    quarantine_reason,
    typed_columns,
)
from orchestration.lib.atomic_files import write_atomic, write_text_atomic
from orchestration.lib.content_hash import content_hash
from orchestration.lib.in_memory_duckdb import connect
from orchestration.lib.parquet_output import PARQUET_OPTIONS
from orchestration.lib.sql_quoting import quote_ident, quote_literal
from orchestration.settings import DataPaths

# `_landing_order` = extract sequence x this + row number: one integer that orders every landed row
# of a source (room for 10^10 rows per extract and 9 x 10^8 extracts in a BIGINT). Landing time
# cannot: extracts landed in one run share their second.
LANDING_ORDER_STRIDE = 10**10
# SQL over `checked`: the row is valid (no quarantine reason) and names no erased subject; its
# first copy (or last, for a mutable source) lands.
VALID = "_reason IS NULL AND NOT _erased"


# Plausible time: a row partitioned after now + this tolerance, or before the floor, is quarantined
# as out_of_range:<partition field>.
FUTURE_TOLERANCE_ENV, DEFAULT_FUTURE_TOLERANCE_HOURS = "LANDING_FUTURE_TOLERANCE_HOURS", 48
DATE_FLOOR_ENV, DEFAULT_DATE_FLOOR = "LANDING_DATE_FLOOR", "2000-01-01"
# The last landing stamp issued, under DATA_DIR.
CLOCK_FILE = "landing_clock.json"
# How many extracts of a run are parsed, validated and staged at once (threads: DuckDB, zlib and
# the Parquet writer release the GIL); by default one per core.
WORKERS_ENV = "LANDING_WORKERS"


def landing_workers() -> int:
    return max(1, int(os.environ.get(WORKERS_ENV) or os.cpu_count() or 1))


class LandingFailed(RuntimeError):
    """Some extracts could not be landed for a reason other than their content (a full disk,
    memory, a bug); the others of the run were landed and recorded. `errors` are the causes."""

    def __init__(self, source: str, errors: dict[str, Exception]):
        listing = "; ".join(f"{file}: {type(exc).__name__}: {exc}" for file, exc in errors.items())
        super().__init__(f"{len(errors)} extract(s) of {source} failed to land: {listing}")
        self.errors = errors


@dataclass(frozen=True)
class Extract:
    source: str
    path: Path
    sha256: str
    # Size and mtime when hashed (delivery.signature): the file must not change until it is landed.
    signature: tuple[int, int] | None = None

    @property
    def extract_id(self) -> str:
        return self.sha256[:16]


def pending_extracts(paths: DataPaths, contract: Contract) -> list[Extract]:
    """Complete inbox files of a source without a manifest record, oldest name first; a file with
    the same bytes as one before it is the same extract, sent twice, and is left out. Files under
    a temporary name (a leading dot) and files still being written (delivery.py) wait."""
    folder = paths.inbox_for(contract.name)
    files = [p for p in sorted(folder.glob(contract.file_pattern)) if not p.name.startswith(".")]
    extracts = {}
    for path in delivery.complete_files(folder, files) if files else []:
        before = delivery.signature(path)
        extract = Extract(contract.name, path, content_hash(path), before)
        if delivery.signature(path) != before:
            continue  # written to while it was hashed
        if extract.sha256 not in extracts and manifest.read_record(paths, contract.name, extract.sha256) is None:
            extracts[extract.sha256] = extract
    return list(extracts.values())


def land_source(paths: DataPaths, source: str) -> list[manifest.ManifestRecord]:
    """Land every pending extract of one source, in file-name order, each on its own merits.

    The run's extracts are staged, then validated together (GE's cost is mostly fixed per
    validation, and a backfill lands many extracts in one run). When that batch fails, the first
    extract whose rows make it fail is quarantined whole, the ones before it land, and the ones
    after it are landed again without it: they may have dropped rows as duplicates of its rows,
    or counted late rows against its dates. A rejected file fails on its own. Each record says
    why. An extract that fails for a reason outside its content stops no other: the rest are
    landed and recorded, then LandingFailed is raised, and the next run lands that one again.
    """
    contract = load_contracts()[source]
    _finish_staged(paths, source)
    records, errors = [], {}
    first = manifest.next_sequence(paths, source)
    reference = profile.trailing_reference(manifest.records(paths, source))
    pending = [(first + offset, extract) for offset, extract in enumerate(pending_extracts(paths, contract))]
    landed_at = landing_stamp(paths) if pending else None
    with connect() as con:
        while pending:
            staged = _stage(con, paths, contract, pending, errors, landed_at)
            culprit, failures = _first_failing(paths, contract, [record for _, record in staged], reference)
            done = staged if culprit is None else staged[: culprit + 1]
            for index, (_, record) in enumerate(done):
                if record.status == "rejected":
                    record.validation_failures = [f"{record.file}: rejected, {record.reason}: {record.detail}"]
                elif index == culprit:
                    record.validation_failures = failures
                    _quarantine_batch(record)
                manifest.write_record(paths, record)
                _publish_staged(paths, record)
            records += [record for _, record in done]
            pending = [(record.sequence, extract) for extract, record in staged[len(done) :]]
            for _, extract in pending:
                _discard_staged(paths, source, extract)
    if errors:
        raise LandingFailed(source, errors) from next(iter(errors.values()))
    return records


def _stage(con, paths: DataPaths, contract: Contract, pending, errors: dict, landed_at: datetime) -> list:
    """Land each (sequence, extract) to staging; [(extract, record)] of those that could be.

    Two phases. In parallel, on every core, each extract is counted, parsed, checked, typed and
    written to staging on its worker's connection, deduplicated against what earlier runs landed.
    Then serially, in delivery order, what depends on the extracts before it in this run is
    settled exactly as a one-at-a-time landing would: an immutable record re-sent by an earlier
    extract of the run is dropped (the extract is then landed again, alone, against them), and
    batch exports count their late rows against the newest date landed before them.
    """
    workers = min(landing_workers(), len(pending)) or 1
    # One connection a worker, reused from extract to extract: a new in-memory DuckDB costs about
    # 15 ms, as much as landing a small extract. Each extract creates the tables it reads, then drops them.
    idle = queue.SimpleQueue()
    for _ in range(workers):
        idle.put(connect(shared_by=workers))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="landing") as pool:
            futures = [
                pool.submit(_prestage, idle, workers, paths, contract, extract, sequence, landed_at)
                for sequence, extract in pending
            ]
            outcomes = [future.exception() or future.result() for future in futures]
    finally:
        while not idle.empty():
            idle.get().close()
    staged = []
    # Rows are late when they land in a partition older than the reference date (below).
    newest = _late_reference(manifest.records(paths, contract.name))
    for (sequence, extract), outcome in zip(pending, outcomes, strict=True):
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            record, landed_by_store_day = outcome
            earlier = {e.sha256 for e, _ in staged}
            if _repeats_earlier(con, paths, contract, record, earlier):
                _discard_staged(paths, contract.name, extract)
                record = land_extract(con, paths, contract, extract, sequence, newest, landed_at, earlier)
            else:
                _count_late(contract, record, landed_by_store_day, newest)
        except delivery.ExtractChanged:
            _discard_staged(paths, contract.name, extract)
            continue  # still being written: landed by a later run, whole
        except Exception as exc:  # one extract's failure must not stop the others
            _discard_staged(paths, contract.name, extract)
            errors[extract.path.name] = exc
            continue
        staged.append((extract, record))
        newest = _late_reference([record], newest)
    return staged


def _prestage(
    idle: queue.SimpleQueue,
    workers: int,
    paths: DataPaths,
    contract: Contract,
    extract: Extract,
    sequence: int,
    landed_at: datetime,
):
    """The parallel phase of one extract, on a connection taken from `idle` and given back: staged
    against earlier runs only (no extract of this run counts as landed before it yet, nor any late
    reference). Returns the record and the rows landed per (store, day), from which the late rows
    of a batch export are counted later. Each of the `workers` connections has its share of memory
    and cores."""
    con = idle.get()
    try:
        record = land_extract(con, paths, contract, extract, sequence, None, landed_at, earlier=frozenset())
        by_store_day = {}
        if record.status == "landed" and not contract.arrival_field:
            by_store_day = {
                (store, day): rows
                for store, day, rows in con.execute(
                    "SELECT store_id, _date, count(*) FROM deduped GROUP BY 1, 2"
                ).fetchall()
            }
        return record, by_store_day
    except BaseException:
        # A failure may leave the connection unusable (DuckDB invalidates a database after a fatal
        # error): the next extract gets a new one, so one extract's failure still stops no other.
        con.close()
        con = connect(shared_by=workers)
        raise
    finally:
        _drop_temporary(con)  # the next extract starts with the memory of a new connection
        idle.put(con)


def _drop_temporary(con) -> None:
    objects = con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary"
    ).fetchall()
    for kind, name in objects:
        con.execute(f"DROP {kind} IF EXISTS {quote_ident(name)}")


def _repeats_earlier(con, paths: DataPaths, contract: Contract, record, earlier: set[str]) -> bool:
    """Whether an immutable extract staged in parallel holds a key that an extract staged before
    it in this run holds too (rare: a source re-sending records in the next file)."""
    if not (contract.immutable and earlier and record.status == "landed" and record.rows_by_partition):
        return False
    days = [date.fromisoformat(day) for day in record.rows_by_partition]
    theirs = _landed_files(paths, contract.name, days, record.extract_id, earlier, raw=False)
    if not theirs:
        return False
    mine = [str(_staged_partition(paths, record, day)) for day in sorted(record.rows_by_partition)]
    key = _key_columns(contract)
    return bool(
        con.execute(
            f"""
            SELECT 1 FROM read_parquet({_file_list(mine)}, hive_partitioning = false)
            WHERE ({key}) IN (SELECT ({key}) FROM read_parquet({_file_list(theirs)}, hive_partitioning = false))
            LIMIT 1
            """
        ).fetchall()
    )


def _count_late(contract: Contract, record, landed_by_store_day: dict, newest: str | None) -> None:
    """A batch export's late rows against the run's reference date, as _late_condition counts them."""
    if contract.arrival_field or newest is None or record.status != "landed":
        return
    cutoff = date.fromisoformat(newest) - timedelta(days=1)
    by_store = {store: manifest.StoreCounts(**c) for store, c in record.counts_by_store.items()}
    for c in by_store.values():
        c.late = 0
    for (store, day), rows in landed_by_store_day.items():
        if day < cutoff:
            by_store[store].late += rows
    record.set_store_counts(by_store)


def _discard_staged(paths: DataPaths, source: str, extract) -> None:
    """Drop what an extract left in staging (it lands again, whole, by a later run or in its turn)."""
    shutil.rmtree(staging_folder(paths, source, extract.sha256), ignore_errors=True)


def _first_failing(paths: DataPaths, contract: Contract, records: list, reference) -> tuple[int | None, list[str]]:
    """The index of the first staged extract with which the batch fails its expectations (with
    the source's trailing `reference` of value shapes), and the failures; (None, []) when the
    whole batch passes (the common case: one validation)."""

    def locate(record, day):
        return _staged_partition(paths, record, day)

    batch_failures = validate_batch(contract, records, locate, reference)
    if not batch_failures:
        return None, []
    # The extracts before the culprit pass together; with it they do not (alone, or in combination
    # with them: an immutable key repeated in another partition). The last prefix is the batch,
    # whose failures are known: a rejected extract adds no rows to validate.
    *earlier, last = [index for index, record in enumerate(records) if record.status != "rejected"]
    prefixes = ((index, validate_batch(contract, records[: index + 1], locate, reference)) for index in earlier)
    return next(((index, failures) for index, failures in prefixes if failures), (last, batch_failures))


def _machine_now() -> datetime:
    """The machine's clock; a seam for tests of a clock set wrong."""
    return datetime.now(UTC)


def landing_stamp(paths: DataPaths) -> datetime:
    """The `_landed_at` of a landing run: the machine's clock to the second, but never earlier
    than one second after the last stamp issued. Stamps so follow the landing sequence of every
    source, and incremental builds, which rebuild what landed after their last build, miss
    nothing when the clock is set behind (or was ahead)."""
    clock = paths.root / CLOCK_FILE
    stamp = _machine_now().replace(microsecond=0)
    if clock.exists():
        stamp = max(stamp, datetime.fromisoformat(json.loads(clock.read_text())["last"]) + timedelta(seconds=1))
    write_text_atomic(clock, json.dumps({"last": stamp.isoformat()}))
    return stamp


def land_all(paths: DataPaths) -> dict[str, list[manifest.ManifestRecord]]:
    """Land every source's pending extracts, source by source in contract order."""
    return {source: land_source(paths, source) for source in load_contracts()}


def land_extract(
    con: duckdb.DuckDBPyConnection,
    paths: DataPaths,
    contract: Contract,
    extract: Extract,
    sequence: int,
    newest_landed: str | None = None,
    landed_at: datetime | None = None,
    earlier: frozenset[str] | set[str] | None = None,
) -> manifest.ManifestRecord:
    """Write an extract's rows to staging; the caller records it in the manifest, then publishes.
    `newest_landed` is the late-row reference date, `landed_at` the run's stamp (landing_stamp),
    `earlier` the content hashes of the extracts staged before it whose rows count as landed
    (None: every staged one).

    Its records are counted twice: by an independent count of the file and by the parser. When
    the two differ, or the rows do not add up, the file is rejected whole (`rows_unaccounted`).
    """
    landed_at = landed_at or landing_stamp(paths)
    record = manifest.ManifestRecord(
        source=contract.name,
        sha256=extract.sha256,
        file=str(extract.path.relative_to(paths.inbox)),
        size_bytes=extract.path.stat().st_size,
        arrived_at=datetime.fromtimestamp(extract.path.stat().st_mtime, UTC).isoformat(),
        landed_at=landed_at.isoformat(),
        status="landed",
        sequence=sequence,
    )
    try:
        count = readers.count_records(extract.path, contract)
        record.warnings = readers.schema_drift(contract, extract.path)
        record.records_counted = count.records
        record.records_read = readers.load_raw(con, contract, extract.path, count)
        if record.records_read != count.records:
            raise readers.UnreadableExtract(
                readers.ROWS_UNACCOUNTED, f"the parser read {record.records_read} of the file's {count.records} records"
            )
        _land_rows(con, paths, contract, extract, record, landed_at, newest_landed, count, earlier)
        if not record.is_conserved:
            raise readers.UnreadableExtract(readers.ROWS_UNACCOUNTED, f"rows do not add up: {record.counts_by_store}")
    except readers.UnreadableExtract as exc:
        _discard_staged(paths, contract.name, extract)
        _reject_whole_file(con, paths, contract, extract, record, exc)
    # What was read may be a copy cut short (and rejected as such): only a file that did not change
    # from its hash to the end of its landing is the extract the record names.
    if extract.signature and delivery.signature(extract.path) != extract.signature:
        raise delivery.ExtractChanged(f"{extract.path} changed while it was landed")
    return record


def _land_rows(con, paths, contract, extract, record, landed_at, newest_landed, count, earlier) -> None:
    # One pass over the text rows: each row's quarantine reason, its store, its typed values (NULL
    # where a cast fails, and then the row has a reason) and, for a row without a reason, its
    # derived columns and partition date. A row naming an erased subject is dropped whatever else
    # it holds: never written anywhere. Every later step reads or flags this one table, which is
    # the extract's only typed copy.
    too_long = readers.line_too_long(contract, count)
    reason = f"CASE WHEN {too_long} THEN '{LINE_TOO_LONG}' ELSE {quarantine_reason(contract)} END"
    erased = suppression.erased_condition(con, paths, contract, readers.RAW_TABLE)
    derived = "".join(
        f", CASE WHEN {VALID} THEN {sql} END AS {quote_ident(name)}" for name, sql in derived_columns(contract)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        SELECT *, CASE WHEN {VALID} THEN {partition_date(contract)} END AS _date, false AS _duplicate
        FROM (
            SELECT *{derived}
            FROM (
                SELECT _row_number, {reason} AS _reason, {_store_of("store_id")} AS _store, {erased} AS _erased,
                       {", ".join(typed_columns(contract))}
                FROM {readers.RAW_TABLE}
            )
        )
        """
    )
    implausible = implausible_time(contract, _machine_now(), _date_floor(), _future_tolerance())
    con.execute(
        f"UPDATE checked SET _reason = {quote_literal(f'{OUT_OF_RANGE}:{contract.partition_by}')} "
        f"WHERE {VALID} AND {implausible}"
    )
    payload = f"CAST(to_json({readers.payload(contract)}) AS VARCHAR)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE quarantined AS
        WITH rejected AS (SELECT _row_number, _reason, _store FROM checked WHERE _reason IS NOT NULL AND NOT _erased)
        SELECT _row_number, _reason, _store, CASE
            WHEN starts_with(_reason, '{CARD_NUMBER}:') THEN {mask_card_numbers(payload)}
            -- Kept as its start and its length: a line of many megabytes is no evidence worth keeping.
            WHEN _reason = '{LINE_TOO_LONG}' THEN CAST(to_json({{
                'line_start': left({payload}, 1000), 'bytes': strlen({payload})
            }}) AS VARCHAR)
            ELSE {payload}
        END AS _payload
        FROM {readers.RAW_TABLE} JOIN rejected USING (_row_number)
        UNION ALL
        SELECT _row_number, _reason, {quote_literal(manifest.UNATTRIBUTED_STORE)}, _payload FROM {readers.REJECTS_TABLE}
        """
    )
    key = _key_columns(contract)
    # Immutable records re-sent are identical, so the first copy is kept; mutable ones are
    # re-exported with changes, so the last row of the file is the current one. Few keys repeat:
    # only their rows are ranked, and the copies that do not count are flagged, so the valid rows
    # are not copied again (a second copy cost as much as the parse).
    keep = "ASC" if contract.immutable else "DESC"
    con.execute(
        f"""
        UPDATE checked SET _duplicate = true WHERE _row_number IN (
            SELECT _row_number FROM checked SEMI JOIN (
                SELECT {key} FROM checked WHERE {VALID} GROUP BY {key} HAVING count(*) > 1
            ) USING ({key})
            WHERE {VALID}
            QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _row_number {keep}) > 1
        )
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW deduped AS
        SELECT * EXCLUDE (_reason, _store, _erased, _duplicate) FROM checked WHERE {VALID} AND NOT _duplicate
        """
    )
    if contract.immutable:
        record.duplicates_already_landed = _drop_already_landed(con, paths, contract, extract, earlier)

    partitions = dict(con.execute("SELECT _date, count(*) FROM deduped GROUP BY 1 ORDER BY 1").fetchall())
    for day in partitions:
        _write_partition(con, paths, contract, extract, record, day)
    record.rows_by_partition = {day.isoformat(): rows for day, rows in partitions.items()}
    record.medians_by_store = profile.money_medians(con, contract, "deduped")
    record.key_shapes = profile.key_shapes(con, contract, "deduped")
    record.set_store_counts(_counts_by_store(con, contract, newest_landed))
    if record.rows_quarantined:
        _write_quarantine(con, paths, extract, landed_at)


def _future_tolerance() -> timedelta:
    return timedelta(hours=float(os.environ.get(FUTURE_TOLERANCE_ENV, DEFAULT_FUTURE_TOLERANCE_HOURS)))


def _date_floor() -> date:
    return date.fromisoformat(os.environ.get(DATE_FLOOR_ENV, DEFAULT_DATE_FLOOR))


def _store_of(column: str) -> str:
    """SQL: the store a row names, as landed (untrimmed, so a valid row's store is its store_id),
    or the unattributed bucket when it names none."""
    return f"CASE WHEN trim({column}) <> '' THEN {column} ELSE {quote_literal(manifest.UNATTRIBUTED_STORE)} END"


def _late_condition(contract: Contract, newest_landed: str | None) -> str:
    """SQL condition on a deduplicated row: it arrived too late for its day's build.

    With an arrival time (the collector's clock), a row is late when it arrived more than the
    contract's allowance after it happened: an offline device's queued events. Batch exports
    have no arrival time: a row is late when its date is more than a day older than the newest
    date already landed (one day of slack, because a store-local day spans two UTC dates).
    """
    if contract.arrival_field:
        arrival, happened = quote_ident(contract.arrival_field), quote_ident(contract.partition_by)
        return f"{arrival} - {happened} > INTERVAL {int(contract.late_after_hours)} HOUR"
    if newest_landed is None:
        return "false"
    return f"_date < {quote_literal(newest_landed)}::DATE - 1"


def _counts_by_store(con, contract: Contract, newest_landed: str | None) -> dict[str, manifest.StoreCounts]:
    """Rows received, landed, late, quarantined by reason, dropped as duplicates and as naming an
    erased subject, per store.

    Each count is taken on its own (duplicates are the valid rows that did not land), so the
    conservation check on the record tests the landing rather than restating it.
    """
    counts = defaultdict(manifest.StoreCounts)
    valid = defaultdict(int)
    received = f"""
        SELECT _store, count(*), count(*) FILTER (WHERE {VALID}), count(*) FILTER (_erased)
        FROM checked GROUP BY 1
        UNION ALL SELECT {quote_literal(manifest.UNATTRIBUTED_STORE)}, count(*), 0, 0 FROM {readers.REJECTS_TABLE}
    """
    for store, rows, valid_rows, erased_rows in con.execute(received).fetchall():
        counts[store].received += rows
        counts[store].erased_subject += erased_rows
        valid[store] += valid_rows
    landed = f"SELECT store_id, count(*), count(*) FILTER ({_late_condition(contract, newest_landed)}) FROM deduped"
    for store, rows, late_rows in con.execute(landed + " GROUP BY 1").fetchall():
        counts[store].landed, counts[store].late = rows, late_rows
    for store, reason, rows in con.execute(
        "SELECT _store, _reason, count(*) FROM quarantined GROUP BY 1, 2"
    ).fetchall():
        counts[store].quarantined_by_reason[reason] = rows
    for store, c in counts.items():
        c.duplicates = valid[store] - c.landed
    return {store: c for store, c in counts.items() if c.received}


def _count(con, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]


def _key_columns(contract: Contract) -> str:
    return ", ".join(quote_ident(k) for k in contract.primary_key)


def _landed_files(paths: DataPaths, source: str, days, exclude_extract: str, earlier=None, raw=True) -> list[str]:
    """Files of the days, landed before (with `raw`) or staged by an earlier extract of this run
    (those of `earlier`, by content hash; None: every one staged)."""
    staged = paths.root / STAGING / source
    files = []
    for day in days:
        partition = f"date={day.isoformat()}"
        candidates = [*(paths.raw_for(source) / partition).glob("*.parquet")] if raw else []
        candidates += [
            p
            for p in staged.glob(f"*/{paths.raw_for(source).relative_to(paths.root)}/{partition}/*.parquet")
            if earlier is None or p.relative_to(staged).parts[0] in earlier
        ]
        files += [str(p) for p in sorted(candidates) if exclude_extract not in p.name]
    return files


def _file_list(files: list[str]) -> str:
    return "[" + ", ".join(quote_literal(f) for f in files) + "]"


def _drop_already_landed(con, paths: DataPaths, contract: Contract, extract: Extract, earlier=None) -> int:
    """Remove rows whose key an earlier extract already landed (a record re-sent later lands
    in the same partition as its first copy, so only the touched partitions are read)."""
    days = [row[0] for row in con.execute("SELECT DISTINCT _date FROM deduped").fetchall()]
    files = _landed_files(paths, contract.name, days, extract.extract_id, earlier)
    if not files:
        return 0
    key = _key_columns(contract)
    before = _count(con, "deduped")
    con.execute(
        f"""
        UPDATE checked SET _duplicate = true WHERE {VALID} AND NOT _duplicate AND ({key}) IN (
            SELECT ({key}) FROM read_parquet({_file_list(files)}, hive_partitioning = false)
        )
        """
    )
    return before - _count(con, "deduped")


def _late_reference(records: list[manifest.ManifestRecord], newest: str | None = None) -> str | None:
    """The date batch exports' late rows are counted against: the newest of the extracts' median
    dates (by rows; the lower median), or `newest` if later. One outlier row, however far in the
    future, cannot move an extract's median, and the implausible ones are quarantined anyway."""
    for record in records:
        half, seen = (sum(record.rows_by_partition.values()) + 1) // 2, 0
        for day in sorted(record.rows_by_partition):
            seen += record.rows_by_partition[day]
            if seen >= half:
                newest = max(newest or day, day)
                break
    return newest


# Where an extract's files wait for its manifest record, under DATA_DIR.
STAGING = "staging"


def staging_folder(paths: DataPaths, source: str, sha256: str) -> Path:
    return paths.root / STAGING / source / sha256


def _staged(paths: DataPaths, extract: Extract, target: Path) -> Path:
    """Where a file of the extract, bound for `target`, waits for the manifest record."""
    return staging_folder(paths, extract.source, extract.sha256) / target.relative_to(paths.root)


def _staged_partition(paths: DataPaths, record: manifest.ManifestRecord, day: str) -> Path:
    target = paths.landed_file(record.source, day, record.extract_id)
    return staging_folder(paths, record.source, record.sha256) / target.relative_to(paths.root)


def _publish_staged(paths: DataPaths, record: manifest.ManifestRecord) -> None:
    """Move a recorded extract's staged files into place (each an atomic rename; again after a
    crash, it moves what is left): raw partitions of a batch that failed validation go to its
    failed-batch folder instead of raw."""
    folder = staging_folder(paths, record.source, record.sha256)
    raw = paths.raw_for(record.source)
    for staged in sorted(folder.rglob("*")) if folder.exists() else []:
        if not staged.is_file() or staged.name.startswith("."):
            continue
        target = paths.root / staged.relative_to(folder)
        if record.status == "failed_validation" and target.is_relative_to(raw):
            target = failed_batch_folder(paths, record) / target.relative_to(raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.replace(target)
    shutil.rmtree(folder, ignore_errors=True)


def _finish_staged(paths: DataPaths, source: str) -> None:
    """After a crash: publish what recorded extracts left staged, discard the rest (landed again)."""
    for folder in sorted((paths.root / STAGING / source).glob("*")):
        record = manifest.read_record(paths, source, folder.name)
        if record is None:
            shutil.rmtree(folder)
        else:
            _publish_staged(paths, record)


def _write_partition(con, paths, contract: Contract, extract: Extract, record, day) -> None:
    target = _staged(paths, extract, paths.landed_file(contract.name, day.isoformat(), extract.extract_id))
    columns = ", ".join(minimise.landed_column(contract, f) for f in contract.columns)

    def copy(tmp: Path) -> None:
        con.execute(
            f"""
            COPY (
                SELECT {columns},
                       {quote_literal(extract.extract_id)} AS _extract_id,
                       _row_number,
                       {quote_literal(record.landed_at)}::TIMESTAMPTZ AS _landed_at,
                       {record.sequence * LANDING_ORDER_STRIDE} + _row_number AS _landing_order
                FROM deduped
                WHERE _date = {quote_literal(day.isoformat())}::DATE
                ORDER BY {quote_ident(contract.partition_by)}, _row_number
            ) TO {quote_literal(str(tmp))} ({PARQUET_OPTIONS})
            """
        )

    write_atomic(target, copy)


def _write_quarantine(con, paths: DataPaths, extract: Extract, landed_at) -> None:
    target = _staged(paths, extract, paths.quarantine_for(extract.source) / f"part-{extract.extract_id}.parquet")

    def copy(tmp: Path) -> None:
        con.execute(
            f"""
            COPY (
                SELECT {quote_literal(extract.extract_id)} AS extract_id,
                       {quote_literal(extract.path.name)} AS source_file,
                       _row_number AS row_number,
                       split_part(_reason, ':', 1) AS reason_code,
                       nullif(split_part(_reason, ':', 2), '') AS field,
                       _payload AS payload,
                       {quote_literal(landed_at.isoformat())}::TIMESTAMPTZ AS quarantined_at
                FROM quarantined
                ORDER BY row_number NULLS LAST, payload
            ) TO {quote_literal(str(tmp))} ({PARQUET_OPTIONS})
            """
        )

    write_atomic(target, copy)


def kept_file(paths: DataPaths, extract: Extract) -> Path:
    """Where a file that cannot be split into lines of text is kept whole, as received."""
    return paths.quarantine_for(extract.source) / "files" / f"{extract.extract_id}-{extract.path.name}"


def _reject_whole_file(con, paths, contract, extract, record, rejection: readers.UnreadableExtract) -> None:
    """A file that cannot be landed goes to quarantine line by line, each line with the reason;
    one that has no lines of text (empty, not decompressible, not UTF-8) is kept whole."""
    record.status, record.reason, record.detail = "rejected", rejection.reason, rejection.detail
    lines = readers.data_lines(extract.path, contract)
    if not lines:
        write_atomic(_staged(paths, extract, kept_file(paths, extract)), lambda tmp: shutil.copyfile(extract.path, tmp))
        record.set_store_counts({})
        return
    # As an Arrow column: row-by-row inserts take minutes for a rejected file of a million lines.
    con.register("rejected_lines", pa.table({"line": pa.array(lines, pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE lines AS SELECT line FROM rejected_lines")
    con.unregister("rejected_lines")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE quarantined AS
        SELECT row_number() OVER () AS _row_number,
               {quote_literal(UNREADABLE_FILE)} AS _reason,
               to_json({{'line': line, 'error': {quote_literal(str(rejection))}}}) AS _payload
        FROM lines
        """
    )
    counts = manifest.StoreCounts(received=len(lines), quarantined_by_reason={UNREADABLE_FILE: len(lines)})
    record.set_store_counts({manifest.UNATTRIBUTED_STORE: counts})
    _write_quarantine(con, paths, extract, datetime.fromisoformat(record.landed_at))


def failed_batch_folder(paths: DataPaths, record: manifest.ManifestRecord) -> Path:
    return paths.quarantine_for(record.source) / "failed_batches" / record.extract_id


def _quarantine_batch(record: manifest.ManifestRecord) -> None:
    """Count every row of a batch that failed validation as quarantined; publishing moves its
    partition files to the batch's failed-batch folder instead of raw."""
    record.status = "failed_validation"
    by_store = {store: manifest.StoreCounts(**c) for store, c in record.counts_by_store.items()}
    for c in by_store.values():
        if c.landed:
            c.quarantined_by_reason[FAILED_EXPECTATIONS] = c.landed
        c.landed = c.late = 0
    record.set_store_counts(by_store)
    record.rows_by_partition = {}
