"""Privacy jobs: the retention purge, daily before the build, and erasure on request (with config)."""

from datetime import UTC, date, datetime

import dagster as dg

from orchestration.dbt_project import dbt_project
from orchestration.governance.erase import erase
from orchestration.governance.purge import purge
from orchestration.json_logs import logger_config
from orchestration.settings import DataPaths


class PurgeConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; default: the run's day (UTC)
    dry_run: bool = False


class ErasureConfig(dg.Config):
    store_id: str
    customer_id: str


@dg.op(description="Null every value past its PII class's retention in raw, quarantine and the warehouse.")
def purge_expired(context: dg.OpExecutionContext, config: PurgeConfig) -> None:
    as_of = date.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC).date()
    plan = purge(DataPaths.from_env(), as_of, dbt_project.manifest_path, dry_run=config.dry_run)
    context.log.info(
        f"{'planned' if config.dry_run else 'purged'} {sum(i.rows for i in plan)} values in {len(plan)} columns"
    )


@dg.op(description="Erase a customer and their devices everywhere, rebuild the warehouse, republish.")
def erase_customer(context: dg.OpExecutionContext, config: ErasureConfig) -> None:
    # The customer id reaches the run config and the event log; the audit keeps only its keyed hash.
    removed = erase(DataPaths.from_env(), config.store_id, config.customer_id)
    context.log.info(f"rows removed per place: {removed}")


@dg.job(description="The retention purge (PII_RETENTION_DAYS).")
def retention_purge():
    purge_expired()


@dg.job(description="Right to erasure: run with config {store_id, customer_id}.")
def customer_erasure():
    erase_customer()


# At 01:00 UTC, an hour before the daily build, which then rebuilds full tables from the purged raw.
daily_purge = dg.ScheduleDefinition(
    name="daily_purge",
    job=retention_purge,
    cron_schedule="0 1 * * *",
    execution_timezone="UTC",
    run_config=logger_config("INFO"),
)
