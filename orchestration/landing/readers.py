"""Read an extract into DuckDB as text, one column per contract field.

Values stay VARCHAR here so that a bad value becomes a quarantine reason, not a read error.
Each row keeps its position in the file (`_row_number`); `payload` rebuilds its original
record, which is only ever needed for the few rows that go to quarantine.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
from isal import igzip, isal_zlib

from orchestration.contracts import Contract
from orchestration.landing.rules import LINE_TOO_LONG, UNPARSEABLE_ROW, UNREADABLE_FILE
from orchestration.lib.sql_quoting import quote_ident, quote_literal

RAW_TABLE = "raw_rows"
REJECTS_TABLE = "raw_rejects"
# A record longer than this is quarantined as `line_too_long` (DuckDB's own default line limit;
# past it DuckDB rejects a line, and past its buffer it drops one without a word, so landing
# reads with a limit above the file's longest line and applies this one itself).
MAX_LINE_BYTES = 2_000_000
# Errors of a file's bytes themselves: a truncated or corrupt gzip stream, or text that is not UTF-8.
DECODING_ERRORS = (EOFError, gzip.BadGzipFile, isal_zlib.error, UnicodeDecodeError)
_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
_NO_EVENTS = re.compile(rb'"events"\s*:\s*\[\s*\]')


# Why a file is rejected whole, beside unreadable_file (the manifest record's `reason`; its lines,
# when it has any, are quarantined as unreadable_file).
EMPTY_FILE = "empty_file"
WRONG_DELIMITER = "wrong_delimiter"
# The parser read fewer or more records than an independent count of the file found.
ROWS_UNACCOUNTED = "rows_unaccounted"
# The file's columns (CSV header) or keys (JSON) are not the contract's: some unknown, in place of
# contract ones (a rename), or only added, which quarantines the file too unless additive drift
# is set to warn (DRIFT_ENV=warn: the file lands, the record carries a warning).
SCHEMA_DRIFT = "schema_drift"
DRIFT_ENV = "LANDING_ADDITIVE_DRIFT"
# The JSON key census reads the first 8 MB (decompressed) of a file only: parsing every event as
# JSON in DuckDB cost twice the landing's own read (4.5 s of CPU for 200,000 events), and a
# sender's keys are its habit, present all through a collector file.
CENSUS_BYTES = 8 << 20


class UnreadableExtract(Exception):
    """The file as a whole cannot be read against its contract; `reason` is its quarantine code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class RecordCount:
    """What a file holds, counted apart from the parser that lands it."""

    records: int  # CSV records (quote-aware, header and blank lines left out) or JSONL lines
    longest_line: int  # bytes


def open_binary(path: Path):
    # ISA-L's inflate reads the same gzip format as the standard library's module in under half
    # its time; every extract is decompressed here once more, for the independent count.
    return igzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def count_records(path: Path, contract: Contract) -> RecordCount:
    """An independent count of the file's records, so that a record the parser drops is noticed.

    Raises UnreadableExtract for an empty file, bytes that cannot be decompressed, and a CSV
    header that is not UTF-8 (a data line that is not is the parser's to quarantine).
    """
    longest, empty = 0, True

    def lines(handle):
        nonlocal longest, empty
        for line in handle:
            # Text is measured in bytes only when it may be the longest: encoding every line costs.
            if len(line) > longest:
                longest = max(
                    longest, len(line) if isinstance(line, bytes) else len(line.encode("utf-8", "surrogateescape"))
                )
            empty = empty and not line.strip()
            yield line

    try:
        with open_binary(path) as binary:
            if contract.format == "csv":
                csv_header(path)
                csv.field_size_limit(1 << 40)  # a line of any length is counted, not refused
                text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
                records = sum(1 for row in csv.reader(lines(text)) if row) - 1
            else:  # bytes, not text: a JSONL line is one record, and decoding it costs
                # A batch without events yields no row, so the parser cannot count it: left out here too.
                records = sum(1 for line in lines(binary) if line.strip() and not _NO_EVENTS.search(line))
    except DECODING_ERRORS as exc:
        raise UnreadableExtract(UNREADABLE_FILE, f"{type(exc).__name__}: {exc}") from exc
    except csv.Error as exc:
        raise UnreadableExtract(UNREADABLE_FILE, f"not a CSV: {exc}") from exc
    if empty:
        raise UnreadableExtract(EMPTY_FILE, "the file holds no bytes but blank space")
    return RecordCount(max(records, 0), longest)


