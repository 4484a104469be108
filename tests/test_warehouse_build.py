"""Build the dbt project, with every dbt test, on generated data with dirt, and check the
headline figures against values computed here, independently, from the landed Parquet."""

import datetime as dt
import io
import json
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration import analyst
from orchestration.contracts import load_contracts
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing.land import land_all
from orchestration.privacy import hmac_key
from orchestration.publish import published_path
from orchestration.settings import DataPaths
from tests.conftest import run_dbt


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("warehouse"))
    truth = generate(paths, GeneratorConfig(days=3, stores=2, events_per_day=4000, seed=5))
    land_all(paths)
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


def failing_rows(built: DataPaths, tmp_path: Path, test: str, plants: list[str]) -> tuple[str, int, list]:
    """Run the data test `test` on a copy of the built warehouse after the `plants` statements: its
    status, its failures count and the failing rows dbt stored."""
    paths = DataPaths(tmp_path / "data")
    shutil.copytree(built.root, paths.root)
    with duckdb.connect(str(paths.warehouse)) as con:
        for statement in plants:
            con.execute(statement)
    run_dbt(paths, "test", "--select", test, "--store-failures", key=hmac_key(paths))
    results = json.loads((paths.root / "target" / "run_results.json").read_text())["results"]
    [result] = [r for r in results if r["unique_id"].startswith("test.")]  # the others: on-run-start hooks
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT * FROM dbt_test__audit.{test} ORDER BY ALL").fetchall()
    return result["status"], result["failures"], rows


def test_the_rates_test_names_each_rate_outside_zero_to_one_with_its_count(warehouse, tmp_path):
    """`fractions_kpis_daily`, one test over the mart's rates: on a copy of the built warehouse with
    two conversion rates above 1 and a bounce rate below 0 planted (and a refund rate set NULL: a
    rate without a denominator), it fails with a row per column out of range and its count."""
    planted = [("conversion_rate", "1.5", 2, 0), ("bounce_rate", "-0.25", 1, 2), ("refund_rate", "NULL", 1, 3)]
    plants = [
        f"UPDATE marts.kpis_daily SET {rate} = {value} WHERE (store_id, date) IN "
        f"(SELECT store_id, date FROM marts.kpis_daily ORDER BY ALL LIMIT {rows} OFFSET {offset})"
        for rate, value, rows, offset in planted
    ]
    assert failing_rows(warehouse[0], tmp_path, "fractions_kpis_daily", plants) == (
        "fail",
        2,
        [("bounce_rate", 1), ("conversion_rate", 2)],
    )


def test_the_contract_values_test_names_each_column_outside_its_contract_with_its_count(warehouse, tmp_path):
    """`contract_values_int_events_classified` checks the four columns the events contract gives
    allowed values: with three event types and one platform planted outside the contract's lists
    (and a device type set NULL, which passes, as in accepted_values), it fails with a row per
    column and its count."""
    events = "SELECT event_id FROM main.int_events_classified ORDER BY event_id LIMIT {} OFFSET {}"
    plants = [
        f"UPDATE main.int_events_classified SET event_type = 'teleport' WHERE event_id IN ({events.format(3, 0)})",
        f"UPDATE main.int_events_classified SET platform = 'fax' WHERE event_id IN ({events.format(1, 3)})",
        f"UPDATE main.int_events_classified SET device_type = NULL WHERE event_id IN ({events.format(1, 4)})",
    ]
    assert failing_rows(warehouse[0], tmp_path, "contract_values_int_events_classified", plants) == (
        "fail",
        2,
        [("event_type", 3), ("platform", 1)],
    )


def test_every_allowed_value_list_of_a_contract_is_tested_once_in_dbt(warehouse):
    """Each contract with allowed values has one contract_values test over all of them, on the model
    that first carries its rows (staging, or int_events_classified for the clickstream); no
    accepted_values test repeats a contract's list."""
    _, _, result = warehouse
    tests = [r.node for r in result.result if getattr(r.node, "test_metadata", None)]
    whole = sorted(
        t.test_metadata.kwargs["extract"]
        for t in tests
        if t.test_metadata.name == "contract_values" and "columns" not in t.test_metadata.kwargs
    )
    assert whole == sorted(c.name for c in load_contracts().values() if any(f.allowed for f in c.fields))
    contract_lists = {tuple(sorted(f.allowed)) for c in load_contracts().values() for f in c.fields if f.allowed}
    repeated = [
        t.name
        for t in tests
        if t.test_metadata.name == "accepted_values"
        and tuple(sorted(t.test_metadata.kwargs["values"])) in contract_lists
    ]
    assert repeated == []


