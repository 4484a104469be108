"""Sensors: land new inbox extracts as they arrive; write an alert record when a run fails."""

from datetime import UTC, datetime

import dagster as dg

from orchestration import alerts
from orchestration.contracts import load_contracts
from orchestration.defs.landing import landing_asset_key, landing_job
from orchestration.defs.resources import Settings
from orchestration.json_logs import logger_config
from orchestration.landing.land import pending_extracts


def extract_run_key(source: str, sha256: str) -> str:
    # The content hash, like the landing manifest: the same bytes under another name, or
    # the same file seen by the next tick, map to the same key, and Dagster skips the run.
    return f"{source}:{sha256}"


@dg.sensor(job=landing_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: Settings) -> dg.SensorResult:
    """One landing run per new extract, for its source, as today's partition."""
    paths = settings.paths
    today = datetime.now(UTC).date().isoformat()
    requests = {}
    for contract in load_contracts().values():
        for extract in pending_extracts(paths, contract):
            key = extract_run_key(contract.name, extract.sha256)
            requests.setdefault(
                key,
                dg.RunRequest(
                    run_key=key,
                    partition_key=today,
                    asset_selection=[landing_asset_key(contract.name)],
                    run_config=logger_config("INFO"),
                    tags={"commerce/extract": str(extract.path.relative_to(paths.inbox))},
                ),
            )
    return dg.SensorResult(run_requests=list(requests.values()))


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def failure_alert_sensor(context: dg.RunFailureSensorContext, settings: Settings) -> None:
    record = alerts.write_alert(settings.paths, context.instance, context.dagster_run.run_id)
    context.log.error(alerts.summary(record))
