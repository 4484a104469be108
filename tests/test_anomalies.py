"""Anomaly and dead-letter health checks: they fire on planted anomalies, and stay quiet on
normal data, the generator's weekly curve and growth included."""

import json
import math
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from orchestration import anomalies, health
from orchestration.generator import GeneratorConfig, generate
from orchestration.generator.traffic import GROWTH_PER_DAY, WEEKDAY
from orchestration.landing import manifest
from orchestration.replay import ledger_folder

T = anomalies.Thresholds()
START = date(2026, 9, 7)  # a Monday
DAYS = [START + timedelta(days=i) for i in range(56)]


def seasonal(base: float) -> dict[date, float]:
    """A series with the generator's own weekly curve and growth."""
    return {d: round(base * WEEKDAY[d.weekday()] * math.exp(GROWTH_PER_DAY * i)) for i, d in enumerate(DAYS)}


def every_day(check, series, band=T.volume_band, is_rate=False):
    return [a for d in DAYS for a in anomalies.band_anomalies(check, series, d, band, T, is_rate)]


def test_the_band_is_quiet_on_seasonal_data_and_fires_on_planted_spikes_and_zero_days():
    series = {"events:us": seasonal(5000), "events:uk": seasonal(800)}
    assert every_day("volume", series) == []
    gap, spike = DAYS[50], DAYS[52]
    series["events:us"][spike] *= 3
    del series["events:uk"][gap]  # nothing landed that day
    found = every_day("volume", series)
    assert [(a.check, a.subject, a.date) for a in found] == [
        ("zero_volume", "events:uk", gap.isoformat()),
        ("volume", "events:us", spike.isoformat()),
    ]
    us = found[1]
    # The median of the 7 same weekdays before the spike, +-50 %.
    history = [series["events:us"][spike - timedelta(weeks=w)] for w in range(1, 8)]
    assert us.expected == sorted(history)[3] and (us.low, us.high) == (us.expected * 0.5, us.expected * 1.5)


def test_too_little_history_or_volume_is_not_judged():
    series = {"orders:jp": dict.fromkeys(DAYS, 5.0)}  # a median under min_baseline (20)
    series["orders:jp"][DAYS[-1]] = 50
    assert every_day("volume", series) == []
    early = {"orders:us": seasonal(100)}
    early["orders:us"][DAYS[13]] = 1000  # only 1 same weekday behind it (min_weeks 3)
    assert every_day("volume", early) == []


def test_share_spikes_fire_above_both_the_trailing_median_and_the_floor():
    normal = dict.fromkeys(DAYS, 0.01)
    series = {"orders:us": dict(normal), "orders:uk": dict(normal)}
    series["orders:us"][DAYS[-1]] = 0.031  # > 3 x 0.01 and > 0.02
    series["orders:uk"][DAYS[-1]] = 0.029  # under 3 x median
    found = anomalies.share_spikes("quarantine_share", series, DAYS[-1], T)
    assert [(a.subject, a.value, a.expected, a.high) for a in found] == [("orders:us", 0.031, 0.01, 0.03)]


@pytest.fixture
def kpis(tmp_path):
    """A published-marts file with 8 weeks of kpis_daily for two stores, seasonal."""
    path = tmp_path / "marts.duckdb"
    gmv, orders, sessions = seasonal(20_000), seasonal(200), seasonal(4000)
    rows = [
        (store, d, gmv[d] * scale, orders[d] * scale, sessions[d] * scale, orders[d] / sessions[d])
        for store, scale in [("us", 1), ("uk", 0.5)]
        for d in DAYS
    ]
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table kpis_daily (store_id varchar, date date, gmv_usd decimal(18, 2), orders bigint,"
            " sessions bigint, conversion_rate double)"
        )
        con.executemany("insert into kpis_daily values (?, ?, ?, ?, ?, ?)", rows)
    return path


def test_kpi_band_quiet_on_seasonal_kpis_then_fires_on_planted_gmv_drop_and_conversion_jump(kpis, paths):
    with duckdb.connect(str(kpis)) as con:
        assert anomalies.kpi_anomalies(con, T) == []
        con.execute("update kpis_daily set gmv_usd = gmv_usd * 0.3 where store_id = 'us' and date = ?", [DAYS[-1]])
        con.execute(
            "update kpis_daily set conversion_rate = conversion_rate * 2 where store_id = 'uk' and date = ?",
            [DAYS[-1]],
        )
        found = anomalies.kpi_anomalies(con, T)
    assert [(a.check, a.subject, a.date) for a in found] == [
        ("kpi:gmv_usd", "us", DAYS[-1].isoformat()),
        ("kpi:conversion_rate", "uk", DAYS[-1].isoformat()),
    ]
    alert = anomalies.write_alert(paths, "kpis", found, T)
    record = json.loads(alert.read_text())
    assert (record["severity"], len(record["anomalies"]), record["thresholds"]["kpi_band"]) == ("warn", 2, 0.5)
    assert anomalies.write_alert(paths, "kpis", [], T) is None


