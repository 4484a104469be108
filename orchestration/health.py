"""Dead-letter and ingestion health of a source: the quarantine backlog (rows not replayed, and the
age of the oldest), the error, duplicate and late-row rates of its newest landing day, and the
delay from an extract's arrival in the inbox to its landing (the batch form of consumer lag).

Limits come from the environment (`COMMERCE_HEALTH_*`, below); a source past any is unhealthy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestration.landing import manifest
from orchestration.lib.env_tunables import tunables_from_env
from orchestration.replay import ledgers
from orchestration.settings import DataPaths

ENV_PREFIX = "COMMERCE_HEALTH_"


@dataclass(frozen=True)
class Limits:
    max_backlog_hours: float = 72  # the oldest quarantined row not replayed
    max_error_rate: float = 0.05  # quarantined / received (landing's own batch gate is 5 %)
    max_duplicate_rate: float = 0.10  # duplicates dropped / received
    max_late_rate: float = 0.10  # late rows / landed
    max_delay_hours: float = 26  # inbox arrival (file time) to landing

    @classmethod
    def from_env(cls) -> Limits:
        """Each field from COMMERCE_HEALTH_<FIELD> when set (COMMERCE_HEALTH_MAX_BACKLOG_HOURS=48)."""
        return tunables_from_env(cls, ENV_PREFIX)


@dataclass(frozen=True)
class SourceHealth:
    source: str
    backlog_rows: int
    oldest_backlog_hours: float | None
    day: str | None  # the newest landing day (UTC) the rates are of
    error_rate: float | None
    duplicate_rate: float | None
    late_rate: float | None
    max_delay_hours: float | None

    def problems(self, limits: Limits) -> list[str]:
        """What is past its limit, in words."""
        measured = {
            "oldest quarantined row (hours)": (self.oldest_backlog_hours, limits.max_backlog_hours),
            "error rate": (self.error_rate, limits.max_error_rate),
            "duplicate rate": (self.duplicate_rate, limits.max_duplicate_rate),
            "late-row rate": (self.late_rate, limits.max_late_rate),
            "inbox-to-landing delay (hours)": (self.max_delay_hours, limits.max_delay_hours),
        }
        return [
            f"{self.source}: {name} {value:.4g} > {limit:g}"
            for name, (value, limit) in measured.items()
            if value is not None and value > limit
        ]


def _backlog(paths: DataPaths, source: str) -> list[datetime]:
    """When each quarantined row not replayed yet was quarantined."""
    from orchestration.lib.in_memory_duckdb import connect

    files = sorted(paths.quarantine_for(source).glob("part-*.parquet"))
    if not files:
        return []
    replayed = {(r[0], r[1]) for ledger in ledgers(paths, source) for r in ledger["rows"]}
    with connect() as con:
        rows = con.execute(
            "select extract_id, row_number, quarantined_at from read_parquet(?)", [[str(f) for f in files]]
        ).fetchall()
    return [at for extract_id, row_number, at in rows if (extract_id, row_number) not in replayed]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _delay_hours(record: manifest.ManifestRecord) -> float:
    """Inbox arrival to landing; never negative (the inbox's clock may run ahead of this machine's)."""
    landed, arrived = datetime.fromisoformat(record.landed_at), datetime.fromisoformat(record.arrived_at)
    return max((landed - arrived).total_seconds(), 0) / 3600


def source_health(paths: DataPaths, source: str, now: datetime) -> SourceHealth:
    backlog = _backlog(paths, source)
    records = manifest.records(paths, source)
    day = max((r.landed_at[:10] for r in records), default=None)
    newest = [r for r in records if r.landed_at[:10] == day]
    delays = [_delay_hours(r) for r in newest if r.arrived_at]
    received = sum(r.rows_received for r in newest)
    return SourceHealth(
        source=source,
        backlog_rows=len(backlog),
        oldest_backlog_hours=(now - min(backlog)).total_seconds() / 3600 if backlog else None,
        day=day,
        error_rate=_ratio(sum(r.rows_quarantined for r in newest), received),
        duplicate_rate=_ratio(sum(r.duplicates_dropped for r in newest), received),
        late_rate=_ratio(sum(r.late_rows for r in newest), sum(r.rows_landed for r in newest)),
        max_delay_hours=max(delays, default=None),
    )