def data_lines(path: Path, contract: Contract) -> list[str] | None:
    """Every data line of a file, for quarantining a file that cannot be parsed; None when its
    bytes cannot even be split into lines of text (it is then kept whole)."""
    try:
        with open_binary(path) as handle:
            lines = [line.decode("utf-8").rstrip("\r\n") for line in handle if line.strip()]
    except DECODING_ERRORS:
        return None
    return lines[1:] if contract.format == "csv" else lines


def load_raw(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, count: RecordCount) -> int:
    """Create temp tables RAW_TABLE (text columns and _row_number; for CSV also _payload, the
    line with every column of the file) and REJECTS_TABLE (_row_number, _reason, _payload as
    JSON text) for rows the parser itself could not split. Returns the records the parser read
    (CSV rows and rejected lines; JSONL lines), to be checked against the independent count."""
    if contract.format == "csv":
        return _load_csv(con, contract, path, count)
    return _load_jsonl_batches(con, contract, path)


def _batch_and_event_fields(contract: Contract) -> tuple[dict[str, str], dict]:
    """Where each field of a clickstream contract sits: batch key -> field name, and the event's
    nested paths as a tree whose leaves are field names."""
    batch, event = {}, {}
    for field in contract.fields:
        parts = field.source_path.split(".")
        if parts[0] == "$batch":
            batch[parts[1]] = field.name
            continue
        node = event
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = field.name
    return dict(sorted(batch.items())), event


def payload(contract: Contract) -> str:
    """SQL over RAW_TABLE: a row's original record, as a struct.

    A CSV line may carry columns the contract does not know, so the reader keeps it whole. A
    clickstream event is read only at its contract's paths (all text), so the batch and event
    structs are rebuilt from those columns, exactly as read, instead of carried along.
    """
    if contract.format == "csv":
        return "_payload"
    batch, event = _batch_and_event_fields(contract)

    def render(node: dict) -> str:
        members = (
            f"{quote_ident(k)} := {render(v) if isinstance(v, dict) else quote_ident(v)}" for k, v in node.items()
        )
        return "struct_pack(" + ", ".join(members) + ")"

    return render({**batch, "event": event})


