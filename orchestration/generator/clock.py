"""Time: every instant is int64 milliseconds since the epoch (UTC); NA marks a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
NA = np.iinfo(np.int64).min
NEVER = np.iinfo(np.int64).max  # a time after every other, for "not yet" comparisons


def epoch_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * SECOND_MS


@dataclass(frozen=True)
class Window:
    """The UTC days the generator exports; one file per source and day."""

    start: date
    days: int

    @property
    def start_ms(self) -> int:
        return epoch_ms(self.start)

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * DAY_MS

    def day_of(self, ms: np.ndarray) -> np.ndarray:
        return np.floor_divide(np.asarray(ms) - self.start_ms, DAY_MS)

    def label(self, day: int) -> str:
        return (self.start + timedelta(days=day)).strftime("%Y%m%d")

    def contains(self, ms: np.ndarray) -> np.ndarray:
        ms = np.asarray(ms)
        return (ms >= self.start_ms) & (ms < self.end_ms)


class LocalClock:
    """UTC offsets of an IANA zone tabulated per UTC hour (our zones all switch on the hour), so local
    times of millions of instants are one table lookup."""

    def __init__(self, time_zone: str, first_ms: int, last_ms: int) -> None:
        self.zone = ZoneInfo(time_zone)
        self.first_hour = first_ms // HOUR_MS
        hours = range(self.first_hour, last_ms // HOUR_MS + 2)
        self.offsets = np.array(
            [
                int(datetime.fromtimestamp(h * 3600, UTC).astimezone(self.zone).utcoffset().total_seconds()) * SECOND_MS
                for h in hours
            ],
            dtype=np.int64,
        )

    def offset(self, ms: np.ndarray) -> np.ndarray:
        slot = np.clip(np.asarray(ms) // HOUR_MS - self.first_hour, 0, len(self.offsets) - 1)
        return self.offsets[slot]

    def local_ms(self, ms: np.ndarray) -> np.ndarray:
        return np.asarray(ms) + self.offset(ms)

    def local_day(self, ms: np.ndarray) -> np.ndarray:
        """Local calendar day as days since the epoch."""
        return self.local_ms(ms) // DAY_MS

    def midnight(self, local_day: int) -> int:
        """UTC instant at which a local day starts."""
        d = date(1970, 1, 1) + timedelta(days=int(local_day))
        return int(datetime(d.year, d.month, d.day, tzinfo=self.zone).timestamp()) * SECOND_MS


def _two_digits(out: np.ndarray, col: int, value: np.ndarray) -> None:
    out[:, col] = 48 + value // 10
    out[:, col + 1] = 48 + value % 10


def _date_table(first_day: int, span: int) -> np.ndarray:
    days = np.arange(first_day, first_day + span).astype("datetime64[D]").astype("S10")
    return days.view(np.uint8).reshape(-1, 10)


def iso_bytes(ms: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` as an (n, 24) byte matrix; arithmetic only, no per-row formatting."""
    ms = np.asarray(ms, dtype=np.int64)
    out = np.empty((len(ms), 24), dtype=np.uint8)
    if not len(ms):
        return out
    days, rem = np.divmod(ms, DAY_MS)
    first = int(days.min())
    out[:, :10] = _date_table(first, int(days.max()) - first + 1)[days - first]
    out[:, [10, 13, 16, 19, 23]] = np.frombuffer(b"T::.Z", dtype=np.uint8)
    _two_digits(out, 11, rem // HOUR_MS)
    _two_digits(out, 14, rem // MINUTE_MS % 60)
    _two_digits(out, 17, rem // SECOND_MS % 60)
    millis = rem % SECOND_MS
    out[:, 20] = 48 + millis // 100
    _two_digits(out, 21, millis % 100)
    return out


def date_bytes(days: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD` for days since the epoch, as an (n, 10) byte matrix."""
    days = np.asarray(days, dtype=np.int64)
    if not len(days):
        return np.empty((0, 10), dtype=np.uint8)
    first = int(days.min())
    return _date_table(first, int(days.max()) - first + 1)[days - first]


def iso(ms: int) -> str:
    return iso_bytes(np.array([ms])).tobytes().decode()
