"""Writing extracts: contract-typed CSV files per export day and gzipped JSONL clickstream chunks."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contracts import Contract, Field
from orchestration.settings import DataPaths

from .clock import NA, Window
from .text import bool_strings, date_strings, decimal_strings, int_strings, iso_strings, joined_bytes

GZIP_LEVEL = 1  # clickstream volume makes compression the bottleneck; level 1 is ~3x faster than 6
COMPRESSION_QUEUE = 4  # chunks waiting for compression at most
CSV_SLICE_ROWS = 250_000

Column = np.ndarray | pa.Array


def repeat(value: str, n: int) -> pa.StringArray:
    return pa.repeat(pa.scalar(value, pa.string()), n)


@dataclass
class Extract:
    """Rows of one extract before formatting. Values are typed: int64 milliseconds for timestamps (NA for
    null), int64 days for dates, int64 counts of 10**-scale for decimals, numpy bools, strings as Arrow
    arrays. `export_ms` is when the row appears in an export; with `key` set the rows are versions of an
    entity and each day's file carries only the latest version of the day."""

    name: str
    columns: dict[str, Column]
    export_ms: np.ndarray
    key: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.export_ms)

    @staticmethod
    def concat(parts: list[Extract]) -> Extract:
        first = parts[0]

        def join(values: list[Column]) -> Column:
            if not isinstance(values[0], pa.Array):
                return np.concatenate(values)
            if len({v.type for v in values}) > 1:
                values = [v.cast(pa.string()) for v in values]
            return pa.concat_arrays(values)

        return Extract(
            name=first.name,
            columns={c: join([p.columns[c] for p in parts]) for c in first.columns},
            export_ms=np.concatenate([p.export_ms for p in parts]),
            key=None if first.key is None else np.concatenate([p.key for p in parts]),
        )


def format_column(f: Field, values: Column) -> pa.StringArray:
    """Render a column as the contract type prescribes for CSV."""
    if f.is_text or (isinstance(values, pa.Array) and pa.types.is_string(values.type)):  # text already
        return values.cast(pa.string()) if isinstance(values, pa.Array) else pa.array(values, pa.string())
    values = np.asarray(values)
    if f.type == "timestamp":
        return iso_strings(values)
    if f.type == "date":
        return date_strings(values)
    if f.type == "boolean":
        return bool_strings(values)
    if f.type == "integer":
        return int_strings(values)
    return decimal_strings(values, int(f.type.split(",")[1].rstrip(")")))


def _csv_cell(values: pa.StringArray) -> pa.StringArray:
    """Standard CSV quoting: only values with a quote, comma or line break are quoted. Most columns have
    none of them, which a scan of the column's raw bytes tells at once."""
    values = values.fill_null("")
    if not len(values) or values.buffers()[2] is None:
        return values
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    present = [chr(c) for c in b'",\n\r' if (data == c).any()]
    if not present:
        return values
    needs = pc.match_substring(values, present[0])
    for c in present[1:]:
        needs = pc.or_(needs, pc.match_substring(values, c))
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values.filter(needs), '"', '""'), '"', "")
    return pc.replace_with_mask(values, needs, quoted)


