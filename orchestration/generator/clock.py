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


# `HH:MM:SS` for every second of a day and `mmm` for every millisecond: formatting is table lookups
_TIMES = np.frombuffer(
    "".join(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)).encode(), dtype=np.uint64
)
_MILLIS = np.frombuffer("".join(f"{m:03d}" for m in range(1000)).encode(), dtype=np.uint8).reshape(-1, 3)


def _dates(days: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD` per day since the epoch as an (n, 10) byte matrix, from a table of the days spanned."""
    first = int(days.min())
    table = np.arange(first, int(days.max()) + 1).astype("datetime64[D]").astype("S10").view("V10")
    return table[days - first].view(np.uint8).reshape(-1, 10)


def iso_bytes(ms: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` as an (n, 24) byte matrix; table lookups, no per-row formatting."""
    ms = np.asarray(ms, dtype=np.int64)
    out = np.empty((len(ms), 24), dtype=np.uint8)
    if not len(ms):
        return out
    days, rem = np.divmod(ms, DAY_MS)
    out[:, :10] = _dates(days)
    out[:, [10, 19, 23]] = np.frombuffer(b"T.Z", dtype=np.uint8)
    out[:, 11:19] = _TIMES[rem // SECOND_MS].view(np.uint8).reshape(-1, 8)
    out[:, 20:23] = _MILLIS[rem % SECOND_MS]
    return out


def date_bytes(days: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD` for days since the epoch, as an (n, 10) byte matrix."""
    days = np.asarray(days, dtype=np.int64)
    if not len(days):
        return np.empty((0, 10), dtype=np.uint8)
    return _dates(days)


def iso(ms: int) -> str:
    return iso_bytes(np.array([ms])).tobytes().decode()
