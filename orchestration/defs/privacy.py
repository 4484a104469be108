"""Privacy jobs: the retention purge, daily before the build, and erasure on request (with config)."""

from datetime import UTC, date, datetime

import dagster as dg

from orchestration.dbt_project import dbt_project
from orchestration.defs.resources import SETTINGS, Settings
from orchestration.governance import erase, purge
from orchestration.json_logs import logger_config


class PurgeConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; default: the run's day (UTC)
    dry_run: bool = False


class ErasureConfig(dg.Config):
    """Names a filed request (`commerce-analytics erase --file-only`), never the person: run config
    is kept in Dagster's run storage, and the key is the keyed hash the audit keeps anyway."""

    store_id: str
    customer_key: str


@dg.op(description="Null every value past its PII class's retention in raw, quarantine and the warehouse.")
def purge_expired(context: dg.OpExecutionContext, config: PurgeConfig, settings: Settings) -> int:
    as_of = date.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC).date()
    plan = purge.purge(settings.paths, as_of, dbt_project.manifest_path, dry_run=config.dry_run)
    values = sum(i.rows for i in plan)
    context.log.info(f"{'planned' if config.dry_run else 'purged'} {values} values in {len(plan)} columns")
    return values


@dg.op(description="Carry out (or resume) a filed erasure: every place, rebuild the warehouse, republish.")
def erase_customer(context: dg.OpExecutionContext, config: ErasureConfig, settings: Settings) -> dict[str, int]:
    removed = erase.run_request(settings.paths, config.store_id, config.customer_key)
    context.log.info(f"rows removed per place: {removed}")
    return removed


@dg.job(resource_defs=SETTINGS, description="The retention purge (PII_RETENTION_DAYS).")
def retention_purge():
    purge_expired()


@dg.job(
    resource_defs=SETTINGS,
    description="Right to erasure: file it with `commerce-analytics erase --file-only`, run with config"
    " {store_id, customer_key}.",
)
def customer_erasure():
    erase_customer()


# At 01:00 UTC, an hour before the daily build, which then rebuilds full tables from the purged raw.
@dg.schedule(job=retention_purge, cron_schedule="0 1 * * *", execution_timezone="UTC")
def daily_purge(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_config=logger_config("INFO"))