def latest_per_day(extract: Extract, day: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Of the given rows, all for plain extracts; for versioned ones the last version per entity and day."""
    if extract.key is None or not len(rows):
        return rows
    order = rows[np.lexsort((rows, extract.export_ms[rows], extract.key[rows], day[rows]))]
    same = (extract.key[order][1:] == extract.key[order][:-1]) & (day[order][1:] == day[order][:-1])
    return order[np.r_[~same, True]]


class Sink:
    """Writes files under the inbox and keeps the counts that go into the truth file."""

    def __init__(self, paths: DataPaths, window: Window, contracts: dict[str, Contract]) -> None:
        self.paths = paths
        self.window = window
        self.contracts = contracts
        self.files: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=2)  # compress two files while the next chunk is built
        self._pending: list[Future] = []
        for name, contract in contracts.items():
            folder = paths.inbox_for(name)
            folder.mkdir(parents=True, exist_ok=True)
            pattern = "events_*.jsonl.gz" if contract.format == "jsonl_batches" else f"{name}_*.csv"
            for stale in folder.glob(pattern):  # files of an earlier run would mix with this one
                stale.unlink()

    def _record(self, extract: str, relative: str, rows: int) -> None:
        self.files[relative] = int(rows)
        self.rows[extract] = self.rows.get(extract, 0) + int(rows)

    def export_days(self, extract: Extract) -> tuple[np.ndarray, np.ndarray]:
        """(rows, bounds): the rows to export in file order (by day, then by time of the change), and where
        each day's rows start among them."""
        # rows stamped a moment before the window (a visit that began before midnight) go out on day one
        day = np.maximum(self.window.day_of(extract.export_ms), 0)
        inside = (extract.export_ms != NA) & (day < self.window.days)
        rows = latest_per_day(extract, day, np.flatnonzero(inside))
        rows = rows[np.lexsort((rows, extract.export_ms[rows], day[rows]))]
        return rows, np.searchsorted(day[rows], np.arange(self.window.days + 1))

    def format(self, extract: Extract, rows: np.ndarray) -> dict[str, pa.StringArray]:
        contract = self.contracts[extract.name]
        names = [f.name for f in contract.fields]
        if list(extract.columns) != names:
            raise ValueError(f"{extract.name}: columns {list(extract.columns)} differ from the contract {names}")
        index = pa.array(rows, type=pa.int64())
        return {
            f.name: format_column(
                f,
                values.take(index)
                if isinstance(values := extract.columns[f.name], pa.Array)
                else np.asarray(values)[rows],
            )
            for f in contract.fields
        }

    def file_days(self, name: str) -> range:
        return range(1) if self.contracts[name].exported_on_change else range(self.window.days)

    def csv_file(self, name: str, day: int) -> CsvFile:
        return CsvFile(self, name, f"{name}/{name}_{self.window.label(day)}.csv")

    def events_file(self, day: int, number: int) -> EventsFile:
        return EventsFile(self, f"events/events_{self.window.label(day)}_{number:04d}.jsonl.gz")

    def _submit(self, job: Callable[[], None]) -> Future:
        future = self._pool.submit(job)
        self._pending.append(future)
        while len(self._pending) > COMPRESSION_QUEUE:  # bounded, so memory stays flat
            self._pending.pop(0).result()
        return future

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc) -> None:
        try:
            for job in self._pending:
                job.result()
        finally:
            self._pool.shutdown(cancel_futures=True)


class CsvFile:
    """One CSV file with its header, written in slices of rows."""

    def __init__(self, sink: Sink, name: str, relative: str) -> None:
        self.sink, self.name, self.relative, self.rows = sink, name, relative, 0
        self._out = (sink.paths.inbox / relative).open("wb")
        self._out.write((",".join(f.name for f in sink.contracts[name].fields) + "\n").encode())

    def write(self, columns: dict[str, pa.StringArray]) -> None:
        n = len(next(iter(columns.values())))
        if n:
            lines = pc.binary_join_element_wise(*[_csv_cell(c) for c in columns.values()], ",")
            self._out.write(joined_bytes(pc.binary_join_element_wise(lines, "\n", "")))
            self.rows += n

    def close(self) -> None:
        self._out.close()
        self.sink._record(self.name, f"inbox/{self.relative}", self.rows)


class EventsFile:
    """One gzipped JSONL file, filled chunk by chunk. Compression runs in the sink's worker threads while
    the next chunk is built; a file's jobs wait for its previous job, so its bytes stay in order. The gzip
    header is fixed (mtime 0, no name), so equal input gives equal bytes."""

    def __init__(self, sink: Sink, relative: str) -> None:
        self.sink, self.relative, self.events = sink, relative, 0
        self._out = (sink.paths.inbox / relative).open("wb")
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self._last: Future | None = None

    def _then(self, job: Callable[[], None]) -> None:
        previous = self._last

        def chained() -> None:
            if previous is not None:
                previous.result()
            job()

        self._last = self.sink._submit(chained)

    def write(self, events: pa.StringArray, runs: list[tuple[int, int]]) -> None:
        """Append the given (start, end) ranges of framed event strings."""
        offsets = np.frombuffer(events.buffers()[1], dtype=np.int32, count=len(events) + 1, offset=events.offset * 4)
        data = events.buffers()[2]
        pieces = [data[int(offsets[a]) : int(offsets[b])] for a, b in runs if b > a]
        self.events += sum(b - a for a, b in runs)

        def compress() -> None:
            for piece in pieces:
                self._out.write(self._compressor.compress(piece))

        self._then(compress)

    def close(self) -> None:
        def finish() -> None:
            self._out.write(self._compressor.flush())
            self._out.close()

        self._then(finish)
        self.sink._record("events", f"inbox/{self.relative}", self.events)
