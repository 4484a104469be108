"""Anomaly checks on the data itself, each day against the same weekday of the weeks before.

A value is compared with the median of the same weekday over the trailing `weeks` weeks (7), so
the weekly curve of a shop (quiet Mondays, busy Sundays) and slow growth never look like an
anomaly; it is one when it leaves the band `median x (1 +- band)`. A day is judged only with at
least `min_weeks` such weekdays behind it and a median of at least `min_baseline` (too few
rows to tell otherwise). A day with nothing where the baseline had something is `zero_volume`.

What is checked (README "Operating the pipeline", docs/operations.md):
- volume: landed rows per source x store x UTC date;
- quarantine and duplicate share per source x store x landing date: a spike is a share above
  `share_spike` x its trailing median and above `share_floor`;
- KPIs per store x local date from `kpis_daily`: GMV (USD), orders, sessions, conversion rate.

Thresholds come from the environment (`COMMERCE_ANOMALY_*`, below), so a deployment tunes them
without a code change. Findings become alert records, `alerts/anomalies-<stamp>.json`.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orchestration.lib.atomic_files import write_text_atomic
from orchestration.lib.env_tunables import tunables_from_env
from orchestration.settings import DataPaths

ENV_PREFIX = "COMMERCE_ANOMALY_"
KPIS = ("gmv_usd", "orders", "sessions", "conversion_rate")


@dataclass(frozen=True)
class Thresholds:
    weeks: int = 7  # same weekdays compared
    min_weeks: int = 3  # fewer behind a day: not judged
    volume_band: float = 0.5  # rows landed within median x (1 +- band)
    kpi_band: float = 0.5  # GMV, orders, sessions, conversion within median x (1 +- band)
    min_baseline: float = 20  # a median below this (rows, orders, sessions) is too small to judge
    share_spike: float = 3.0  # a quarantine or duplicate share above this x its trailing median...
    share_floor: float = 0.02  # ...and above this share

    @classmethod
    def from_env(cls) -> Thresholds:
        """Each field from COMMERCE_ANOMALY_<FIELD> when set (COMMERCE_ANOMALY_VOLUME_BAND=0.3)."""
        return tunables_from_env(cls, ENV_PREFIX)


@dataclass(frozen=True)
class Anomaly:
    check: str  # volume, zero_volume, quarantine_share, duplicate_share, kpi:<name>
    subject: str  # source x store, or store for KPIs
    date: str
    value: float
    expected: float  # the trailing same-weekday median
    low: float
    high: float


def _baseline(series: dict[date, float], day: date, t: Thresholds) -> list[float]:
    return [series[d] for w in range(1, t.weeks + 1) if (d := day - timedelta(weeks=w)) in series]


def band_anomalies(
    check: str, series: dict[str, dict[date, float]], day: date, band: float, t: Thresholds, is_rate: bool = False
) -> list[Anomaly]:
    """Subjects whose value on `day` leaves the band around their trailing same-weekday median.

    A subject with history but no value on the day counts 0 (rows that never came); a rate with
    no value is left alone (no denominator that day)."""
    found = []
    for subject, values in sorted(series.items()):
        history = _baseline(values, day, t)
        if len(history) < t.min_weeks or (is_rate and day not in values):
            continue
        expected, value = statistics.median(history), values.get(day, 0)
        if not is_rate and expected < t.min_baseline:
            continue
        low, high = expected * (1 - band), expected * (1 + band)
        if value == 0 and expected > 0 and not is_rate:
            found.append(Anomaly(f"zero_{check}", subject, day.isoformat(), 0, expected, low, high))
        elif not low <= value <= high:
            found.append(Anomaly(check, subject, day.isoformat(), value, expected, low, high))
    return found


def share_spikes(check: str, series: dict[str, dict[date, float]], day: date, t: Thresholds) -> list[Anomaly]:
    """Subjects whose share on `day` exceeds both the floor and `share_spike` x its trailing median
    (over every earlier day of the window, not only the same weekday: a share has no weekly curve)."""
    found = []
    for subject, values in sorted(series.items()):
        if day not in values:
            continue
        history = [v for d, v in values.items() if day - timedelta(weeks=t.weeks) <= d < day]
        if len(history) < t.min_weeks:
            continue
        expected = statistics.median(history)
        high = max(expected * t.share_spike, t.share_floor)
        if values[day] > high:
            found.append(Anomaly(check, subject, day.isoformat(), values[day], expected, 0.0, high))
    return found


def landed_volume(paths: DataPaths, source: str) -> dict[str, dict[date, float]]:
    """Landed rows per `source:store` and UTC partition date, counted from raw."""
    from orchestration.lib.in_memory_duckdb import connect

    files = paths.raw_for(source) / "date=*" / "*.parquet"
    if not list(paths.raw_for(source).glob("date=*/*.parquet")):
        return {}
    series: dict[str, dict[date, float]] = defaultdict(dict)
    with connect() as con:
        rows = con.execute(
            "select store_id, cast(regexp_extract(filename, 'date=([0-9-]+)', 1) as date), count(*)"
            " from read_parquet(?, hive_partitioning = false, filename = true) group by all",
            [str(files)],
        ).fetchall()
    for store, day, rows_landed in rows:
        series[f"{source}:{store}"][day] = rows_landed
    return series


def landing_shares(paths: DataPaths, source: str) -> dict[str, dict[str, dict[date, float]]]:
    """Quarantined and duplicate share of received rows per `source:store` and landing date, from
    the manifest (replay extracts left out: their rows were counted when first received)."""
    from orchestration.landing import manifest

    totals: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for record in manifest.records(paths, source):
        if Path(record.file).name.startswith("replay-"):
            continue
        day = datetime.fromisoformat(record.landed_at).date()
        for store, counts in record.counts_by_store.items():
            total = totals[(f"{source}:{store}", day)]
            total[0] += counts["received"]
            total[1] += sum(counts["quarantined_by_reason"].values())
            total[2] += counts["duplicates"]
    shares: dict[str, dict[str, dict[date, float]]] = {"quarantine_share": {}, "duplicate_share": {}}
    for (subject, day), (received, quarantined, duplicates) in totals.items():
        if received:
            shares["quarantine_share"].setdefault(subject, {})[day] = quarantined / received
            shares["duplicate_share"].setdefault(subject, {})[day] = duplicates / received
    return shares


def ingestion_anomalies(paths: DataPaths, source: str, t: Thresholds) -> list[Anomaly]:
    """Volume on the source's newest landed date, and shares on its newest landing date."""
    found = []
    volume = landed_volume(paths, source)
    if volume:
        newest = max(d for values in volume.values() for d in values)
        found += band_anomalies("volume", volume, newest, t.volume_band, t)
    for check, series in landing_shares(paths, source).items():
        if series:
            found += share_spikes(check, series, max(d for values in series.values() for d in values), t)
    return found


