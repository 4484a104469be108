"""The read API on the hand-checkable fixture (tests/dashboard_fixture.py): figures, periods, filters, CSV, publish."""

import csv
import io
import threading
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from starlette.testclient import TestClient

from orchestration.serve import access, openapi
from orchestration.serve.app import create_app
from orchestration.serve.panels import PANELS
from orchestration.settings import DataPaths
from tests.dashboard_fixture import build_marts

WEEK_2 = {"from": "2026-11-08", "to": "2026-11-14"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("serve") / "data")
    build_marts(paths)
    _, admin = access.add(paths, "admin", "admin", ["*"])
    with TestClient(create_app(paths)) as client:
        client.headers["authorization"] = f"Bearer {admin}"
        yield paths, client


def get(client, path, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def sql(paths, query, params=()):
    with duckdb.connect(str(paths.root / "marts.duckdb"), read_only=True) as con:
        cursor = con.execute(query, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def kpi(body, name):
    [entry] = [k for k in body["kpis"] if k["name"] == name]
    return entry


def test_kpis_hand_computed_with_previous_period(served):
    _, client = served
    body = get(client, "/api/v1/kpis", store="us", **WEEK_2)
    assert body["previous_period"] == {"from": "2026-11-01", "to": "2026-11-07"}
    # us has k=2: orders = 2 * (8+...+14) = 154, previous week 2 * 28 = 56.
    assert kpi(body, "orders") == {"name": "orders", "value": 154, "previous": 56, "change": pytest.approx(1.75)}
    # gmv_usd = sum(200 i + 0.01): exact to the cent.
    assert Decimal(str(kpi(body, "gmv_usd")["value"])) == Decimal("15400.07")
    assert Decimal(str(kpi(body, "gmv_usd")["previous"])) == Decimal("5600.07")
    # conversion = sum(2 i^2) / sum(200 i) = 1750 / 15400, not the mean of the daily rates (0.11).
    conversion = kpi(body, "conversion_rate")
    assert conversion["value"] == pytest.approx(1750 / 15400)
    assert conversion["previous"] == pytest.approx(280 / 5600)
    assert conversion["change"] == pytest.approx((1750 / 15400) / (280 / 5600) - 1)
    assert kpi(body, "aov_usd")["value"] == pytest.approx(15400.07 / 154)


def test_kpis_of_all_stores_add_up_and_empty_previous_is_null(served):
    _, client = served
    both = get(client, "/api/v1/kpis", **WEEK_2)
    assert both["filters"]["stores"] == ["*"]
    assert kpi(both, "orders")["value"] == 77 * 3
    first_week = get(client, "/api/v1/kpis", **{"from": "2026-11-01", "to": "2026-11-07"})
    # Nothing is published before November: no previous figure, no change (never 0, never an error).
    assert kpi(first_week, "orders") == {"name": "orders", "value": 84, "previous": None, "change": None}


def _rows_in_range(paths, mart, query, stores, first, last, dimensions):
    where, params = [], []
    if stores:
        where.append("store_id in (select unnest(?::varchar[]))")
        params.append(stores)
    if query.date_column and query.last_day_only:
        where.append(f"{query.date_column} = ?")
        params.append(last)
    elif query.date_column:
        start = "date_trunc('month', ?::date)" if query.is_monthly else "?::date"
        where.append(f"{query.date_column} >= {start} and {query.date_column} <= ?")
        params.extend([first, last])
    for column, values in dimensions.items():
        where.append(f"{column} in (select unnest(?::varchar[]))")
        params.append(values)
    return sql(paths, f"select * from {mart}" + (f" where {' and '.join(where)}" if where else ""), params)


def _expected(rows, query):
    """The dataset recomputed in Python from the mart's rows: group, sum, then divide the sums."""
    plain_keys = [k for k in query.keys if " " not in k]
    groups = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        key = tuple(row[k] for k in plain_keys)
        group = groups[key]
        for column in {*query.sums, *(w for r in query.rates for w in _terms(r))}:
            group[column] += Decimal(str(row[column]))
    expected = {}
    for key, sums in groups.items():
        entry = {c: sums[c] for c in query.sums}
        for rate in query.rates:
            denominator = _evaluate(rate.denominator, sums)
            entry[rate.name] = None if denominator == 0 else float(_evaluate(rate.numerator, sums) / denominator)
        expected[key] = entry
    return expected


def _terms(rate):
    return [t.strip() for side in (rate.numerator, rate.denominator) for t in side.replace("-", "+").split("+")]


def _evaluate(expression, sums):
    total, sign = Decimal(0), 1
    for token in expression.split():
        if token in "+-":
            sign = 1 if token == "+" else -1
        else:
            total += sign * sums[token]
    return total


@pytest.mark.parametrize(
    ("store", "dimensions"),
    [("us", {}), (None, {}), ("uk", {"platform": ["web"], "category": ["hats"], "gateway": ["adyen"]})],
)
def test_every_dataset_equals_the_marts_reaggregated(served, store, dimensions):
    """Each panel's plain-keyed dataset equals the mart's rows summed and divided independently here."""
    paths, client = served
    checked = 0
    for panel in PANELS.values():
        params = {**WEEK_2, **({"store": store} if store else {})}
        params |= {d: v for d, v in dimensions.items() if d in panel.dimensions}
        body = get(client, f"/api/v1/{panel.name}", **params)
        if panel.name == "kpis":
            continue
        for name, query in body_datasets(panel):
            if any(" " in k for k in query.keys):
                continue  # computed bands are checked by hand below
            filters = {d: v for d, v in dimensions.items() if d in query.dimensions}
            rows = _rows_in_range(
                paths, query.mart, query, [store] if store else None, "2026-11-08", "2026-11-14", filters
            )
            expected = _expected(rows, query)
            got = {tuple(r[k] for k in query.keys): r for r in body["datasets"][name]}
            expected = {tuple(_json(v) for v in key): entry for key, entry in expected.items()}
            assert set(got) == set(expected), (panel.name, name)
            for key, entry in expected.items():
                for column, value in entry.items():
                    actual = got[key][column]
                    if value is None:
                        assert actual is None
                    elif isinstance(value, float):
                        assert actual == pytest.approx(value), (panel.name, name, key, column)
                    else:
                        assert Decimal(str(actual)) == value.normalize(), (panel.name, name, key, column)
            checked += 1
    assert checked >= 10


def _json(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def body_datasets(panel):
    return panel.datasets.items()


def test_dimension_filters_and_ranks(served):
    _, client = served
    platforms = get(client, "/api/v1/platforms", store="us", platform="web", **WEEK_2)["datasets"]["by_platform"]
    # web has m=1: sessions = 100 * 77 * 2.
    assert [(p["platform"], p["sessions"]) for p in platforms] == [("web", 15400)]
    categories = get(client, "/api/v1/categories", **WEEK_2)["datasets"]["by_category"]
    assert [(c["category"], c["gmv_rank"]) for c in categories] == [("hats", 1), ("shoes", 2)]
    delivery = get(client, "/api/v1/delivery", carrier="ups", region="north,south", **WEEK_2)["datasets"]
    assert {(r["carrier"], r["region"]) for r in delivery["by_carrier"]} == {("ups", "north"), ("ups", "south")}


def test_level_marts_read_the_last_day_and_top_lists_are_ordered(served):
    _, client = served
    inventory = get(client, "/api/v1/inventory", store="uk", **WEEK_2)["datasets"]
    # On the 14th (even) p1 holds 10 units, cover 5; p2 40 units, cover 20; p3 has no sales (cover NULL).
    assert {b["cover_band"]: b["product_warehouses"] for b in inventory["days_of_cover"]} == {
        "0-7 days": 1,
        "7-28 days": 1,
        "no sales": 1,
    }
    # p1 is out of stock on odd days: 9, 11, 13.
    assert [s["stockouts"] for s in inventory["stockouts"]] == [0, 1, 0, 1, 0, 1, 0]
    assert [(a["store_id"], a["suggested_quantity"]) for a in inventory["reorder_alerts"]] == [("uk", 20)]
    pages = get(client, "/api/v1/traffic", **WEEK_2)["datasets"]["pages"]
    assert [p["page_path"] for p in pages] == ["/p/1", "/"]
    ltv = get(client, "/api/v1/customers", store="us", **{"from": "2026-11-01", "to": "2026-11-14"})["datasets"]
    # us customers' LTV: 80, 160, 240, 320, 400 USD -> bands of 50 from 50, 150, 200, 300, 400.
    assert [(b["ltv_usd_from"], b["customers"]) for b in ltv["ltv"]] == [
        (50, 1),
        (150, 1),
        (200, 1),
        (300, 1),
        (400, 1),
    ]
    retention = {(r["cohort_month"], r["months_since_first_order"]): r["retention_rate"] for r in ltv["retention"]}
    # Only cohorts of months the range touches: November's, whose month-1 retention is 4 of 10.
    assert retention == {("2026-11-01", 0): 1.0, ("2026-11-01", 1): pytest.approx(0.4)}


def test_bad_parameters_are_refused_and_values_never_reach_sql(served):
    _, client = served
    assert client.get("/api/v1/kpis", params={"platform": "web"}).status_code == 400
    assert client.get("/api/v1/kpis", params={"from": "yesterday"}).status_code == 400
    assert client.get("/api/v1/kpis", params={"from": "2026-11-10", "to": "2026-11-01"}).status_code == 400
    assert client.get("/api/v1/nope").status_code == 404
    hostile = "web' or '1'='1"
    platforms = get(client, "/api/v1/platforms", platform=hostile, **WEEK_2)["datasets"]["by_platform"]
    assert platforms == []
    assert kpi(get(client, "/api/v1/kpis", store="uk' or store_id = 'us", **WEEK_2), "orders")["value"] is None


def test_csv_export_streams_the_filtered_mart(served):
    paths, client = served
    response = client.get(
        "/api/v1/export/revenue_daily.csv", params={"store": "uk", "from": "2026-11-02", "to": "2026-11-03"}
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="revenue_daily.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    expected = sql(
        paths, "select * from revenue_daily where store_id = 'uk' and date between '2026-11-02' and '2026-11-03'"
    )
    assert rows[0] == list(expected[0])
    assert rows[1:] == [[str(v) for v in row.values()] for row in expected]
    assert rows[1][:3] == ["uk", "2026-11-02", "2"]
    whole = client.get("/api/v1/export/kpis_daily.csv")
    assert len(whole.text.splitlines()) == 1 + 2 * 14
    assert client.get("/api/v1/export/no_such_mart.csv").status_code == 404
    assert client.get("/api/v1/export/dim_dates.csv", params={"from": "2026-11-01"}).status_code == 200


def test_requests_during_publishes_see_one_whole_build(served, tmp_path):
    """While publishes alternate between two builds, every answer is wholly one of them."""
    paths, client = served
    stop = threading.Event()
    publishes = []

    def publish_loop():
        scale = 1
        while not stop.is_set():
            scale = 3 if scale == 1 else 1
            build_marts(paths, scale=scale)
            publishes.append(scale)

    publisher = threading.Thread(target=publish_loop)
    publisher.start()
    answers = []
    try:
        while len(publishes) < 4:
            assert publisher.is_alive(), "publishing stopped before its fourth build (its error is above)"
            body = get(client, "/api/v1/revenue", **WEEK_2)
            answers.append(tuple(sorted((r["store_id"], r["date"], r["orders"]) for r in body["datasets"]["daily"])))
    finally:
        stop.set()
        publisher.join()
    build_marts(paths, scale=1)
    builds = {
        scale: tuple(
            sorted((s, f"2026-11-{i:02d}", i * k * scale) for s, k in (("uk", 1), ("us", 2)) for i in range(8, 15))
        )
        for scale in (1, 3)
    }
    assert set(answers) <= set(builds.values())
    assert len(answers) >= 4


def test_openapi_document_is_served_and_checked_in(served):
    _, client = served
    served_document = get(client, "/api/v1/openapi.json")
    assert served_document == openapi.document()
    assert Path("docs/openapi.json").read_text(encoding="utf-8") == openapi.render()
    assert set(PANELS) | {"compliance"} <= {p.removeprefix("/api/v1/") for p in served_document["paths"]}


def test_panels_read_only_columns_the_marts_define():
    """The fixture is hand-made, so every column a panel reads is checked against the dbt models' YAML."""
    defined = {}
    for path in Path("models/marts").glob("*/_*__models.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            defined[model["name"]] = {c["name"] for c in model.get("columns", [])}
    for panel in PANELS.values():
        for query in panel.datasets.values():
            used = {k for k in query.keys if " " not in k} | set(query.sums) | set(query.dimensions)
            used |= {t for r in query.rates for t in _terms(r)}
            if query.date_column:
                used.add(query.date_column)
            assert used <= defined[query.mart], (panel.name, query.mart, used - defined[query.mart])


def test_a_dataset_of_a_mart_the_published_marts_lack_is_an_error():
    """A publish of an older build may lack a mart a panel reads: the query says which, and how to
    get it, rather than answering with nothing."""
    from datetime import date

    from orchestration.serve.api import ApiError, run_query
    from orchestration.serve.marts import Snapshot
    from orchestration.serve.queries import Filters

    customers = PANELS["customers"].datasets
    filters = Filters(date(2026, 11, 1), date(2026, 11, 14), None)
    with duckdb.connect() as con:
        snapshot = Snapshot((0, 0), con, frozenset())
        with pytest.raises(ApiError, match="the published marts have no customer_ltv; publish a newer build"):
            run_query(snapshot, customers["ltv"], filters)
        with pytest.raises(ApiError, match="the published marts have no cohort_retention"):
            run_query(snapshot, customers["retention"], filters)