def test_gmv_per_store_and_local_day_matches_the_landed_orders(warehouse):
    paths, _, _ = warehouse
    # Independently: latest row per order, items summed, local date by the store's zone.
    landed = duckdb.sql(
        f"""
        WITH orders AS (
            SELECT * FROM read_parquet('{paths.raw}/orders/*/*.parquet')
            QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC, _landing_order DESC) = 1
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


def test_device_marts_count_what_the_generator_planted(warehouse):
    """The generator repeats the device rules on the rows that land (orchestration/generator/telemetry.py)."""
    paths, truth, _ = warehouse
    devices = truth["devices"]
    [daily] = query(
        paths,
        "SELECT sum(active_devices), sum(prescribed_days), sum(valid_patch_days), sum(scheduled_deliveries),"
        " sum(successful_deliveries), sum(readings), sum(readings_within_bounds), sum(anomalies)"
        " FROM marts.device_daily",
    )
    assert daily == tuple(
        devices[k]
        for k in (
            "active_device_days",
            "prescribed_days",
            "valid_patch_days",
            "scheduled_deliveries",
            "successful_deliveries",
            "readings",
            "readings_within_bounds",
            "anomalies",
        )
    )
    assert devices["anomalies"] == devices["planted_spikes"] > 0 and devices["valid_patch_days"] > 0
    by_severity = dict(query(paths, "SELECT severity, sum(adverse_events) FROM marts.adverse_events_daily GROUP BY 1"))
    assert by_severity == {s: n for s, n in devices["adverse_events"].items() if n}
    [(units, events)] = query(paths, "SELECT sum(units_sold), sum(adverse_events) FROM marts.batch_performance")
    assert (units, events) == (devices["units"], sum(devices["adverse_events"].values()))


def test_subscriptions_monthly_counts_what_the_generator_planted(warehouse):
    """The generator repeats the monthly MRR rules on the log rows that land, per store and local month
    (orchestration/generator/subscriptions.py), to the cent."""
    paths, truth, _ = warehouse
    figures = next(iter(next(iter(truth["stores"].values()))["subscriptions"]["months"].values()))
    rows = query(
        paths,
        f"SELECT store_id, strftime(month_start_date, '%Y-%m'), {', '.join(figures)} FROM marts.subscriptions_monthly",
    )
    found = {(store, month): dict(zip(figures, values, strict=True)) for store, month, *values in rows}
    expected = {
        (store, month): {k: Decimal(v) if isinstance(v, str) else v for k, v in f.items()}
        for store, facts in truth["stores"].items()
        for month, f in facts["subscriptions"]["months"].items()
    }
    assert found == expected
    assert sum(f["new_mrr"] > 0 and f["churned_mrr"] + f["paused_mrr"] > 0 for f in found.values()) > 0


def test_loyalty_daily_counts_what_the_generator_planted(warehouse):
    """Points, redemptions and member-days of the ledger rows that land, per store
    (orchestration/generator/loyalty.py); the orders' GMV is held by the reconciliation test."""
    paths, truth, _ = warehouse
    found = {
        store: values
        for store, *values in query(
            paths,
            "SELECT store_id, sum(points_earned), sum(points_redeemed), sum(redemptions), sum(members_active)"
            " FROM marts.loyalty_daily GROUP BY 1",
        )
    }
    keys = ("points_earned", "points_redeemed", "redemptions", "member_days")
    assert found == {store: [facts["loyalty"][k] for k in keys] for store, facts in truth["stores"].items()}
    [(orders, gmv)] = query(
        paths, "SELECT sum(orders_with_redemption), sum(redemption_orders_gmv) FROM marts.loyalty_daily"
    )
    assert 0 < orders <= sum(facts["loyalty"]["redemptions"] for facts in truth["stores"].values()) and gmv > 0


def test_affiliate_performance_daily_pays_the_planted_partners_at_their_planted_rates(warehouse):
    """Partners, rates and the quarantined partner come from the generator's truth
    (orchestration/generator/affiliates.py): each row's rate is the one planted for its date (8 % then
    10 % for the deal site), its commission is its revenue at that rate to the cent, and the traffic of
    the partner whose row was quarantined is in fct_sessions but in no mart row. Sessions and orders are
    held to fct_sessions and fct_orders by the reconciliation test."""
    paths, truth, _ = warehouse
    rows = query(
        paths,
        "SELECT store_id, cast(date AS varchar), utm_source, revenue, commission_rate, commission, orders"
        " FROM marts.affiliate_performance_daily",
    )
    rates_seen = set()
    for store, date, source, revenue, rate, commission, _ in rows:
        periods = truth["stores"][store]["affiliates"]["partners"][source]
        [planted] = [p for p in periods if p["valid_from"] <= date and (p["valid_to"] is None or date < p["valid_to"])]
        assert rate == Decimal(planted["commission_rate"])
        assert commission == (revenue * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        rates_seen.add((source, str(rate)))
    assert {("dealsite", "0.0800"), ("dealsite", "0.1000"), ("dealnetwork", "0.0500")} <= rates_seen
    assert sum(r[6] for r in rows) > 0 and sum(r[5] for r in rows) > 0
    unknown = {(store, s) for store, facts in truth["stores"].items() for s in facts["affiliates"]["unknown_sources"]}
    assert unknown and not unknown & {(r[0], r[2]) for r in rows}
    [(unknown_sessions,)] = query(
        paths,
        "SELECT count(*) FROM marts.fct_sessions WHERE channel_group = 'Affiliates' AND (store_id, source) IN ("
        + ", ".join(f"('{store}', '{source}')" for store, source in sorted(unknown))
        + ")",
    )
    assert unknown_sessions > 0


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


def clickstream(paths, sql):
    """Query the clickstream views, which pseudonymise on the fly and so need the key."""
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key(paths)])
        return con.execute(sql).fetchall()


