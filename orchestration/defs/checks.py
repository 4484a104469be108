"""Asset checks beyond dbt's tests: marts reconcile with the order facts, sources are fresh.

Reconciliation is blocking: a mart whose orders or GMV per store and local day differ from
`fct_orders` stops publishing. Freshness warns (one late source must not hold back the marts of
the others): a source fails it when its newest landed extract is older than its interval.
"""

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from orchestration import warehouse
from orchestration.contracts import load_contracts
from orchestration.defs.dbt import WAREHOUSE_POOL, warehouse_models
from orchestration.defs.landing import landing_asset_key
from orchestration.defs.resources import Settings
from orchestration.landing import manifest
from orchestration.settings import DataPaths

FACTS = dg.AssetKey(["marts", "fct_orders"])
# Marts whose daily orders and GMV must equal those of the facts; checked when they exist.
RECONCILED_MARTS = ("revenue_daily", "kpis_daily")
RECONCILED_MEASURES = ("orders", "gmv", "gmv_usd")

# Reference data is exported when it changes (the contract says so); every other source arrives
# daily (plus a grace).
DAILY = timedelta(hours=26)
ON_CHANGE = timedelta(days=31)


def reconciliation_sql(mart: str) -> str:
    measures = ", ".join(f"sum({m}) as {m}" for m in RECONCILED_MEASURES if m != "orders")
    differs = " or ".join(f"facts.{m} is distinct from mart.{m}" for m in RECONCILED_MEASURES)
    return f"""
        with facts as (
            select store_id, order_date as date, count(*) as orders, {measures}
            from marts.fct_orders
            where not is_cancelled
            group by store_id, order_date
        ),
        mart as (
            select store_id, date, {", ".join(RECONCILED_MEASURES)} from marts.{mart} where orders > 0
        )
        select
            coalesce(facts.store_id, mart.store_id) as store_id,
            cast(coalesce(facts.date, mart.date) as varchar) as date,
            facts.orders as fact_orders, mart.orders as mart_orders,
            cast(facts.gmv as varchar) as fact_gmv, cast(mart.gmv as varchar) as mart_gmv
        from facts full outer join mart on facts.store_id = mart.store_id and facts.date = mart.date
        where {differs}
        order by store_id, date
    """


def reconcile(paths: DataPaths, mart: str, log: logging.Logger | None = None) -> list[dict]:
    """The store-days on which `mart` and the order facts disagree."""
    with warehouse.writer(paths, log), duckdb.connect(str(paths.warehouse), read_only=True) as con:
        cursor = con.execute(reconciliation_sql(mart))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _reconciliation_check(mart: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["marts", mart]),
        name="reconciles_with_fct_orders",
        additional_deps=[FACTS],
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"Orders and GMV of {mart} per store and local day equal those of fct_orders.",
    )
    def check(context: dg.AssetCheckExecutionContext, settings: Settings) -> dg.AssetCheckResult:
        mismatches = reconcile(settings.paths, mart, context.log)
        return dg.AssetCheckResult(
            passed=not mismatches,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"mismatched_days": len(mismatches), "first_mismatches": dg.MetadataValue.json(mismatches[:10])},
        )

    return check


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


reconciliation_checks = [
    _reconciliation_check(mart) for mart in RECONCILED_MARTS if dg.AssetKey(["marts", mart]) in warehouse_models.keys
]
freshness_checks = [_freshness_check(source) for source in load_contracts()]
