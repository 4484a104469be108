"""Materialize assets through Dagster in-process, with the same gates as `dagster dev`."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import TextIO

import dagster as dg

from orchestration.defs.partitions import daily_partitions
from orchestration.json_logs import logger_config
from orchestration.progress import Progress, dbt_nodes_as_note
from orchestration.settings import DataPaths

DBT_OP = "warehouse_models"
# A rebuild of the warehouse: every dbt model with its checks, without landing or publishing.
WAREHOUSE_MODELS = (
    dg.AssetSelection.all() - dg.AssetSelection.groups("landing") - dg.AssetSelection.assets(["published", "marts"])
)


def instance() -> dg.DagsterInstance:
    """The DAGSTER_HOME instance when one is set (runs then show in `dagster dev`), else ephemeral."""
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


FINISHED_STEP = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


class _Tap(io.TextIOBase):
    """Passes what is printed on to a file, and each whole line to `on_line` (dbt's progress)."""

    def __init__(self, target: io.TextIOBase):
        self.target, self.pending = target, ""
        self.on_line: Callable[[str], None] = lambda line: None

    def write(self, text: str) -> int:
        self.target.write(text)
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.on_line(line)
        return len(text)

    def flush(self) -> None:
        self.target.flush()


def _step_counter(progress: Progress) -> dg.LoggerDefinition:
    """A Dagster logger that moves `progress` on as the run's steps finish."""

    class StepCounter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            if event is not None and event.event_type_value in FINISHED_STEP:
                progress.update(advance=1, note=f"{event.step_key} {event.event_type_value[5:].lower()}")

    @dg.logger(description="The CLI's progress bar: one step per finished step.")
    def step_counter(_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("commerce_analytics.progress", level=logging.DEBUG)
        logger.addHandler(StepCounter())
        return logger

    return step_counter


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


def rebuild_lookback(since: date, last: date, lookback_days: int) -> int | None:
    """The lookback, if not the project's `lookback_days`, of a build of the `last` partition
    alone that rebuilds every day from `since`: incremental models rebuild from the window's start
    less the lookback. One partition, not the range from `since`: a run over a range records every
    asset's materialization once per partition (13-15 s per dbt node over 22 months). With the
    project's own lookback dbt keeps its parse; another one is a var, and costs a full parse."""
    lookback = max((last - since).days, 0)
    return None if lookback == lookback_days else lookback


def rebuild_since(paths: DataPaths, since: date) -> dg.ExecuteInProcessResult:
    """Rebuild the warehouse's days from `since` with the build `build` runs (the same dbt args,
    excludes, window, pool lock, checks and events), over the models alone."""
    from orchestration.settings import project_var

    last = date.fromisoformat(daily_partitions.get_last_partition_key())
    lookback = rebuild_lookback(since, last, project_var("lookback_days"))
    dbt_config = {} if lookback is None else {"lookback_days": lookback}
    return run_job(paths, "build_all", last, last, dbt_config, selection=WAREHOUSE_MODELS)


def run_job(
    paths: DataPaths,
    job_name: str,
    first: date,
    last: date,
    dbt_config: dict | None = None,
    on: dg.DagsterInstance | None = None,
    selection: dg.AssetSelection | None = None,
    verbose: bool = False,
) -> dg.ExecuteInProcessResult:
    """Run a partitioned job (or the `selection` of its assets) over [first, last] as one run,
    on the data under `paths` (the run's `settings` resource).

    `dbt_config` (`full_refresh`, `lookback_days`) configures the dbt build of jobs that have one.
    dbt's progress goes to `$DATA_DIR/logs/dbt.log` rather than the terminal. A failed run
    leaves an alert record, as the run-failure sensor does for daemon-launched runs; its errors
    and tracebacks go to the run log, and to the terminal only when `verbose`.
    """
    from orchestration.alerts import write_alert
    from orchestration.dbt_project import ensure_manifest
    from orchestration.defs.resources import Settings

    start, end = partition_range(first, last)
    on = on or instance()
    # The CLI prints its own summary and, on failure, where the details are.
    run_config = logger_config("ERROR" if verbose else "CRITICAL", paths)
    dbt_log = paths.root / "logs" / "dbt.log"
    dbt_log.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), _appending(dbt_log) as log, redirect_stdout(_Tap(log)) as tap:
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        ensure_manifest(paths)  # the definitions load the dbt assets from it: a fresh clone has none yet
        from orchestration.definitions import defs

        job = defs.resolve_job_def(job_name)
        if selection is not None:
            graph = defs.resolve_asset_graph()
            job = job.get_subset(
                asset_selection=selection.resolve(graph), asset_check_selection=selection.resolve_checks(graph)
            )
        if dbt_config is not None and job.graph.has_node_named(DBT_OP):
            run_config["ops"] = {DBT_OP: {"config": dbt_config}}
        progress = Progress(job_name, total=len(job.graph.nodes))
        tap.on_line = dbt_nodes_as_note(progress)
        job = job.with_logger_defs({**job.loggers, "progress": _step_counter(progress)})
        run_config["loggers"]["progress"] = {}
        result = job.execute_in_process(
            instance=on,
            run_config=run_config,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            raise_on_error=False,
            resources={"settings": Settings.of(paths)},
        )
        progress.close()
    if not result.success:
        try:
            write_alert(paths, on, result.run_id)
        except OSError as error:  # a full disk failed the run: it must not hide the run's result
            print(f"could not write the alert record of run {result.run_id}: {error}", file=sys.stderr)
    return result
