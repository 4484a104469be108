"""The daily build: at 02:00 UTC, yesterday's partition (its extracts have arrived by then)."""

from datetime import timedelta

import dagster as dg

from orchestration.defs.jobs import build_job
from orchestration.json_logs import logger_config


@dg.schedule(job=build_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
def daily_build(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=f"daily-{yesterday}", partition_key=yesterday, run_config=logger_config("INFO"))
