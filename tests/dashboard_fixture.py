"""A small published-marts fixture the API and dashboard tests can check by hand.

Two stores, `uk` (k=1) and `us` (k=2), 14 days, 2026-11-01..14 (day i = 1..14). A column's value on
day i is `base * i * k * m` (m: the row's dimension multiplier, 1 or 3), except the few the tests
compute by hand: orders = i*k, gmv_usd = 100*i*k + 0.01, sessions = 100*i*k, converted_sessions =
i*i*k, so a range's conversion rate differs from the mean of its daily rates. The tables carry the
columns of the real marts (names and types from models/marts) that the API reads, are built in a
warehouse's `marts` schema and published with the real `publish_marts`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb

from orchestration import warehouse
from orchestration.publish import publish_marts
from orchestration.settings import DataPaths

FIRST_DAY = date(2026, 11, 1)
DAYS = 14
STORES = {"uk": (1, "GBP"), "us": (2, "USD")}
MONEY = "DECIMAL(18, 2)"

# mart -> (dimension columns with values and multipliers, measure columns with their types)
DIMENSIONS = {
    "platform": {"web": 1, "ios": 3},
    "category": {"shoes": 1, "hats": 3},
    "channel_group": {"organic": 1, "paid": 3},
    "gateway": {"stripe": 1, "adyen": 3},
    "method": {"card": 1, "wallet": 3},
    "medium": {"cpc": 1, "email": 3},
    "carrier": {"dhl": 1, "ups": 3},
    "region": {"north": 1, "south": 3},
    "source": {"orders": 1, "events": 3},
    "traffic_source": {"google": 1, "newsletter": 3},
    "page_path": {"/": 1, "/p/1": 3},
}
INT = "BIGINT"
MARTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "kpis_daily": (
        (),
        {
            "orders": INT,
            "gmv_usd": MONEY,
            "discounts_usd": MONEY,
            "refunds_usd": MONEY,
            "net_revenue_usd": MONEY,
            "items_sold": INT,
            "sessions": INT,
            "converted_sessions": INT,
            "bounced_sessions": INT,
            "session_seconds": INT,
            "carts_created": INT,
            "carts_abandoned": INT,
            "carts_open": INT,
            "payments_captured": INT,
            "payments_failed": INT,
            "orders_refunded": INT,
            "orders_delivered": INT,
            "orders_returned": INT,
            "shipments": INT,
            "shipments_delivered": INT,
            "shipments_on_time": INT,
            "shipments_returned_to_origin": INT,
            "conversion_rate": "DOUBLE",
        },
    ),
    "revenue_daily": (
        (),
        {n: INT if n == "orders" else MONEY for n in ("orders", "gmv_usd", "discounts_usd", "refunds_usd")}
        | {"net_revenue_usd": MONEY},
    ),
    "platform_performance_daily": (
        ("platform",),
        {"sessions": INT, "converted_sessions": INT, "orders": INT, "gmv_usd": MONEY},
    ),
    "category_performance_daily": (("category",), {"orders": INT, "units_sold": INT, "gmv_usd": MONEY}),
    "customer_insights": (
        (),
        dict.fromkeys(
            ("new_customers", "returning_customers", "new_customer_orders", "returning_customer_orders"), INT
        ),
    ),
    "feedback_daily": (
        (),
        {"reviews": INT, "rating_total": INT} | {f"ratings_{s}_star": INT for s in range(1, 6)},
    ),
    "traffic_sources_daily": (
        ("channel_group", "source", "medium"),
        {"sessions": INT, "conversions": INT, "orders": INT, "revenue_usd": MONEY},
    ),
    "top_pages_daily": (
        ("page_path",),
        dict.fromkeys(("views", "timed_views", "seconds_on_page", "entrances", "bounces"), INT),
    ),
    "payments_daily": (
        ("gateway", "method"),
        {
            "attempts": INT,
            "captured_attempts": INT,
            "failed_attempts": INT,
            "captured_amount_usd": MONEY,
            "chargebacks": INT,
            "latency_p50_ms": "DOUBLE",
            "latency_p95_ms": "DOUBLE",
        },
    ),
    "delivery_performance_daily": (
        ("carrier", "region"),
        {
            "shipments": INT,
            "shipments_delivered": INT,
            "shipments_on_time": INT,
            "shipments_first_attempt": INT,
            "shipments_returned_to_origin": INT,
            "delivery_hours": "DOUBLE",
        },
    ),
    "dq_scorecard_daily": (
        ("source",),
        dict.fromkeys(
            (
                "extracts",
                "rows_received",
                "rows_landed",
                "rows_quarantined",
                "duplicates_dropped",
                "late_rows",
                "bot_user_agent_events",
                "bot_behaviour_events",
                "no_analytics_consent_events",
            ),
            INT,
        ),
    ),
    "consent_daily": (
        (),
        dict.fromkeys(
            (
                "granted_decisions",
                "denied_decisions",
                "withdrawn_decisions",
                "human_events",
                "privacy_signal_events",
                "no_analytics_consent_events",
            ),
            INT,
        ),
    ),
}
HAND_VALUES = {
    "orders": lambda i, k, m: i * k * m,
    "gmv_usd": lambda i, k, m: Decimal(100 * i * k * m) + Decimal("0.01"),
    "sessions": lambda i, k, m: 100 * i * k * m,
    "converted_sessions": lambda i, k, m: i * i * k * m,
    # Totals are bigger than their parts, as in the marts: a rate's denominator covers its numerator.
    "rows_received": lambda i, k, m: 1000 * i * k * m,
    "human_events": lambda i, k, m: 1000 * i * k * m,
    "entrants": lambda i, k, m: 100 * i * k * m,
}


def day(i: int) -> date:
    return FIRST_DAY + timedelta(days=i - 1)


def _value(column: str, kind: str, base: int, i: int, k: int, m: int):
    if column in HAND_VALUES:
        return HAND_VALUES[column](i, k, m)
    if column == "conversion_rate":
        return (i * i) / (100 * i)
    value = base * i * k * m
    return Decimal(value) + Decimal("0.05") if kind == MONEY else value


def _dimension_rows(mart: str, dimensions: tuple[str, ...]) -> list[tuple[tuple[str, ...], int]]:
    rows: list[tuple[tuple[str, ...], int]] = [((), 1)]
    for dimension in dimensions:
        values = DIMENSIONS["traffic_source" if (mart, dimension) == ("traffic_sources_daily", "source") else dimension]
        rows = [((*keys, v), m * mv) for keys, m in rows for v, mv in values.items()]
    return rows


def _insert(con, table: str, rows: list[tuple]) -> None:
    """Rows in one statement (row-by-row inserts take seconds); decimals go as text, cast exactly."""
    import pandas as pd

    frame = pd.DataFrame([[str(v) if isinstance(v, Decimal) else v for v in row] for row in rows])
    con.register("fixture_rows", frame)
    con.execute(f"insert into marts.{table} select * from fixture_rows")
    con.unregister("fixture_rows")


def _daily_mart(con, mart: str, dimensions: tuple[str, ...], measures: dict[str, str], stores: dict) -> None:
    columns = {"store_id": "VARCHAR", "date": "DATE", **dict.fromkeys(dimensions, "VARCHAR"), **measures}
    con.execute(f"create table marts.{mart} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    rows = [
        (store, day(i), *keys, *(_value(c, t, b, i, k, m) for b, (c, t) in enumerate(measures.items(), start=1)))
        for store, (k, _) in stores.items()
        for i in range(1, DAYS + 1)
        for keys, m in _dimension_rows(mart, dimensions)
    ]
    _insert(con, mart, rows)


def _other_marts(con, stores: dict) -> None:
    """Marts whose grain is not store x day x dimension."""
    con.execute("create table marts.dim_stores (store_id VARCHAR, store_name VARCHAR, currency VARCHAR)")
    _insert(con, "dim_stores", [(s, s.upper(), c) for s, (_, c) in stores.items()])
    con.execute(
        "create table marts.dim_dates as select cast(range as date) as date"
        " from range(date '2026-10-01', date '2026-12-01', interval 1 day)"
    )
    con.execute(
        "create table marts.funnel_daily (store_id VARCHAR, date DATE, step_number INTEGER, step_name VARCHAR,"
        " entrants BIGINT, reached_next BIGINT)"
    )
    steps = ["search", "product_view", "add_to_cart", "checkout_started", "payment_captured"]
    _insert(
        con,
        "funnel_daily",
        [
            (s, day(i), n, step, 100 * i * k // n, 100 * i * k // (n + 1) if n < 5 else 0)
            for s, (k, _) in stores.items()
            for i in range(1, DAYS + 1)
            for n, step in enumerate(steps, start=1)
        ],
    )
    con.execute(
        "create table marts.cohort_retention (store_id VARCHAR, cohort_month DATE, months_since_first_order INTEGER,"
        " cohort_size BIGINT, active_customers BIGINT)"
    )
    _insert(
        con,
        "cohort_retention",
        [
            (s, date(2026, month, 1), months, 10 * k, (10 if months == 0 else 3 + month - 10) * k)
            for s, (k, _) in stores.items()
            for month in (10, 11)
            for months in range(0, 12 - month + 1)
        ],
    )
    con.execute(
        "create table marts.customer_ltv (store_id VARCHAR, customer_id VARCHAR, first_order_date DATE,"
        f" historical_ltv_usd {MONEY})"
    )
    _insert(
        con,
        "customer_ltv",
        [(s, f"{s}-c{n}", day(n), Decimal(40 * n * k)) for s, (k, _) in stores.items() for n in range(1, 6)],
    )
    con.execute(
        "create table marts.inventory_daily (store_id VARCHAR, date DATE, product_id VARCHAR, warehouse_id VARCHAR,"
        f" on_hand BIGINT, days_of_cover DOUBLE, is_stockout BOOLEAN, inventory_value_at_cost_usd {MONEY})"
    )
    _insert(
        con,
        "inventory_daily",
        [
            (s, day(i), p, "w1", on_hand, on_hand / 2 if p != "p3" else None, on_hand == 0, Decimal(on_hand * k))
            for s, (k, _) in stores.items()
            for i in range(1, DAYS + 1)
            for p, on_hand in (("p1", 0 if i % 2 else 10), ("p2", 40 * k), ("p3", 5))
        ],
    )
    con.execute(
        "create table marts.reorder_alerts (store_id VARCHAR, product_id VARCHAR, warehouse_id VARCHAR,"
        " alert_date DATE, on_hand BIGINT, reorder_point DOUBLE, days_of_cover DOUBLE, suggested_quantity BIGINT)"
    )
    _insert(
        con,
        "reorder_alerts",
        [(s, "p1", "w1", day(DAYS), 0, 12.5, 0.0, 20 * k) for s, (k, _) in stores.items()],
    )
    con.execute(
        "create table marts.promotion_performance (store_id VARCHAR, code VARCHAR, promotion_name VARCHAR,"
        f" promotion_type VARCHAR, uses BIGINT, orders BIGINT, paid_orders BIGINT, gmv_usd {MONEY},"
        f" discounts_usd {MONEY}, net_revenue_usd {MONEY})"
    )
    _insert(
        con,
        "promotion_performance",
        [
            (
                s,
                code,
                f"{code} sale",
                "percent",
                10 * k,
                8 * k,
                6 * k,
                Decimal(500 * k),
                Decimal(50 * k),
                Decimal(450 * k),
            )
            for s, (k, _) in stores.items()
            for code in ("WELCOME10", "BLACKFRIDAY")
        ],
    )


def build_marts(paths: DataPaths, scale: int = 1, stores: dict | None = None) -> None:
    """Write the fixture as a completed warehouse build and publish it. `scale` multiplies the
    stores' factors, so a second publish can be told from the first."""
    stores = {s: (k * scale, c) for s, (k, c) in (stores or STORES).items()}
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.warehouse.unlink(missing_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create schema marts")
        for mart, (dimensions, measures) in MARTS.items():
            _daily_mart(con, mart, dimensions, measures, stores)
        _other_marts(con, stores)
    warehouse.record_build(paths, f"fixture-{scale}")
    publish_marts(paths)
