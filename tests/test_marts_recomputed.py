"""The marts that issue 12's defects touched, recomputed here from the landed Parquet, the seeds and
truth.json with code that shares nothing with the models, on ten days of five stores (`jp` in whole
yen) that cross both daylight-saving changes, Europe's (2026-10-25) and the US's (2026-11-01, also a
month change), with time for orders to be delivered and returned. The planted scrapers are checked
on a second generator seed too, built only as far as the classified events."""

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.generator import GeneratorConfig, generate
from orchestration.generator.fx import REFERENCE_RATES
from orchestration.landing import manifest
from orchestration.landing.land import land_all, land_source
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths

RECOMPUTED = GeneratorConfig(days=10, stores=5, events_per_day=2000, seed=22, start_date=dt.date(2026, 10, 24))
# The bot rule's second seed: the sources the classified events read, and the models up to them.
BOTS = GeneratorConfig(days=3, stores=5, events_per_day=3000, seed=21, start_date=dt.date(2026, 10, 24))
BOT_SOURCES = ("events", "consent_logs", "stores")
DST_DAYS = [("uk", dt.date(2026, 10, 25)), ("us", dt.date(2026, 11, 1))]
MARTS = ("kpis_daily", "dim_customers", "fct_orders", "fct_payments")
CENT = Decimal("0.01")


def _build(paths: DataPaths, *selection: str):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(paths.root))
        return dbtRunner().invoke(
            [
                *("build", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")),
                *("--select", *selection, "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"),
            ]
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("recomputed"))
    truth = generate(paths, RECOMPUTED)
    land_all(paths)
    return paths, truth, _build(paths, "dim_stores", *(f"+{mart}" for mart in MARTS))


@pytest.fixture(scope="module")
def second_seed(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("bots"))
    truth = generate(paths, BOTS)
    for source in BOT_SOURCES:
        land_source(paths, source)
    return paths, truth, _build(paths, "+int_events_classified")


def query(paths, sql):
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key(paths)])
        return con.execute(sql).fetchall()