def test_every_planted_bot_event_is_excluded_under_its_rule(warehouse):
    paths, truth, _ = warehouse
    excluded = dict(clickstream(paths, "SELECT exclusion_reason, count(*) FROM main.int_events_classified GROUP BY 1"))
    assert excluded["bot_user_agent"] == truth["bots"]["ua_pattern"]["events"]
    assert excluded["bot_behaviour"] == truth["bots"]["behavioural"]["events"]
    # Every counted event had analytics consent in force and no GPC or DNT signal.
    [(violations,)] = clickstream(
        paths,
        "SELECT count(*) FROM main.int_events_classified WHERE exclusion_reason IS NULL "
        "AND (NOT has_analytics_consent OR has_analytics_consent IS NULL OR has_gpc_signal OR has_dnt_signal)",
    )
    assert violations == 0


def test_sessions_recut_here_from_the_counted_events_match_the_marts(warehouse):
    paths, _, _ = warehouse
    events = clickstream(
        paths,
        "SELECT store_id, event_date, visitor_id, event_at, utm_source, utm_medium, utm_campaign "
        "FROM main.int_events_sessionized ORDER BY store_id, event_date, visitor_id, event_at, event_id",
    )
    expected: dict[tuple[str, dt.date], int] = {}
    previous = None
    for store, day, visitor, at, *campaign in events:
        same_visit = (
            previous is not None
            and previous[0] == (store, day, visitor)
            and at - previous[1] <= dt.timedelta(minutes=30)
            and previous[2] == campaign
        )
        if not same_visit:
            expected[(store, day)] = expected.get((store, day), 0) + 1
        previous = ((store, day, visitor), at, campaign)
    actual = {
        (s, d): n
        for s, d, n in query(paths, "SELECT store_id, date, sessions FROM marts.kpis_daily WHERE sessions > 0")
    }
    assert actual == expected
    assert sum(expected.values()) > 100


def test_converted_sessions_name_captured_orders_and_purchases_reconcile_with_the_generator(warehouse):
    paths, truth, _ = warehouse
    [(converted, captured)] = query(
        paths,
        """
        SELECT count(DISTINCT s.session_id), count(DISTINCT s.session_id) FILTER (WHERE o.has_captured_payment)
        FROM marts.fct_sessions AS s
        JOIN main.int_session_conversions AS c USING (session_id)
        JOIN marts.fct_orders AS o USING (order_id)
        WHERE s.is_converted AND c.is_captured
        """,
    )
    assert converted == captured > 0
    findings = dict(clickstream(paths, "SELECT finding, count(*) FROM main.int_purchases_reconciled GROUP BY 1"))
    quarantined_orders = sum(truth["dirt"]["quarantine"].get("orders", {}).values())
    planted = truth["reconciliation"]
    assert findings["order_without_purchase_event"] == planted["orders_without_purchase_event"]
    # a quarantined order turns its purchase event into one without an order
    assert (
        planted["purchase_events_without_order"]
        <= findings["purchase_event_without_order"]
        <= planted["purchase_events_without_order"] + quarantined_orders
    )


def test_docs_generate_documents_every_mart_column_with_its_pii_class(warehouse):
    paths, _, _ = warehouse
    target = paths.root / "target"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(paths.root))
        result = dbtRunner().invoke(
            ["docs", "generate", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(target)]
        )
    assert result.success
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    # The project's flags: no dbt command posts usage events, and the docs page loads no tracker.
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    kpis = catalog["nodes"]["model.commerce_analytics.kpis_daily"]["columns"]
    assert {"gmv_usd", "sessions", "conversion_rate"} <= {name.lower() for name in kpis}
    undocumented = [
        f"{node['name']}.{column}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["path"].startswith("marts/")
        for column, spec in node["columns"].items()
        if not spec["description"] or "pii" not in spec["meta"]
    ]
    assert undocumented == []