def test_thresholds_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMMERCE_ANOMALY_VOLUME_BAND", "0.3")
    monkeypatch.setenv("COMMERCE_ANOMALY_MIN_WEEKS", "4")
    assert (anomalies.Thresholds.from_env().volume_band, anomalies.Thresholds.from_env().min_weeks) == (0.3, 4)


def test_no_false_alarm_on_four_weeks_of_generated_data(paths):
    """The generator's clickstream (dirt, bots and late batches included) per store and UTC date: every
    day with three same weekdays behind it is judged, and none is an anomaly. (Its orders, a few a
    day at this scale, fall under min_baseline and are not judged.)"""
    generate(paths, GeneratorConfig(days=28, stores=2, events_per_day=2000, start_date=START, seed=11))
    with duckdb.connect() as con:
        rows = con.execute(
            f"""select e.store_id, cast(try_cast(e.timestamp as timestamp) as date) as day, count(*)
            from read_json('{paths.inbox_for("events")}/*.jsonl.gz', format = 'newline_delimited') b,
                 unnest(b.events) as u(e)
            where e.store_id is not null and day is not null group by all"""
        ).fetchall()
    series = {}
    for store, day, count in rows:
        series.setdefault(f"events:{store}", {})[day] = count
    judged = DAYS[21:28]
    assert len(series) == 2
    assert all(len(anomalies._baseline(series[s], d, T)) == 3 for s in series for d in judged)
    assert min(series[s][d] for s in series for d in judged) > T.min_baseline, "every day is judged"
    assert [a for d in judged for a in anomalies.band_anomalies("volume", series, d, T.volume_band, T)] == []


def _record(
    paths, name: str, landed_at: str, received: int, quarantined: int, duplicates: int, late: int, arrived_at=None
):
    record = manifest.ManifestRecord(
        source="orders",
        sha256=name * 64,
        file=f"orders/{name}.csv",
        size_bytes=1,
        arrived_at=arrived_at,
        landed_at=landed_at,
        status="landed",
    )
    counts = manifest.StoreCounts(
        received=received,
        landed=received - quarantined - duplicates,
        duplicates=duplicates,
        late=late,
        quarantined_by_reason={"not_allowed:currency": quarantined} if quarantined else {},
    )
    record.set_store_counts({"us": counts})
    manifest.write_record(paths, record)


def test_dead_letter_health_measures_backlog_rates_and_delay(paths, monkeypatch):
    _record(paths, "a", "2026-11-01T02:00:00+00:00", 100, 4, 0, 0)
    _record(paths, "b", "2026-11-02T02:00:00+00:00", 200, 10, 30, 8, arrived_at="2026-11-01T22:00:00+00:00")
    quarantined_at = [datetime(2026, 11, 1, 2, tzinfo=UTC)] * 2 + [datetime(2026, 11, 2, 2, tzinfo=UTC)]
    with duckdb.connect() as con:
        con.execute(
            "create table q as select * from (values ('a', 1, ?::timestamptz), ('a', 2, ?::timestamptz),"
            " ('b', 1, ?::timestamptz)) t(extract_id, row_number, quarantined_at)",
            quarantined_at,
        )
        paths.quarantine_for("orders").mkdir(parents=True)
        con.execute(f"copy q to '{paths.quarantine_for('orders')}/part-a.parquet'")
    ledger_folder(paths, "orders").mkdir(parents=True)
    (ledger_folder(paths, "orders") / "r.json").write_text(json.dumps({"rows": [["a", 1, "not_allowed:currency"]]}))

    measured = health.source_health(paths, "orders", datetime(2026, 11, 4, 2, tzinfo=UTC))
    assert measured == health.SourceHealth(
        source="orders",
        backlog_rows=2,
        oldest_backlog_hours=72.0,
        day="2026-11-02",
        error_rate=0.05,
        duplicate_rate=0.15,
        late_rate=8 / 160,
        max_delay_hours=4.0,
    )
    assert measured.problems(health.Limits()) == ["orders: duplicate rate 0.15 > 0.1"]
    monkeypatch.setenv("COMMERCE_HEALTH_MAX_BACKLOG_HOURS", "48")
    assert measured.problems(health.Limits.from_env())[0] == "orders: oldest quarantined row (hours) 72 > 48"


def test_the_code_location_runs_the_warn_checks_and_schedules_backups():
    from orchestration.definitions import defs

    checks = {(key.asset_key.to_user_string(), key.name) for c in defs.asset_checks for key in c.check_keys}
    assert {("raw/orders", "dead_letter_health"), ("raw/events", "ingestion_anomalies")} <= checks
    assert ("published/marts", "kpi_anomalies") in checks
    assert defs.get_schedule_def("backup_schedule").cron_schedule == "0 */6 * * *"
    assert {"backup_data", "replay_quarantine"} <= {job.name for job in defs.jobs}
