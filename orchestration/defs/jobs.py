"""The job that builds everything: landing, the dbt models and their tests, checks, publish."""

import dagster as dg

from orchestration.defs.partitions import daily_partitions

build_job = dg.define_asset_job(
    "build_all",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Land pending extracts, build and test the models, check, then publish the marts.",
)
