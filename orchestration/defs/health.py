"""Warn-severity checks on the data, beside the blocking ones: dead-letter health and ingestion
anomalies per landing asset, KPI anomalies on the published marts. Each writes an alert record
to `alerts/` when it does not pass, and never holds back a run (a warn check blocks nothing)."""

import json
from dataclasses import asdict
from datetime import UTC, datetime

import dagster as dg
import duckdb

from orchestration import anomalies, health
from orchestration.contracts import load_contracts
from orchestration.defs.landing import landing_asset_key
from orchestration.defs.resources import Settings
from orchestration.lib.atomic_files import write_text_atomic
from orchestration.publish import published_path

PUBLISHED = dg.AssetKey(["published", "marts"])


def _result(paths, scope: str, found: list, t: anomalies.Thresholds, **key) -> dg.AssetCheckResult:
    alert = anomalies.write_alert(paths, scope, found, t)
    return dg.AssetCheckResult(
        **key,
        passed=not found,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(
            f"{a.check} {a.subject} {a.date}: {a.value:.4g} outside [{a.low:.4g}, {a.high:.4g}]" for a in found[:10]
        )
        or None,
        metadata={
            "anomalies": len(found),
            "alert": str(alert) if alert else "none",
            "found": dg.MetadataValue.json([asdict(a) for a in found[:20]]),
        },
    )


HEALTH, ANOMALIES = "dead_letter_health", "ingestion_anomalies"


def _health_result(paths, source: str, limits: health.Limits) -> dg.AssetCheckResult:
    measured = health.source_health(paths, source, datetime.now(UTC))
    problems = measured.problems(limits)
    if problems:
        now = datetime.now(UTC)
        record = {
            "kind": "health",
            "severity": "warn",
            "alerted_at": now.isoformat(timespec="seconds"),
            "limits": asdict(limits),
            "health": asdict(measured),
            "problems": problems,
        }
        alert = paths.root / "alerts" / f"health-{source}-{now:%Y%m%dT%H%M%S%fZ}.json"
        write_text_atomic(alert, json.dumps(record, indent=2))
    return dg.AssetCheckResult(
        asset_key=landing_asset_key(source),
        check_name=HEALTH,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems) or None,
        metadata={k: v if v is not None else -1 for k, v in asdict(measured).items() if k != "source"},
    )


# One step for every source (a step per check and source would add dozens to each build).
@dg.multi_asset_check(
    specs=[
        spec
        for source in load_contracts()
        for spec in (
            dg.AssetCheckSpec(
                HEALTH,
                asset=landing_asset_key(source),
                description="Quarantine backlog (rows, oldest age), error, duplicate and late-row rates of the"
                " newest landing day, inbox-to-landing delay, within the COMMERCE_HEALTH_* limits.",
            ),
            dg.AssetCheckSpec(
                ANOMALIES,
                asset=landing_asset_key(source),
                description="Landed rows per store against the trailing same weekdays, zero-volume days, and"
                " spikes of the quarantine and duplicate shares (COMMERCE_ANOMALY_* thresholds).",
            ),
        )
    ],
    can_subset=True,
)
def ingestion_checks(context: dg.AssetCheckExecutionContext, settings: Settings):
    paths, limits, t = settings.paths, health.Limits.from_env(), anomalies.Thresholds.from_env()
    for key in context.selected_asset_check_keys:
        source = key.asset_key.path[-1]
        if key.name == HEALTH:
            yield _health_result(paths, source, limits)
        else:
            found = anomalies.ingestion_anomalies(paths, source, t)
            yield _result(paths, source, found, t, asset_key=key.asset_key, check_name=ANOMALIES)


@dg.asset_check(
    asset=PUBLISHED,
    name="kpi_anomalies",
    description="GMV, orders, sessions and conversion per store on the newest date against the trailing"
    " same weekdays (COMMERCE_ANOMALY_KPI_BAND).",
)
def kpi_anomaly_check(settings: Settings) -> dg.AssetCheckResult:
    paths, t = settings.paths, anomalies.Thresholds.from_env()
    target = published_path(paths)
    with duckdb.connect(str(target), read_only=True) if target.exists() else duckdb.connect() as con:
        # A run that materialises only some marts publishes only those: no kpis_daily, nothing to watch.
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'kpis_daily'").fetchone()[0]:
            return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"anomalies": 0})
        found = anomalies.kpi_anomalies(con, t)
    return _result(paths, "kpis", found, t)


health_checks = [ingestion_checks, kpi_anomaly_check]
