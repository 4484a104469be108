"""The daily build: at 02:00 UTC, yesterday's partition (its extracts have arrived by then)."""

from datetime import timedelta

import dagster as dg

from orchestration.defs.jobs import build_job
from orchestration.json_logs import logger_config
from orchestration.runner import on_target
from orchestration.settings import on_spark


@dg.schedule(job=build_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
def daily_build(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    request = {"run_key": f"daily-{yesterday}", "partition_key": yesterday, "run_config": logger_config("INFO")}
    if on_spark():  # the job's assets less the DuckDB-only models, as `commerce-analytics build` runs
        graph = context.repository_def.asset_graph
        selection = on_target(dg.AssetSelection.all())
        request["asset_selection"] = sorted(selection.resolve(graph))
        request["asset_check_keys"] = sorted(selection.resolve_checks(graph))
    return dg.RunRequest(**request)
