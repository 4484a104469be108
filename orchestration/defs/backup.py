"""The backup job: a snapshot of the data folder into $COMMERCE_BACKUP_DIR, on a schedule.

Every 6 hours by default; `COMMERCE_BACKUP_CRON` changes it (hourly, `0 * * * *`, meets a
one-hour recovery point). The schedule starts stopped, like the daily build: an operator turns
it on once the target is set.
"""

import os
from pathlib import Path

import dagster as dg

from orchestration import backup
from orchestration.defs.resources import SETTINGS, Settings
from orchestration.json_logs import logger_config

CRON_ENV, DEFAULT_CRON = "COMMERCE_BACKUP_CRON", "0 */6 * * *"


class BackupConfig(dg.Config):
    target: str | None = None  # default $COMMERCE_BACKUP_DIR
    keep: int | None = None  # default $COMMERCE_BACKUP_KEEP, else 28


@dg.op(description="Snapshot raw, manifest, quarantine, audit, suppression list and published marts.")
def snapshot_data_folder(context: dg.OpExecutionContext, config: BackupConfig, settings: Settings) -> str:
    target = Path(config.target) if config.target else backup.target_from_env()
    keep = config.keep if config.keep is not None else backup.keep_from_env()
    snap = backup.backup(settings.paths, target, keep)
    context.log.info(
        f"snapshot {snap.snapshot_id}: {snap.files} files, {snap.new_objects} new ({snap.new_bytes} bytes copied);"
        f" removed {snap.removed_snapshots}"
    )
    context.add_output_metadata({"files": snap.files, "bytes": snap.bytes, "bytes_copied": snap.new_bytes})
    return snap.snapshot_id


@dg.job(
    resource_defs=SETTINGS,
    description="Back up the data folder (incremental, by content hash) to $COMMERCE_BACKUP_DIR.",
)
def backup_data():
    snapshot_data_folder()


backup_schedule = dg.ScheduleDefinition(
    name="backup_schedule",
    job=backup_data,
    cron_schedule=os.environ.get(CRON_ENV, DEFAULT_CRON),
    execution_timezone="UTC",
    run_config=logger_config("INFO"),
)
