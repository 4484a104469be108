"""Publishing the marts is the last asset: it runs only when every mart built, every blocking
dbt test passed and the reconciliation checks passed, so analysts never see a failed build."""

import dagster as dg

from orchestration import warehouse
from orchestration.defs.dbt import WAREHOUSE_POOL, warehouse_models
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.resources import Settings
from orchestration.publish import NothingToPublish, publish_marts

MART_KEYS = [key for key in warehouse_models.keys if key.path[0] == "marts"]


@dg.asset(
    key=["published", "marts"],
    deps=MART_KEYS,
    group_name="published",
    description="The marts schema, copied atomically to $DATA_DIR/marts.duckdb (read-only) for analysts.",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"duckdb"},
    owners=["team:data-platform"],
    pool=WAREHOUSE_POOL,
)
def published_marts(context: dg.AssetExecutionContext, settings: Settings) -> None:
    paths = settings.paths
    try:
        published = publish_marts(paths, built_by_run=context.run_id, log=context.log)
    except NothingToPublish:
        # Another run rebuilt the warehouse after ours: it publishes that build after its checks.
        builder = warehouse.built_by(paths)
        context.log.warning(f"warehouse rebuilt by run {builder} since this run's build; not publishing")
        context.add_output_metadata({"published": False, "superseded_by": str(builder)})
        return
    context.add_output_metadata(
        {
            "published": True,
            "path": str(published.path),
            "marts": len(published.digests),
            "digests": dg.MetadataValue.json(published.digests),
        }
    )
