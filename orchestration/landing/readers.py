"""Read an extract into DuckDB as text, one column per contract field.

Values stay VARCHAR here so that a bad value becomes a quarantine reason, not a read error.
Each row keeps its position in the file (`_row_number`); `payload` rebuilds its original
record, which is only ever needed for the few rows that go to quarantine.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import duckdb

from orchestration.contracts import Contract
from orchestration.landing.rules import UNPARSEABLE_ROW, quote_ident, quote_literal

RAW_TABLE = "raw_rows"
REJECTS_TABLE = "raw_rejects"


class UnreadableExtract(Exception):
    """The file as a whole cannot be read against its contract (bad header, broken JSON)."""


def open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def data_lines(path: Path, contract: Contract) -> list[str]:
    """Every data line of a file, for quarantining a file that cannot be parsed."""
    with open_text(path) as handle:
        lines = [line.rstrip("\r\n") for line in handle if line.strip()]
    return lines[1:] if contract.format == "csv" else lines


def load_raw(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path) -> None:
    """Create temp tables RAW_TABLE (text columns and _row_number; for CSV also _payload, the
    line with every column of the file) and REJECTS_TABLE (_row_number, _reason, _payload as
    JSON text) for rows the parser itself could not split."""
    if contract.format == "csv":
        _load_csv(con, contract, path)
    else:
        _load_jsonl_batches(con, contract, path)


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
    except duckdb.Error as exc:
        raise UnreadableExtract(f"{unreadable}: {exc}") from exc


def _load_csv(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path) -> None:
    with open_text(path) as handle:
        header = next(csv.reader(handle), [])
    missing = [f.name for f in contract.fields if f.required and f.name not in header]
    if missing:
        raise UnreadableExtract(f"header lacks required column(s) {', '.join(missing)}")
    present = set(header)
    columns = ", ".join(
        quote_ident(f.name) if f.name in present else f"CAST(NULL AS VARCHAR) AS {quote_ident(f.name)}"
        for f in contract.fields
    )
    # Strict parsing: a line with too many or too few columns becomes a reject (kept with its
    # text), never a silently truncated or padded row.
    header_types = ", ".join(f"{quote_literal(h)}: 'VARCHAR'" for h in header)
    # DuckDB appends each scan's rejects to these tables: start empty, or this file's quarantine
    # would carry the broken lines of the files read before it on the connection.
    con.execute("DROP TABLE IF EXISTS csv_reject_errors")
    con.execute("DROP TABLE IF EXISTS csv_reject_scans")
    _create_raw_table(
        con,
        f"{columns}, src AS _payload",
        source=f"""read_csv({quote_literal(str(path))}, header = true, all_varchar = true, delim = ',',
                           quote = '"', escape = '"', auto_detect = false, columns = {{{header_types}}},
                           store_rejects = true, rejects_table = 'csv_reject_errors',
                           rejects_scan = 'csv_reject_scans') AS src""",
        unreadable="not a CSV the parser can read",
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {REJECTS_TABLE} AS
        -- DuckDB logs one error per missing column; a broken line is one quarantined row.
        SELECT CAST(NULL AS BIGINT) AS _row_number,
               {quote_literal(UNPARSEABLE_ROW)} AS _reason,
               to_json({{
                   'line_number': line,
                   'line': trim(any_value(csv_line), chr(10) || chr(13)),
                   'error': arg_min(error_message, column_idx)
               }}) AS _payload
        FROM csv_reject_errors
        GROUP BY line
        """
    )


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


def jsonl_batches_read(contract: Contract, paths: list[Path]) -> tuple[str, str]:
    """The select list (one text column per field) and the FROM clause that read clickstream
    files as landing does: each line a batch, each of its events a row."""
    batch, event = _batch_and_event_fields(contract)
    event_type = _json_struct_type(event)
    batch_columns = ", ".join(f"{quote_literal(k)}: 'VARCHAR'" for k in batch)
    accessors = _accessors(batch, event)
    selected = ", ".join(f"{accessors[f.name]} AS {quote_ident(f.name)}" for f in contract.fields)
    files = "[" + ", ".join(quote_literal(str(p)) for p in paths) + "]"
    source = f"""read_json({files}, format = 'newline_delimited', maximum_object_size = 268435456,
                          columns = {{{batch_columns}, 'events': '{event_type}[]'}}) AS b,
                 unnest(b.events) AS u(ev)"""
    return selected, source


def _load_jsonl_batches(con: duckdb.DuckDBPyConnection, contract: Contract, path: Path) -> None:
    selected, source = jsonl_batches_read(contract, [path])
    _create_raw_table(con, selected, source=source, unreadable="not JSONL batches of the events contract")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REJECTS_TABLE} AS "
        f"SELECT 0::BIGINT AS _row_number, ''::VARCHAR AS _reason, ''::VARCHAR AS _payload LIMIT 0"
    )
