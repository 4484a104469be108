"""The replay job: `commerce-analytics replay` with the same options, as run config."""

from dataclasses import asdict

import dagster as dg

from orchestration.defs.resources import SETTINGS, Settings
from orchestration.replay import replay


class ReplayConfig(dg.Config):
    source: str
    reason: str | None = None  # a reason code (not_allowed) or reason:field
    extract: str | None = None  # an extract id prefix or file name
    dry_run: bool = False


@dg.op(description="Re-validate quarantined rows and land those that now pass, exactly once.")
def replay_quarantined(context: dg.OpExecutionContext, config: ReplayConfig, settings: Settings) -> dict:
    result = replay(settings.paths, config.source, config.reason, config.extract, config.dry_run)
    outcome = {k: v for k, v in asdict(result).items() if k != "record"}
    if result.record:
        outcome["replay_extract"] = result.record.extract_id
        outcome["landed"] = result.record.rows_landed
    context.log.info(f"replay of {config.source}: {outcome}")
    context.add_output_metadata({"outcome": dg.MetadataValue.json(outcome)})
    return outcome


@dg.job(
    resource_defs=SETTINGS,
    description="Replay quarantined rows of a source; run config {source, reason, extract, dry_run}.",
)
def replay_quarantine():
    replay_quarantined()
