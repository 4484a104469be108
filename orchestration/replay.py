"""Replay from quarantine: re-validate quarantined rows (after a contract change) and land those that
now pass, exactly once.

The rows chosen (a source, optionally a reason and an extract) are rebuilt from their quarantined
payloads into a file in the extract's own format and checked with landing's own reader and rules;
the rows that pass become a replay extract, `inbox/<source>/replay-<extract id>.<ext>`, which
landing lands like any other (typed, deduplicated against what already landed, suppression list,
expectations, its own manifest record). Rows that still fail stay in quarantine, untouched.

A replay ledger, `replay/<source>/<replay extract sha256>.json`, names every quarantined row
(extract id, row number) a replay extract carries. It is written before the file, and a row a
ledger names is never chosen again, so a row replayed twice lands once; a replay that died
between its ledger and its landing is finished by the next replay of the source, which rebuilds
the same bytes from the ledger (same content hash, so landing still takes it once).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.contracts import Contract, load_contracts
from orchestration.landing import manifest, readers
from orchestration.landing.delivery import mark_delivered
from orchestration.landing.land import land_source
from orchestration.landing.rules import LINE_TOO_LONG, UNPARSEABLE_ROW, UNREADABLE_FILE, quarantine_reason
from orchestration.lib.atomic_files import write_atomic, write_text_atomic
from orchestration.lib.file_locks import exclusive
from orchestration.lib.in_memory_duckdb import connect
from orchestration.settings import DataPaths

# Reasons whose payload is a line of text, not a record: nothing to re-validate.
NOT_RECORDS = (UNPARSEABLE_ROW, LINE_TOO_LONG, UNREADABLE_FILE)
REPLAY_PREFIX = "replay-"


@dataclass
class ReplayResult:
    source: str
    chosen: int = 0  # quarantined rows matching the filters, not replayed before
    passing: int = 0  # of those, rows that pass the contract now
    still_failing: dict[str, int] = field(default_factory=dict)  # rows that do not, by their reason now
    already_replayed: int = 0
    not_records: int = 0  # rows quarantined as lines of text, which no contract change can fix
    record: manifest.ManifestRecord | None = None  # the replay extract's landing, when not a dry run


def ledger_folder(paths: DataPaths, source: str) -> Path:
    return paths.root / "replay" / source


def ledgers(paths: DataPaths, source: str) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(ledger_folder(paths, source).glob("*.json"))]


def _quarantined(paths: DataPaths, source: str, reason: str | None, extract: str | None) -> list[dict]:
    """Quarantined rows of a source's extracts (not whole failed batches), oldest extract first."""
    files = sorted(paths.quarantine_for(source).glob("part-*.parquet"))
    if not files:
        return []
    query = f"""
        SELECT extract_id, source_file, row_number, reason_code, field, payload
        FROM read_parquet({json.dumps([str(f) for f in files]).replace('"', "'")})
        WHERE ($reason IS NULL OR reason_code = $reason OR reason_code || ':' || field = $reason)
          AND ($extract IS NULL OR starts_with(extract_id, $extract) OR source_file = $extract)
        ORDER BY extract_id, row_number
    """
    with connect() as con:
        cursor = con.execute(query, {"reason": reason, "extract": extract})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _file_bytes(contract: Contract, payloads: list[dict]) -> bytes:
    """The rows' original records as an extract of the contract's format, byte for byte the same
    for the same rows (so a rebuilt replay file has the same content hash)."""
    if contract.format == "csv":
        known = [f.name for f in contract.fields]
        extra = sorted({k for p in payloads for k in p} - set(known))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=known + extra, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in p.items()} for p in payloads)
        return text.getvalue().encode("utf-8")
    # Clickstream: one collector batch a line, holding the event as it was read.
    lines = "".join(
        json.dumps({**{k: v for k, v in p.items() if k != "event"}, "events": [p["event"]]}) + "\n" for p in payloads
    )
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as handle:
        handle.write(lines.encode("utf-8"))
    return out.getvalue()


def _suffix(contract: Contract) -> str:
    return contract.file_pattern.removeprefix("*")


