"""The marts that issue 12's defects touched, recomputed here from the landed Parquet, the seeds and
truth.json with code that shares nothing with the models, on two generator seeds of five stores
(`jp` in whole yen) whose windows cross a daylight-saving change: Europe's (2026-10-25) and the
US's (2026-11-01), the second also a month change."""

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.generator import GeneratorConfig, generate
from orchestration.landing import manifest
from orchestration.landing.land import land_all
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths

DATASETS = {
    "eu_dst": GeneratorConfig(days=3, stores=5, events_per_day=3000, seed=21, start_date=dt.date(2026, 10, 24)),
    # eight days: a month change too, and time for orders to be delivered and returned
    "us_dst": GeneratorConfig(days=8, stores=5, events_per_day=2000, seed=22, start_date=dt.date(2026, 10, 27)),
}
DST_DAYS = {"eu_dst": ("uk", dt.date(2026, 10, 25)), "us_dst": ("us", dt.date(2026, 11, 1))}
MARTS = ("kpis_daily", "dim_customers")
CENT = Decimal("0.01")


@pytest.fixture(scope="module", params=list(DATASETS))
def built(request, tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp(request.param))
    truth = generate(paths, DATASETS[request.param])
    land_all(paths)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(paths.root))
        result = dbtRunner().invoke(
            [
                *("build", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")),
                *("--select", "dim_stores", *(f"+{mart}" for mart in MARTS), "--indirect-selection", "cautious"),
                *("--exclude-resource-type", "unit_test"),
            ]
        )
    return request.param, paths, truth, result


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
    with Path("seeds/fx_rates_daily.csv").open(newline="") as handle:
        return {
            (dt.date.fromisoformat(r["rate_date"]), r["currency"]): Decimal(r["usd_per_unit"])
            for r in csv.DictReader(handle)
        }


def test_the_build_passes_on_five_stores_across_a_dst_change(built):
    _, paths, _, result = built
    failures = [(r.node.name, r.status, r.message) for r in result.result if r.status not in ("success", "pass")]
    assert result.success, failures
    stores = {s for (s,) in query(paths, "SELECT store_id FROM marts.dim_stores")}
    assert stores == {"us", "uk", "de", "jp", "au"}


def test_every_planted_bot_event_is_excluded_and_no_other(built):
    _, paths, truth, _ = built
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
    name, paths, _, _ = built
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
    assert DST_DAYS[name] in expected
    assert all(g == g.to_integral_value() for (s, _), (_, g, _, _) in expected.items() if s == "jp")


def test_every_landed_customer_is_in_dim_customers_and_no_phone_was_taken_for_a_card(built):
    _, paths, _, _ = built
    landed = defaultdict(int)
    for customer in latest(paths, "customers", "customer_id"):
        landed[customer["store_id"]] += 1
    in_mart = dict(query(paths, "SELECT store_id, count(*) FROM marts.dim_customers GROUP BY 1"))
    assert in_mart == landed
    reasons = {reason for r in manifest.records(paths, "customers") for reason in r.quarantined_by_reason}
    assert not any(reason.startswith("card_number") for reason in reasons)
