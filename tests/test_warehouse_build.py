"""Build the dbt project, with every dbt test, on generated data with dirt, and check the
headline figures against values computed here, independently, from the landed Parquet."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.contracts import load_contracts
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing.land import land_source
from orchestration.settings import DataPaths


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("warehouse"))
    truth = generate(paths, GeneratorConfig(days=3, stores=2, events_per_day=4000, seed=5))
    for source in load_contracts():
        land_source(paths, source)
    mp = pytest.MonkeyPatch()
    mp.setenv("DATA_DIR", str(paths.root))
    result = dbtRunner().invoke(
        ["build", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")]
    )
    mp.undo()
    return paths, truth, result


def query(paths, sql):
    # dbt-duckdb keeps its in-process connection open; a second one must use the same configuration.
    with duckdb.connect(str(paths.warehouse)) as con:
        return con.execute(sql).fetchall()


def test_dbt_build_passes_every_model_and_test(warehouse):
    _, _, result = warehouse
    failures = [(r.node.name, r.status, r.message) for r in result.result if r.status not in ("success", "pass")]
    assert result.success, failures
    tests = [r for r in result.result if r.node.resource_type == "test"]
    assert len(tests) > 150


def test_gmv_per_store_and_local_day_matches_the_landed_orders(warehouse):
    paths, _, _ = warehouse
    # Independently: latest row per order, items summed, local date by the store's zone.
    landed = duckdb.sql(
        f"""
        WITH orders AS (
            SELECT * FROM read_parquet('{paths.raw}/orders/*/*.parquet')
            QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC, _landed_at DESC) = 1
        ),
        items AS (
            SELECT order_id, sum(quantity * unit_price) AS gmv
            FROM (
                SELECT * FROM read_parquet('{paths.raw}/order_items/*/*.parquet')
                QUALIFY row_number() OVER (PARTITION BY order_item_id ORDER BY updated_at DESC) = 1
            )
            GROUP BY order_id
        )
        SELECT orders.store_id, orders.placed_at, coalesce(items.gmv, 0)
        FROM orders LEFT JOIN items USING (order_id)
        WHERE orders.status <> 'cancelled'
        """
    ).fetchall()
    zones = dict(query(paths, "SELECT store_id, time_zone FROM marts.dim_stores"))
    expected: dict[tuple[str, dt.date], list] = {}
    for store, placed_at, gmv in landed:
        day = placed_at.astimezone(ZoneInfo(zones[store])).date()
        totals = expected.setdefault((store, day), [0, Decimal(0)])
        totals[0] += 1
        totals[1] += gmv
    actual = {
        (s, d): [n, g] for s, d, n, g in query(paths, "SELECT store_id, date, orders, gmv FROM marts.revenue_daily")
    }
    actual = {k: v for k, v in actual.items() if v[0] > 0}
    assert actual == expected
    assert len(expected) >= 6  # two stores, three days, and the edges of their local days


def test_orders_in_the_facts_are_the_generated_orders_less_the_quarantined(warehouse):
    paths, truth, _ = warehouse
    quarantined = sum(truth["dirt"]["quarantine"].get("orders", {}).values())
    [(orders,)] = query(paths, "SELECT count(*) FROM marts.fct_orders")
    assert orders == truth["orders"] - quarantined
    # Raw personal data never reaches a mart: customer ids are 64-hex keyed hashes.
    [(clear_ids,)] = query(
        paths, "SELECT count(*) FROM marts.fct_orders WHERE NOT regexp_full_match(customer_id, '[0-9a-f]{64}')"
    )
    assert clear_ids == 0


def test_declared_bots_are_recognised_by_family_and_no_clear_ip_or_agent_leaves_staging(warehouse):
    paths, truth, _ = warehouse
    found = dict(
        query(
            paths,
            "SELECT bot_family, count(*) FROM main.stg_storefront__events WHERE bot_family IS NOT NULL GROUP BY 1",
        )
    )
    assert found == truth["bots"]["ua_pattern"]["by_agent"]
    columns = {name for (name,) in query(paths, "SELECT column_name FROM (DESCRIBE main.stg_storefront__events)")}
    assert not columns & {"ip", "user_agent", "user_id"}