def _reasons_now(contract: Contract, data: bytes) -> list[str | None]:
    """Each row's quarantine reason under the contract as it is now (None: it passes), read by
    landing's own reader and rules."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"candidates{_suffix(contract)}"
        path.write_bytes(data)
        with connect() as con:
            readers.load_raw(con, contract, path, readers.count_records(path, contract))
            return [
                reason
                for (reason,) in con.execute(
                    f"SELECT {quarantine_reason(contract)} FROM {readers.RAW_TABLE} ORDER BY _row_number"
                ).fetchall()
            ]


def _inbox_file(paths: DataPaths, contract: Contract, sha256: str) -> Path:
    return paths.inbox_for(contract.name) / f"{REPLAY_PREFIX}{sha256[:16]}{_suffix(contract)}"


def _write_pending(paths: DataPaths, contract: Contract) -> None:
    """Put back the file of a ledger whose replay extract has no manifest record (a replay died
    before landing it), rebuilt from the rows the ledger names."""
    for ledger in ledgers(paths, contract.name):
        target = _inbox_file(paths, contract, ledger["sha256"])
        if manifest.read_record(paths, contract.name, ledger["sha256"]) or target.exists():
            continue
        named = {(r[0], r[1]) for r in ledger["rows"]}
        rows = [
            r for r in _quarantined(paths, contract.name, None, None) if (r["extract_id"], r["row_number"]) in named
        ]
        data = _file_bytes(contract, [json.loads(r["payload"]) for r in rows])
        if hashlib.sha256(data).hexdigest() != ledger["sha256"]:
            raise RuntimeError(f"the rows of replay {ledger['sha256'][:16]} changed in quarantine; not replayed")
        write_atomic(target, lambda tmp, data=data: tmp.write_bytes(data))
        mark_delivered(target.parent)


def replay(
    paths: DataPaths, source: str, reason: str | None = None, extract: str | None = None, dry_run: bool = False
) -> ReplayResult:
    """Re-validate a source's quarantined rows (of one reason, of one extract) and land those that pass."""
    contracts = load_contracts()
    if source not in contracts:
        raise ValueError(f"unknown source {source!r}; sources: {', '.join(contracts)}")
    contract = contracts[source]
    result = ReplayResult(source)
    with exclusive(paths, f"landing-{source}"):  # the lock the landing asset holds
        _write_pending(paths, contract)
        replayed = {(r[0], r[1]) for ledger in ledgers(paths, source) for r in ledger["rows"]}
        candidates = []
        for row in _quarantined(paths, source, reason, extract):
            if (row["extract_id"], row["row_number"]) in replayed:
                result.already_replayed += 1
            elif row["reason_code"] in NOT_RECORDS:
                result.not_records += 1
            else:
                candidates.append(row)
        result.chosen = len(candidates)
        payloads = [json.loads(r["payload"]) for r in candidates]
        reasons = _reasons_now(contract, _file_bytes(contract, payloads)) if candidates else []
        passing = [(row, p) for row, p, now in zip(candidates, payloads, reasons, strict=True) if now is None]
        result.passing = len(passing)
        result.still_failing = dict(sorted(Counter(r for r in reasons if r is not None).items()))
        if dry_run:
            return result
        sha256 = _write_replay(paths, contract, reason, extract, passing) if passing else None
        # Lands the replay extract, one a replay that died left behind, and any other pending one.
        land_source(paths, source)
    result.record = manifest.read_record(paths, source, sha256) if sha256 else None
    return result


def _write_replay(paths: DataPaths, contract: Contract, reason, extract, passing: list[tuple[dict, dict]]) -> str:
    """The ledger, then the replay extract's file; returns its content hash."""
    data = _file_bytes(contract, [p for _, p in passing])
    sha256 = hashlib.sha256(data).hexdigest()
    source = contract.name
    ledger = {
        "source": source,
        "sha256": sha256,
        "file": str(_inbox_file(paths, contract, sha256).relative_to(paths.inbox)),
        "replayed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "filters": {"reason": reason, "extract": extract},
        # [extract id, row number, the reason it was quarantined for]
        "rows": [[r["extract_id"], r["row_number"], f"{r['reason_code']}:{r['field'] or ''}"] for r, _ in passing],
    }
    write_text_atomic(ledger_folder(paths, source) / f"{sha256}.json", json.dumps(ledger, indent=1))
    # Delivered as a source does it (docs/landing.md): renamed into place whole, then the marker.
    write_atomic(_inbox_file(paths, contract, sha256), lambda tmp: tmp.write_bytes(data))
    mark_delivered(paths.inbox_for(source))
    return sha256
