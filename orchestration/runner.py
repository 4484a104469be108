"""Materialize assets through Dagster in-process, with the same gates as `dagster dev`."""

from __future__ import annotations

import os
import warnings
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.defs.partitions import daily_partitions


def instance() -> dg.DagsterInstance:
    """The DAGSTER_HOME instance when one is set (runs then show in `dagster dev`), else ephemeral."""
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def partition_range(first: date, last: date) -> tuple[str, str]:
    """The partition keys of [first, last], clipped to the partitions that exist."""
    keys = daily_partitions.get_partition_keys()
    inside = [k for k in keys if first.isoformat() <= k <= last.isoformat()]
    if not inside:
        raise ValueError(f"no daily partition between {first} and {last} (partitions span {keys[0]}..{keys[-1]})")
    return inside[0], inside[-1]


def run_job(job_name: str, first: date, last: date) -> dg.ExecuteInProcessResult:
    """Run a partitioned job over [first, last] as one run (single-run backfill)."""
    from orchestration.definitions import defs

    start, end = partition_range(first, last)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        return defs.resolve_job_def(job_name).execute_in_process(
            instance=instance(),
            # The CLI prints its own summary; Dagster's console shows warnings and failures only.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            raise_on_error=False,
        )