def readme_queries() -> list[str]:
    """Every query the docs show: the statements of their ```sql blocks and their `sql "..."` commands,
    the worked examples of docs/querying.md first, then the README's, then the other pages'."""
    pages = [Path("docs/querying.md"), Path("README.md")]
    pages += sorted(set(Path("docs").glob("*.md")) - set(pages))
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    blocks = re.findall(r"```sql\n(.*?)```", text, re.DOTALL)
    commands = re.findall(r'commerce-analytics sql "([^"]+)"', text)
    return [s.query.strip() for block in blocks for s in duckdb.extract_statements(block)] + commands


def publish_here(paths):
    """The marts copied to the published file as `publish_marts` does, through this process's
    connection to the warehouse (dbt-duckdb holds it open: another instance cannot attach it)."""
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(f"attach '{published_path(paths)}' as published")
        marts = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'warehouse'"
            " and table_schema = 'marts'"
        ).fetchall()
        for (mart,) in marts:
            con.execute(f'create table published.main."{mart}" as select * from marts."{mart}"')
        con.execute("detach published")


def test_every_documented_query_returns_rows_with_values_from_the_published_marts(warehouse):
    paths, _, _ = warehouse
    publish_here(paths)
    queries = readme_queries()
    assert len(queries) == 8, queries  # 3 in the ```sql block first, then the `sql "..."` commands
    for example in queries:
        out = io.StringIO()
        analyst.run_sql(paths, example, "json", out)  # what `commerce-analytics sql --json` runs
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert rows, f"no rows: {example}"
        if example in queries[:3]:  # the worked examples: every figure they compute has a value
            empty = [column for column in rows[0] if all(row[column] is None for row in rows)]
            assert empty == [], f"columns without a value in {example}"
    # The first one, last week per store: one row per store of the data, with its revenue.
    with duckdb.connect(str(published_path(paths)), read_only=True) as con:
        first = con.execute(queries[0]).fetchall()
    stores = query(paths, "select store_id, sum(net_revenue_usd) from marts.kpis_daily group by 1 order by 2 desc")
    assert [(store, revenue) for store, revenue, *_ in first] == stores


def test_regions_of_shipments_and_orders_are_the_generated_ones(warehouse):
    paths, truth, _ = warehouse

    def by_store_and_region(sql):
        found = {}
        for store, region, n in query(paths, sql):
            found.setdefault(store, {})[region] = n
        return found

    def planted(key):
        return {s: {r: n for r, n in f["geography"][key].items() if n} for s, f in truth["stores"].items()}

    # Shipments carry their own postal code and no planted dirt: exact, `unknown` included.
    shipments = by_store_and_region("SELECT store_id, region, count(*) FROM marts.fct_shipments GROUP BY ALL")
    assert shipments == planted("shipments_by_region")
    assert all(truth["stores"][s]["geography"]["shipments_by_region"]["unknown"] > 0 for s in shipments)
    # Orders: exact but for the quarantined orders and customer rows, each of which moves one order at most.
    slack = sum(truth["dirt"]["quarantine"].get("orders", {}).values()) + sum(
        truth["dirt"]["quarantine"].get("customers", {}).values()
    )
    orders = by_store_and_region("SELECT store_id, region, count(*) FROM marts.fct_orders GROUP BY ALL")
    expected = planted("orders_by_region")
    assert set(orders) == set(expected)
    off = sum(abs(orders[s].get(r, 0) - expected[s].get(r, 0)) for s in expected for r in expected[s] | orders[s])
    assert off <= 2 * slack
    # Gifts: shipments whose delivery address lies in another region than the order's billing address.
    outside = dict(
        query(
            paths,
            """SELECT s.store_id, count(*) FROM marts.fct_shipments s JOIN marts.fct_orders o USING (order_id)
               WHERE s.region <> o.region GROUP BY ALL""",
        )
    )
    for store, facts in truth["stores"].items():
        assert abs(outside.get(store, 0) - facts["geography"]["shipments_outside_billing_region"]) <= slack
    # Only the low-class region and city reach the marts, never a postal code or address.
    marts = "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
    columns = {c for (c,) in query(paths, marts)}
    assert {"region", "city"} <= columns
    assert not {"postal_code", "postal_prefix", "destination_postal_code", "address_line"} & columns
