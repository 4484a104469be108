"""The Dagster code location: gathers what the modules under `defs/` define."""

import dagster as dg

from orchestration.defs.backup import backup_data, backup_schedule
from orchestration.defs.checks import freshness_checks
from orchestration.defs.dbt import warehouse_models
from orchestration.defs.health import health_checks
from orchestration.defs.jobs import build_job
from orchestration.defs.landing import landing_assets, landing_job
from orchestration.defs.privacy import customer_erasure, daily_purge, retention_purge
from orchestration.defs.publish import published_marts
from orchestration.defs.replay import replay_quarantine
from orchestration.defs.resources import resources
from orchestration.defs.schedules import daily_build
from orchestration.defs.sensors import failure_alert_sensor, inbox_sensor
from orchestration.json_logs import json_file_logger

defs = dg.Definitions(
    assets=[*landing_assets, warehouse_models, published_marts],
    asset_checks=[*freshness_checks, *health_checks],
    jobs=[landing_job, build_job, retention_purge, customer_erasure, backup_data, replay_quarantine],
    schedules=[daily_build, daily_purge, backup_schedule],
    sensors=[inbox_sensor, failure_alert_sensor],
    resources=resources,
    loggers={"console": dg.colored_console_logger, "json": json_file_logger},
)
