"""The dbt models as Dagster assets, partitioned like the landing assets they read.

A partition run builds with its window's first UTC date in DBT_WINDOW_START, set in the dbt
process's own environment (so dbt reuses its parse, and nothing else sees it); a backfill of a
range is one run (one dbt build over the whole window).
Every error-severity dbt test is a blocking asset check: dbt skips the models below a failing
test, and the step fails, so every Dagster asset downstream (publish) is skipped too.
"""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration import warehouse
from orchestration.dbt_project import (
    PRODUCTION_EXCLUDES,
    WINDOW_START_ENV,
    DbtCli,
    dbt_environment,
    dbt_project,
    prepare_manifest,
    seed_partial_parse,
)
from orchestration.defs.landing import landing_asset_key
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.resources import Settings
from orchestration.governance.purge import finish_pending_purge
from orchestration.governance.retention_state import share_with_spark
from orchestration.settings import SPARK_TARGET, TARGET_ENV

WAREHOUSE_POOL = "warehouse"

# Owners by layer unless a model's meta names one: the platform team owns what mirrors the
# sources, analytics engineering owns business logic and the marts.
LAYER_OWNERS = {"staging": "team:data-platform"}
DEFAULT_OWNER = "team:analytics-engineering"

# dbt exits 1 when a model or test fails (the data's fault: retrying cannot help) and 2 when dbt
# itself could not run (a lock held elsewhere, a full disk): only the latter is retried.
DBT_RUNTIME_ERROR = 2
MAX_RETRIES = 2

# Under `dagster dev` the manifest is re-parsed on every load (what `prepare_if_dev()` does, but
# with the dbt beside this Python: `make dev` does not put .venv/bin on PATH); elsewhere the CLI
# and the tests prepare it before loading the definitions.
if dbt_project.preparer.using_dagster_dev():
    prepare_manifest()


class DomainTranslator(DagsterDbtTranslator):
    """Groups models by layer and domain folder; owners and PII classes from the dbt YAML."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # A landed table's source (`oms.orders`: one dbt source per system) is its landing asset
        # (`raw/orders`), so the graph runs from each extract to each mart.
        if dbt_resource_props["resource_type"] == "source" and dbt_resource_props["config"]["meta"].get("raw_root"):
            return landing_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # fqn: [project, layer, domain, ..., name]; seeds sit at [project, name].
        folders = dbt_resource_props["fqn"][1:-1]
        return "_".join(folders[:2]) if folders else "reference_data"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        meta = dbt_resource_props.get("meta", {})
        if meta.get("owner"):
            return [meta["owner"]]
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None
        return [LAYER_OWNERS.get(layer, DEFAULT_OWNER)]

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        columns = dbt_resource_props.get("columns", {})
        pii = {name: column.get("meta", {}).get("pii", "unclassified") for name, column in columns.items()}
        return {**super().get_metadata(dbt_resource_props), **({"pii_classes": pii} if pii else {})}


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    lookback_days: int | None = None


def build_args(config: DbtBuildConfig) -> list[str]:
    # A lookback other than the project's is a var, and costs a full parse: it is a rare override.
    lookback = config.lookback_days
    dbt_vars = ["--vars", json.dumps({"lookback_days": lookback})] if lookback is not None else []
    # A subset run (one model from the UI) must not drag in the relationship tests of marts it
    # does not build: a test runs when all the models it reads are selected.
    args = ["build", *dbt_vars, "--indirect-selection", "cautious", *PRODUCTION_EXCLUDES]
    return [*args, *(["--full-refresh"] if config.full_refresh else [])]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=DomainTranslator(),
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCli, config: DbtBuildConfig, settings: Settings):
    paths = settings.paths
    # A purge killed halfway would leave expired values in the incremental tables to publish.
    if finished := finish_pending_purge(paths):
        context.log.info(f"finished a purge that had stopped: {sum(i.rows for i in finished)} values")
    args = build_args(config)
    window_start = context.partition_time_window.start.date()
    env = dbt_environment(paths, window_start)
    target = env[TARGET_ENV]
    with warehouse.writer(paths, log=context.log):
        if target == SPARK_TARGET:
            share_with_spark(paths)  # Spark's SQL reads the pseudonymisation key and the purge's state from files
        context.log.info(" ".join([f"{TARGET_ENV}={target}", f"{WINDOW_START_ENV}={window_start}", "dbt", *args]))
        warehouse.forget_build(paths)
        run_target = paths.root / "dbt" / context.run_id[:8]
        seed_partial_parse(run_target)
        invocation = dbt.cli(args, env=env, context=context, target_path=run_target, raise_on_error=False)
        try:
            yield from invocation.stream()
        finally:
            # Whatever broke the stream, dbt must not go on writing once the lock is released.
            if invocation.process.poll() is None:
                invocation.process.terminate()
                invocation.process.wait()
        if invocation.process.returncode == DBT_RUNTIME_ERROR:
            raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=5 * 2**context.retry_number)
        if not invocation.is_successful():
            raise invocation.get_error() or DagsterDbtCliRuntimeError("dbt build failed")
        warehouse.record_build(paths, context.run_id, target, manifest=run_target / "manifest.json")
