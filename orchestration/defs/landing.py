"""Landing assets: one per extract contract, daily-partitioned by UTC event date.

A run lands every pending inbox extract of its source (an extract is the unit of exactly-once,
and a late extract may touch older dates), records a materialization for every partition it
wrote to, and reports the batch expectations as a blocking check, so a failed batch or a
rejected file stops everything downstream of the asset: the day does not publish. The check's
description names each failed file and why, and the run's alert carries it.

A step fails only when an extract could not be landed for a reason outside its content; it is
retried when that reason may pass (the disk, the memory), never when it cannot.
"""

import dagster as dg
import duckdb

from orchestration.contracts import Contract, load_contracts
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.resources import Settings
from orchestration.landing.land import LandingFailed, land_source
from orchestration.lib.file_locks import exclusive

EXPECTATIONS_CHECK = "batch_expectations"
# Failures that may pass on a retry; any other is deterministic, and retrying it cannot help.
TRANSIENT_ERRORS = (OSError, MemoryError, duckdb.IOException, duckdb.OutOfMemoryException)


def landing_asset_key(source: str) -> dg.AssetKey:
    # The dbt translator maps each landed table's source (`oms.orders`) onto this key (defs/dbt.py).
    return dg.AssetKey(["raw", source])


def _landing_asset(contract: Contract) -> dg.AssetsDefinition:
    key = landing_asset_key(contract.name)

    @dg.asset(
        key=key,
        group_name="landing",
        description=contract.description,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"parquet", "duckdb"},
        owners=["team:data-platform"],
        metadata={
            "source_system": contract.source_system,
            "primary_key": list(contract.primary_key),
            "pii_classes": {f.name: f.pii for f in contract.columns},
        },
        check_specs=[
            dg.AssetCheckSpec(
                EXPECTATIONS_CHECK,
                asset=key,
                blocking=True,
                description="Great Expectations suite of the landed batches, and their quarantined share.",
            )
        ],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL),
    )
    def land(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
        paths = settings.paths
        # Two runs landing one source at once would race on the same temporary file names.
        with exclusive(paths, f"landing-{contract.name}", log=context.log):
            try:
                records = land_source(paths, contract.name)
            except LandingFailed as failed:
                if all(isinstance(e, TRANSIENT_ERRORS) for e in failed.errors.values()):
                    raise
                raise dg.Failure(description=str(failed), allow_retries=False) from failed
        requested = set(context.partition_keys)
        rows_by_day: dict[str, int] = {}
        for record in records:
            for day, rows in record.rows_by_partition.items():
                rows_by_day[day] = rows_by_day.get(day, 0) + rows
        for day in sorted(set(rows_by_day) - requested):
            if daily_partitions.has_partition_key(day):
                context.log_event(
                    dg.AssetMaterialization(asset_key=key, partition=day, metadata={"rows": rows_by_day[day]})
                )
        for record in records:
            for warning in record.warnings:
                context.log.warning(f"{record.file} landed with a finding: {warning}")
        failed = {r.file: r.validation_failures for r in records if r.validation_failures}
        for file, failures in failed.items():
            context.log.error(f"{file} failed its expectations and was quarantined: {'; '.join(failures)}")
        description = "; ".join(dict.fromkeys(f for failures in failed.values() for f in failures))
        return dg.MaterializeResult(
            metadata={
                "extracts": len(records),
                "rows_received": sum(r.rows_received for r in records),
                "rows_landed": sum(r.rows_landed for r in records),
                "rows_quarantined": sum(r.rows_quarantined for r in records),
                "files_rejected": sum(r.status == "rejected" for r in records),
                "duplicates_dropped": sum(r.duplicates_dropped for r in records),
                "late_rows": sum(r.late_rows for r in records),
                "warnings": sum(len(r.warnings) for r in records),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=EXPECTATIONS_CHECK,
                    passed=not failed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=description or None,
                    metadata={"failed_extracts": dg.MetadataValue.json(failed), "extracts": len(records)},
                )
            ],
        )

    return land


landing_assets = [_landing_asset(contract) for contract in load_contracts().values()]
landing_job = dg.define_asset_job(
    "land_all",
    selection=dg.AssetSelection.groups("landing"),
    partitions_def=daily_partitions,
    description="Land every pending extract of every source.",
)