def _create_raw_table(con: duckdb.DuckDBPyConnection, columns: str, source: str, unreadable: str):
    """RAW_TABLE from a reader expression; a reader error means the file as a whole is unreadable."""
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {RAW_TABLE} AS
            SELECT {columns}, row_number() OVER () AS _row_number
            FROM {source}
            """
        )
    except (duckdb.IOException, duckdb.OutOfMemoryException):
        raise  # the machine's trouble, not the file's: the run fails and is retried
    except duckdb.Error as exc:
        raise UnreadableExtract(UNREADABLE_FILE, f"{unreadable}: {exc}") from exc


def csv_header(path: Path) -> list[str]:
    with open_binary(path) as handle:
        first = handle.readline(MAX_LINE_BYTES)
    try:
        return next(csv.reader([first.decode("utf-8")]), [])
    except UnicodeDecodeError as exc:
        raise UnreadableExtract(UNREADABLE_FILE, f"header is not UTF-8: {exc}") from exc


def csv_options(header: list[str]) -> str:
    """read_csv's options for an extract with this header: every column text, by the header's
    names, in the one dialect the contracts allow (no sniffing)."""
    header_types = ", ".join(f"{quote_literal(h)}: 'VARCHAR'" for h in header)
    return f"""header = true, all_varchar = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
                columns = {{{header_types}}}"""


def _other_delimiter(header: list[str]) -> str | None:
    """The name of the delimiter a one-column header is split by into names, if any."""
    for delimiter, name in _DELIMITERS.items():
        names = header[0].split(delimiter) if len(header) == 1 else []
        if len(names) > 1 and all(n.strip().isidentifier() for n in names):
            return name
    return None


def _missing_columns(contract: Contract, header: list[str]) -> UnreadableExtract:
    """Why a header lacks required columns: most often another delimiter than the contract's
    comma (the header is then one column that another delimiter splits into names)."""
    missing = [f.name for f in contract.fields if f.required and f.name not in header]
    if delimiter := _other_delimiter(header):
        return UnreadableExtract(WRONG_DELIMITER, f"columns are separated by {delimiter}, the contract's by comma")
    return UnreadableExtract(UNREADABLE_FILE, f"header lacks required column(s) {', '.join(missing)}")


def schema_drift(contract: Contract, path: Path) -> list[str]:
    """Compare the file's columns or keys with the contract's. Raises UnreadableExtract
    (SCHEMA_DRIFT, naming them) when unknown ones appear in place of contract ones, or appear at
    all unless additive drift only warns; returns the warnings of additive drift."""
    if contract.format == "csv":
        header = csv_header(path)
        names = {f.name for f in contract.fields}
        if _other_delimiter(header) or not names & set(header):
            return []  # not this contract's file at all: the loader rejects it (wrong_delimiter, unreadable)
        unknown = [h for h in header if h not in names]
        displaced = [f.name for f in contract.fields if f.name not in header] if unknown else []
        what = "column"
    else:
        unknown, displaced = _json_drift(contract, path)
        what = "key"
    if not unknown:
        return []
    found = f"{what}(s) not in the contract: {', '.join(unknown)}"
    if displaced:
        raise UnreadableExtract(SCHEMA_DRIFT, f"{found}; contract {what}(s) absent: {', '.join(displaced)}")
    if os.environ.get(DRIFT_ENV, "quarantine") != "warn":
        raise UnreadableExtract(SCHEMA_DRIFT, found)
    return [f"{SCHEMA_DRIFT}: {found}"]


def _json_drift(contract: Contract, path: Path) -> tuple[list[str], list[str]]:
    """Unknown event keys (dotted paths) at the levels the contract reads, and the contract keys
    they displace: a known key absent from every event carrying the unknown one, while events of
    the same type without it carry it (a rename by part of the senders; an optional key absent
    by nature from an event type is not displaced).

    The events are grouped by type and key set per level, which are few, and compared as groups."""
    _, event = _batch_and_event_fields(contract)
    levels = {}  # dotted prefix -> (path of keys from the event, the contract's keys there)

    def walk(node: dict, prefix: str, steps: tuple[str, ...]) -> None:
        levels[prefix] = (steps, set(node))
        for key, child in node.items():
            if isinstance(child, dict):
                walk(child, f"{prefix}{key}.", (*steps, key))

    def keys_at(node, steps: tuple[str, ...]) -> frozenset:
        for step in steps:
            node = node.get(step) if isinstance(node, dict) else None
        return frozenset(node) if isinstance(node, dict) else frozenset()

    walk(event, "", ())
    groups = set()
    try:
        with open_binary(path) as handle:
            for line in _lines_up_to(handle, CENSUS_BYTES):
                batch = json.loads(line) if line.strip() else {}
                for e in (batch.get("events") or []) if isinstance(batch, dict) else []:
                    if isinstance(e, dict):
                        groups.add((e.get("event_type"), *(keys_at(e, steps) for steps, _ in levels.values())))
    except (*DECODING_ERRORS, ValueError):
        return [], []  # not JSON batches: the loader rejects the file with the parser's message
    unknown, displaced = [], set()
    for index, (prefix, (_, known)) in enumerate(levels.items(), start=1):
        sets = [(group[0], group[index]) for group in groups]
        for key in sorted(set().union(*(keys for _, keys in sets)) - known):
            unknown.append(f"{prefix}{key}")
            types = {t for t, keys in sets if key in keys}
            alongside = set().union(*(keys for _, keys in sets if key in keys))
            elsewhere = set().union(*(keys for t, keys in sets if t in types and key not in keys))
            displaced |= {f"{prefix}{k}" for k in (known & elsewhere) - alongside}
    return unknown, sorted(displaced)


def _lines_up_to(handle, limit: int):
    """The lines of a binary handle, until `limit` bytes are read."""
    read = 0
    for line in handle:
        yield line
        read += len(line)
        if read >= limit:
            return


# DuckDB's reject error types with a reason of their own; every other is an unparseable row (a
# line of the wrong number of columns, an unclosed quote, bytes that are not UTF-8).
_REJECT_REASONS = {"LINE SIZE OVER MAXIMUM": LINE_TOO_LONG}


def _load_csv(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, count: RecordCount) -> int:
    header = csv_header(path)
    if [f.name for f in contract.fields if f.required and f.name not in header]:
        raise _missing_columns(contract, header)
    present = set(header)
    columns = ", ".join(
        quote_ident(f.name) if f.name in present else f"CAST(NULL AS VARCHAR) AS {quote_ident(f.name)}"
        for f in contract.fields
    )
    # DuckDB appends each scan's rejects to these tables: start empty, or this file's quarantine
    # would carry the broken lines of the files read before it on the connection.
    con.execute("DROP TABLE IF EXISTS csv_reject_errors")
    con.execute("DROP TABLE IF EXISTS csv_reject_scans")
    reject_reasons = " ".join(
        f"WHEN {quote_literal(error)} THEN {quote_literal(reason)}" for error, reason in _REJECT_REASONS.items()
    )
    # Strict parsing: a line with too many or too few columns becomes a reject (kept with its
    # text), never a silently truncated or padded row.
    _create_raw_table(
        con,
        f"{columns}, src AS _payload",
        source=f"""read_csv({quote_literal(str(path))}, {csv_options(header)},
                           max_line_size = {max(MAX_LINE_BYTES, count.longest_line + 2)},
                           store_rejects = true, rejects_table = 'csv_reject_errors',
                           rejects_scan = 'csv_reject_scans') AS src""",
        unreadable="not a CSV the parser can read",
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {REJECTS_TABLE} AS
        -- DuckDB logs one error per missing column; a broken line is one quarantined row.
        SELECT CAST(NULL AS BIGINT) AS _row_number,
               CASE arg_min(error_type, column_idx) {reject_reasons} ELSE {quote_literal(UNPARSEABLE_ROW)} END
                   AS _reason,
               to_json({{
                   'line_number': line,
                   'line': trim(any_value(csv_line), chr(10) || chr(13)),
                   'error': arg_min(error_message, column_idx)
               }}) AS _payload
        FROM csv_reject_errors
        GROUP BY line
        """
    )
    [(rows,)] = con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchall()
    [(rejects,)] = con.execute(f"SELECT count(*) FROM {REJECTS_TABLE}").fetchall()
    return rows + rejects


