"""The Dagster code location: gathers what the modules under `defs/` define."""

import dagster as dg

from orchestration.defs.landing import landing_assets, landing_job

defs = dg.Definitions(assets=landing_assets, jobs=[landing_job])
