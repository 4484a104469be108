"""The landing manifest: one JSON record per extract, named by the extract's content hash.

The record is written last, after every Parquet file of the extract is in place, so its
existence is what makes an extract landed: an extract without one is landed again, and its
files (named by the same hash) are rewritten identically.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestration.lib.atomic_files import write_text_atomic
from orchestration.settings import DataPaths


@dataclass
class ManifestRecord:
    source: str
    sha256: str
    file: str
    size_bytes: int
    landed_at: str
    # "landed"; "rejected" when the file could not be read and went to quarantine line by line
    # (or whole, when it has no lines of text); "failed_validation" when the landed batch failed
    # its expectations and was quarantined whole.
    status: str
    # The extract's place in its source's landing order (1, 2, ...): with the row number it orders
    # every landed row, so the latest copy of a re-exported record is the one landed last.
    sequence: int = 0
    # When the extract arrived in the inbox: the file's modification time, as the inbox's file
    # system stamped it (delivery.py). Records written before it was kept have none.
    arrived_at: str | None = None
    rows_received: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    duplicates_dropped: int = 0
    duplicates_already_landed: int = 0
    late_rows: int = 0
    # Rows naming an erased subject (suppression.py), dropped at landing and written nowhere.
    rows_erased_subject: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    rows_by_partition: dict[str, int] = field(default_factory=dict)
    # The same counts split by the store the rows name (an extract mixes stores), so the
    # data-quality scorecard can give every tenant its own; see `StoreCounts`.
    counts_by_store: dict[str, dict] = field(default_factory=dict)
    # A rejected file's reason code (rules.py: unreadable_file, empty_file, ...) and the message
    # that explains it (the decoder's or parser's own).
    reason: str | None = None
    detail: str | None = None
    validation_failures: list[str] = field(default_factory=list)
    # The landed values' shapes (profile.py): per store, the median of each money field; the
    # shapes of the key's ids. Later batches are compared with them.
    medians_by_store: dict[str, dict[str, float]] = field(default_factory=dict)
    key_shapes: dict[str, int] = field(default_factory=dict)
    # Findings that did not stop the extract from landing (additive schema drift set to warn).
    warnings: list[str] = field(default_factory=list)
    # The file's records as an independent count found them (CSV records, JSONL lines), and as
    # the parser read them: a record the parser lost makes them differ.
    records_counted: int = 0
    records_read: int = 0

    @property
    def extract_id(self) -> str:
        return self.sha256[:16]

    @property
    def is_conserved(self) -> bool:
        """rows received = landed + quarantined + duplicates + erased, the landing invariant, for the
        extract and for each store of it; and the parser read every record the file holds (a
        rejected file's lines are split apart from the parser)."""
        stores = [StoreCounts(**c) for c in self.counts_by_store.values()]
        return (
            (self.status == "rejected" or self.records_read == self.records_counted)
            and self.rows_received
            == self.rows_landed + self.rows_quarantined + self.duplicates_dropped + self.rows_erased_subject
            and all(
                s.received == s.landed + sum(s.quarantined_by_reason.values()) + s.duplicates + s.erased_subject
                for s in stores
            )
            and self.rows_received == sum(s.received for s in stores)
        )

    def set_store_counts(self, by_store: dict[str, StoreCounts]) -> None:
        """Record the per-store counts and the extract totals they add up to."""
        self.counts_by_store = {store: asdict(c) for store, c in sorted(by_store.items())}
        counts = by_store.values()
        self.rows_received = sum(c.received for c in counts)
        self.rows_landed = sum(c.landed for c in counts)
        self.duplicates_dropped = sum(c.duplicates for c in counts)
        self.late_rows = sum(c.late for c in counts)
        self.rows_erased_subject = sum(c.erased_subject for c in counts)
        self.quarantined_by_reason = dict(
            sorted(sum((Counter(c.quarantined_by_reason) for c in counts), Counter()).items())
        )
        self.rows_quarantined = sum(self.quarantined_by_reason.values())


# Rows whose store cannot be read (an unparseable line, a missing store_id) are counted here.
UNATTRIBUTED_STORE = "unattributed"


@dataclass
class StoreCounts:
    """What one extract brought for one store."""

    received: int = 0
    landed: int = 0
    duplicates: int = 0
    late: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    erased_subject: int = 0


def record_path(paths: DataPaths, source: str, sha256: str) -> Path:
    return paths.manifest / source / f"{sha256}.json"


def read_record(paths: DataPaths, source: str, sha256: str) -> ManifestRecord | None:
    path = record_path(paths, source, sha256)
    if not path.exists():
        return None
    return ManifestRecord(**json.loads(path.read_text(encoding="utf-8")))


def write_record(paths: DataPaths, record: ManifestRecord) -> None:
    text = json.dumps(asdict(record), indent=2, sort_keys=True)
    write_text_atomic(record_path(paths, record.source, record.sha256), text)


def next_sequence(paths: DataPaths, source: str) -> int:
    """The landing sequence number of the next extract of a source."""
    return max((r.sequence for r in records(paths, source)), default=0) + 1


def records(paths: DataPaths, source: str) -> list[ManifestRecord]:
    folder = paths.manifest / source
    return [ManifestRecord(**json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]
