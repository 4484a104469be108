"""Asset checks beyond dbt's tests: sources are fresh.

Freshness warns (one late source must not hold back the marts of the others): a source fails it
when its newest landed extract is older than its interval. The marts' reconciliation with
`fct_orders` is a dbt test (tests/generic/reconciles_with_fct_orders.sql), blocking like every
error-severity dbt test.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.contracts import load_contracts
from orchestration.defs.landing import landing_asset_key
from orchestration.defs.resources import Settings
from orchestration.landing import manifest
from orchestration.settings import DataPaths

# Reference data is exported when it changes (the contract says so); every other source arrives
# daily (plus a grace).
DAILY = timedelta(hours=26)
ON_CHANGE = timedelta(days=31)


def expected_interval(source: str) -> timedelta:
    return ON_CHANGE if load_contracts()[source].exported_on_change else DAILY


def last_landed(paths: DataPaths, source: str) -> datetime | None:
    landed = [datetime.fromisoformat(r.landed_at) for r in manifest.records(paths, source) if r.status == "landed"]
    return max(landed, default=None)


def _freshness_check(source: str) -> dg.AssetChecksDefinition:
    interval = expected_interval(source)

    @dg.asset_check(
        asset=landing_asset_key(source),
        name="fresh_extract",
        description=f"An extract of {source} landed within the last {interval}.",
    )
    def check(settings: Settings) -> dg.AssetCheckResult:
        newest = last_landed(settings.paths, source)
        age = datetime.now(UTC) - newest if newest else None
        return dg.AssetCheckResult(
            passed=age is not None and age <= interval,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "last_landed_at": newest.isoformat() if newest else "never",
                "age_hours": round(age.total_seconds() / 3600, 1) if age else -1,
                "expected_hours": interval.total_seconds() / 3600,
            },
        )

    return check


freshness_checks = [_freshness_check(source) for source in load_contracts()]