def kpi_series(con, t: Thresholds) -> tuple[dict[str, dict[str, dict[date, float]]], date | None]:
    """KPIs per store and local date from the published `kpis_daily`, and its newest date."""
    rows = con.execute(f"select store_id, date, {', '.join(KPIS)} from kpis_daily").fetchall()
    series: dict[str, dict[str, dict[date, float]]] = {kpi: defaultdict(dict) for kpi in KPIS}
    for store, day, *values in rows:
        for kpi, value in zip(KPIS, values, strict=True):
            if value is not None:
                series[kpi][store][day] = float(value)
    return series, max((row[1] for row in rows), default=None)


def kpi_anomalies(con, t: Thresholds) -> list[Anomaly]:
    series, newest = kpi_series(con, t)
    if newest is None:
        return []
    found = []
    for kpi in KPIS:
        rate = kpi == "conversion_rate"
        found += band_anomalies(f"kpi:{kpi}", series[kpi], newest, t.kpi_band, t, is_rate=rate)
    return found


def write_alert(paths: DataPaths, scope: str, anomalies: list[Anomaly], t: Thresholds) -> Path | None:
    """One alert record per check run that found something: `alerts/anomalies-<scope>-<stamp>.json`."""
    if not anomalies:
        return None
    now = datetime.now(UTC)
    target = paths.root / "alerts" / f"anomalies-{scope}-{now:%Y%m%dT%H%M%S%fZ}.json"
    record = {
        "kind": "anomaly",
        "severity": "warn",
        "scope": scope,
        "alerted_at": now.isoformat(timespec="seconds"),
        "thresholds": asdict(t),
        "anomalies": [asdict(a) for a in anomalies],
    }
    write_text_atomic(target, json.dumps(record, indent=2))
    return target