def line_too_long(contract: Contract, count: RecordCount) -> str:
    """SQL condition on RAW_TABLE: the row's CSV record is longer than MAX_LINE_BYTES (counted as
    its fields' text), which the parser read because landing raised its limit above the file's
    longest line. Only a file that has such a line pays for the measure."""
    if contract.format != "csv" or count.longest_line <= MAX_LINE_BYTES:
        return "false"
    return f"strlen(CAST(_payload AS VARCHAR)) > {MAX_LINE_BYTES}"


def _json_struct_type(event: dict) -> str:
    """The STRUCT type of one event, every leaf VARCHAR."""
    members = (
        f"{quote_ident(k)} {_json_struct_type(v) if isinstance(v, dict) else 'VARCHAR'}" for k, v in event.items()
    )
    return "STRUCT(" + ", ".join(members) + ")"


def _accessors(batch: dict[str, str], event: dict, prefix: str = "ev") -> dict[str, str]:
    """Field name -> its SQL accessor in the read: `b.<key>` for batch keys, `ev.<path>` for the event."""
    found = {name: f"b.{quote_ident(key)}" for key, name in batch.items()}
    for key, value in event.items():
        path = f"{prefix}.{quote_ident(key)}"
        found.update(_accessors({}, value, path) if isinstance(value, dict) else {value: path})
    return found


def jsonl_batches_read(contract: Contract, paths: list[Path], count_batches: bool = False) -> tuple[str, str]:
    """The select list (one text column per field) and the FROM clause that read clickstream
    files as landing does: each line a batch, each of its events a row.

    With `count_batches`, each row also carries `_batch_size`, its batch's number of events, so
    that the batches read can be counted from the rows: the rows of the batches of n events are
    n times their number. (Numbering the batches before the unnest, by a window or an ordinality,
    costs three to fourteen times the read.)
    """
    batch, event = _batch_and_event_fields(contract)
    event_type = _json_struct_type(event)
    batch_columns = ", ".join(f"{quote_literal(k)}: 'VARCHAR'" for k in batch)
    accessors = _accessors(batch, event)
    selected = ", ".join(f"{accessors[f.name]} AS {quote_ident(f.name)}" for f in contract.fields)
    files = "[" + ", ".join(quote_literal(str(p)) for p in paths) + "]"
    read = f"""read_json({files}, format = 'newline_delimited', maximum_object_size = 268435456,
                          columns = {{{batch_columns}, 'events': '{event_type}[]'}})"""
    if count_batches:
        selected += ", len(b.events) AS _batch_size"
    return selected, f"{read} AS b, unnest(b.events) AS u(ev)"


def _load_jsonl_batches(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path) -> int:
    selected, source = jsonl_batches_read(contract, [path], count_batches=True)
    _create_raw_table(con, selected, source=source, unreadable="not JSONL batches of the events contract")
    [(batches,)] = con.execute(
        f"SELECT coalesce(sum(rows // _batch_size), 0) FROM "
        f"(SELECT _batch_size, count(*) AS rows FROM {RAW_TABLE} GROUP BY 1)"
    ).fetchall()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REJECTS_TABLE} AS "
        f"SELECT 0::BIGINT AS _row_number, ''::VARCHAR AS _reason, ''::VARCHAR AS _payload LIMIT 0"
    )
    return batches