def latest(paths, source: str, key: str) -> list[dict]:
    """The landed rows of a source, the copy landed last of each key, as dicts."""
    if not any(paths.raw_for(source).glob("*/*.parquet")):
        return []
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{paths.raw}/{source}/*/*.parquet')")
    columns = rows.columns
    kept: dict = {}
    for values in rows.fetchall():
        row = dict(zip(columns, values, strict=True))
        rank = (row.get("updated_at") or dt.datetime.min.replace(tzinfo=dt.UTC), row["_landing_order"])
        if row[key] not in kept or rank > kept[row[key]][0]:
            kept[row[key]] = (rank, row)
    return [row for _, row in kept.values()]


def fx_rates() -> dict[tuple[dt.date, str], Decimal]:
    """The rates the generator's back offices publish, every day landed."""
    with REFERENCE_RATES.open(newline="") as handle:
        return {
            (dt.date.fromisoformat(r["rate_date"]), r["currency"]): Decimal(r["usd_per_unit"])
            for r in csv.DictReader(handle)
        }


def test_the_build_passes_on_five_stores_across_both_dst_changes(built):
    paths, _, result = built
    failures = [(r.node.name, r.status, r.message) for r in result.result if r.status not in ("success", "pass")]
    assert result.success, failures
    stores = {s for (s,) in query(paths, "SELECT store_id FROM marts.dim_stores")}
    assert stores == {"us", "uk", "de", "jp", "au"}


@pytest.mark.parametrize("dataset", ["built", "second_seed"])
def test_every_planted_bot_event_is_excluded_and_no_other(dataset, request):
    paths, truth, result = request.getfixturevalue(dataset)
    assert result.success, [(r.node.name, r.message) for r in result.result if r.status not in ("success", "pass")]
    excluded = dict(
        query(
            paths,
            "SELECT exclusion_reason, count(*) FROM main.int_events_classified "
            "WHERE exclusion_reason LIKE 'bot%' GROUP BY 1",
        )
    )
    assert excluded == {
        "bot_user_agent": truth["bots"]["ua_pattern"]["events"],
        "bot_behaviour": truth["bots"]["behavioural"]["events"],
    }
    assert truth["bots"]["behavioural"]["events"] >= 300


def test_sales_per_store_and_local_day_match_a_recomputation_from_the_landed_rows(built):
    paths, _, _ = built
    zones = dict(query(paths, "SELECT store_id, time_zone FROM marts.dim_stores"))
    rates = fx_rates()
    items: dict[str, Decimal] = defaultdict(Decimal)
    for item in latest(paths, "order_items", "order_item_id"):
        items[item["order_id"]] += item["quantity"] * item["unit_price"]
    delivered = {s["order_id"] for s in latest(paths, "shipments", "shipment_id") if s["delivered_at"]}
    returned = {r["order_id"] for r in latest(paths, "returns", "return_id") if r["status"] != "rejected"}
    expected: dict[tuple[str, dt.date], list] = {}
    for order in latest(paths, "orders", "order_id"):
        if order["status"] == "cancelled":
            continue
        day = order["placed_at"].astimezone(ZoneInfo(zones[order["store_id"]])).date()
        gmv = items[order["order_id"]]
        # one rounding, half away from zero, of the exact product
        gmv_usd = (gmv * rates[(day, order["currency"])]).quantize(CENT, ROUND_HALF_UP)
        totals = expected.setdefault((order["store_id"], day), [0, Decimal(0), Decimal(0), 0])
        totals[0] += 1
        totals[1] += gmv
        totals[2] += gmv_usd
        totals[3] += order["order_id"] in delivered and order["order_id"] in returned
    actual = {
        (s, d): [n, g, u, r]
        for s, d, n, g, u, r in query(
            paths, "SELECT store_id, date, orders, gmv, gmv_usd, orders_returned FROM marts.kpis_daily WHERE orders > 0"
        )
    }
    assert actual == expected
    assert {store for store, _ in expected} == {"us", "uk", "de", "jp", "au"}
    assert all(day in expected for day in DST_DAYS)
    assert all(g == g.to_integral_value() for (s, _), (_, g, _, _) in expected.items() if s == "jp")


def test_every_usd_amount_of_orders_and_payments_is_rounded_once_from_the_exact_product(built):
    """Each amount converted at the rate of its order's local date, rounded once (a cent off on about
    0.5 % of amounts when rounded twice)."""
    paths, _, _ = built
    zones = dict(query(paths, "SELECT store_id, time_zone FROM marts.dim_stores"))
    rates = fx_rates()
    rate_of = {}
    for order in latest(paths, "orders", "order_id"):
        day = order["placed_at"].astimezone(ZoneInfo(zones[order["store_id"]])).date()
        rate_of[order["order_id"]] = rates[(day, order["currency"])]
    amounts = ("gmv", "discounts", "shipping_amount", "tax_amount", "total_amount", "refunded_amount")
    columns = ", ".join(f"{a}, {a}_usd" for a in amounts)
    converted = [
        (order_id, *values[i : i + 2])
        for order_id, *values in query(paths, f"SELECT order_id, {columns} FROM marts.fct_orders")
        for i in range(0, len(values), 2)
    ]
    converted += query(paths, "SELECT order_id, amount, amount_usd FROM marts.fct_payments")
    # a payment of an order that was quarantined has no rate to convert at
    assert all(usd is None for o, _, usd in converted if o not in rate_of)
    converted = [row for row in converted if row[0] in rate_of]
    wrong = [(o, a, usd) for o, a, usd in converted if (a * rate_of[o]).quantize(CENT, ROUND_HALF_UP) != usd]
    assert wrong == []
    assert len(converted) > 300


def test_every_landed_customer_is_in_dim_customers_and_no_phone_was_taken_for_a_card(built):
    paths, _, _ = built
    landed = defaultdict(int)
    for customer in latest(paths, "customers", "customer_id"):
        landed[customer["store_id"]] += 1
    in_mart = dict(query(paths, "SELECT store_id, count(*) FROM marts.dim_customers GROUP BY 1"))
    assert in_mart == landed
    reasons = {reason for r in manifest.records(paths, "customers") for reason in r.quarantined_by_reason}
    assert not any(reason.startswith("card_number") for reason in reasons)
