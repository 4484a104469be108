"""Materialize assets through Dagster in-process, with the same gates as `dagster dev`."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import TextIO

import dagster as dg

from orchestration.defs.partitions import daily_partitions
from orchestration.json_logs import logger_config
from orchestration.settings import DataPaths

DBT_OP = "warehouse_models"


def instance() -> dg.DagsterInstance:
    """The DAGSTER_HOME instance when one is set (runs then show in `dagster dev`), else ephemeral."""
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


@contextlib.contextmanager
def _appending(path: Path) -> Iterator[TextIO]:
    """A log to append to whose last flush may fail: a full disk fails the run, whose result then
    says so; the log must not turn that into a crash of the caller."""
    handle = path.open("a", encoding="utf-8")
    try:
        yield handle
    finally:
        with contextlib.suppress(OSError):
            handle.close()  # closed even when its flush fails


def partition_range(first: date, last: date) -> tuple[str, str]:
    """The partition keys of [first, last], clipped to the partitions that exist."""
    keys = daily_partitions.get_partition_keys()
    inside = [k for k in keys if first.isoformat() <= k <= last.isoformat()]
    if not inside:
        raise ValueError(f"no daily partition between {first} and {last} (partitions span {keys[0]}..{keys[-1]})")
    return inside[0], inside[-1]


def run_job(
    job_name: str,
    first: date,
    last: date,
    dbt_config: dict | None = None,
    on: dg.DagsterInstance | None = None,
    selection: dg.AssetSelection | None = None,
) -> dg.ExecuteInProcessResult:
    """Run a partitioned job (or the `selection` of its assets) over [first, last] as one run.

    `dbt_config` (`full_refresh`, `lookback_days`) configures the dbt build of jobs that have one.
    dbt's progress goes to `$DATA_DIR/logs/dbt.log` rather than the terminal. A failed run
    leaves an alert record, as the run-failure sensor does for daemon-launched runs.
    """
    from orchestration.alerts import failure_record, summary, write_alert

    start, end = partition_range(first, last)
    on = on or instance()
    # The CLI prints its own summary; Dagster's console shows failures only.
    run_config = logger_config("ERROR")
    paths = DataPaths.from_env()
    dbt_log = paths.root / "logs" / "dbt.log"
    dbt_log.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), _appending(dbt_log) as log, redirect_stdout(log):
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        from orchestration.definitions import defs

        job = defs.resolve_job_def(job_name)
        if selection is not None:
            graph = defs.resolve_asset_graph()
            job = job.get_subset(
                asset_selection=selection.resolve(graph), asset_check_selection=selection.resolve_checks(graph)
            )
        if dbt_config is not None and job.graph.has_node_named(DBT_OP):
            run_config["ops"] = {DBT_OP: {"config": dbt_config}}
        result = job.execute_in_process(
            instance=on,
            run_config=run_config,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            raise_on_error=False,
        )
    if not result.success:
        try:
            record = write_alert(paths, on, result.run_id)
        except OSError as error:  # a full disk failed the run: it must not hide the run's result
            record = failure_record(on, result.run_id)
            print(f"could not write the alert record: {error}", file=sys.stderr)
        print(summary(record), file=sys.stderr)
    return result
