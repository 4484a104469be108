"""The API's panels: one endpoint each, `/api/v1/<panel>`, answering with named datasets.

Money is in USD (the reporting currency), so stores with different currencies add up. Percentiles
(latency, time to next step) cannot be re-aggregated from the marts; where a panel shows them it
says so in the column's name (`worst_daily_...`).
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.serve.queries import Query, Rate

REVENUE_SUMS = ("orders", "gmv_usd", "discounts_usd", "refunds_usd", "net_revenue_usd")

# The KPI cards: kpis_daily's additive columns and its rates re-aggregated (the mart's ratio() formulas).
KPI_SUMS = (
    *REVENUE_SUMS,
    "items_sold",
    "sessions",
    "converted_sessions",
    "bounced_sessions",
    "session_seconds",
    "carts_created",
    "carts_abandoned",
    "carts_open",
    "payments_captured",
    "payments_failed",
    "orders_refunded",
    "orders_delivered",
    "orders_returned",
    "shipments",
    "shipments_delivered",
    "shipments_on_time",
    "shipments_returned_to_origin",
)
KPI_RATES = (
    Rate("aov_usd", "gmv_usd", "orders"),
    Rate("conversion_rate", "converted_sessions", "sessions"),
    Rate("bounce_rate", "bounced_sessions", "sessions"),
    Rate("avg_session_duration_seconds", "session_seconds", "sessions"),
    Rate("cart_abandonment_rate", "carts_abandoned", "carts_created - carts_open"),
    Rate("payment_success_rate", "payments_captured", "payments_captured + payments_failed"),
    Rate("refund_rate", "orders_refunded", "orders"),
    Rate("return_rate", "orders_returned", "orders_delivered"),
    Rate("on_time_delivery_rate", "shipments_on_time", "shipments_delivered"),
    Rate("rto_rate", "shipments_returned_to_origin", "shipments"),
)
KPIS = Query("kpis_daily", sums=KPI_SUMS, rates=KPI_RATES)


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    role: str
    datasets: dict[str, Query]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for q in self.datasets.values() for d in q.dimensions))


def _panel(name: str, title: str, role: str = "viewer", **datasets: Query) -> Panel:
    return Panel(name, title, role, datasets)


PANELS = {
    p.name: p
    for p in (
        # kpis: the same figures for the range and the previous range of equal length (see api.py).
        _panel("kpis", "KPIs with the previous period", totals=KPIS),
        _panel(
            "revenue",
            "Daily revenue",
            daily=Query("revenue_daily", keys=("date", "store_id"), sums=REVENUE_SUMS, order_by="date, store_id"),
        ),
        _panel(
            "platforms",
            "Platform distribution",
            by_platform=Query(
                "platform_performance_daily",
                keys=("platform",),
                sums=("sessions", "converted_sessions", "orders", "gmv_usd"),
                rates=(Rate("conversion_rate", "converted_sessions", "sessions"),),
                dimensions=("platform",),
                order_by="gmv_usd desc, platform",
            ),
        ),
        _panel(
            "categories",
            "Category ranks",
            by_category=Query(
                "category_performance_daily",
                keys=("category",),
                sums=("orders", "units_sold", "gmv_usd"),
                extra=("rank() over (order by sum(gmv_usd) desc) as gmv_rank",),
                dimensions=("category",),
                order_by="gmv_rank, category",
            ),
        ),
        _panel(
            "promotions",
            "Promotions (all time)",
            by_code=Query(
                "promotion_performance",
                keys=("code", "promotion_name", "promotion_type"),
                sums=("uses", "orders", "paid_orders", "gmv_usd", "discounts_usd", "net_revenue_usd"),
                rates=(Rate("conversion_rate", "paid_orders", "uses"),),
                date_column=None,
                order_by="uses desc, code",
                limit=50,
            ),
        ),
        _panel(
            "customers",
            "Customer insights",
            new_vs_returning=Query(
                "customer_insights",
                keys=("date",),
                sums=("new_customers", "returning_customers", "new_customer_orders", "returning_customer_orders"),
                order_by="date",
            ),
            retention=Query(
                "cohort_retention",
                keys=("cohort_month", "months_since_first_order"),
                sums=("cohort_size", "active_customers"),
                rates=(Rate("retention_rate", "active_customers", "cohort_size"),),
                date_column="cohort_month",
                is_monthly=True,
                order_by="cohort_month, months_since_first_order",
            ),
            # Customers by historical LTV in bands of 50 USD, for those whose first order is in the range.
            ltv=Query(
                "customer_ltv",
                keys=("floor(historical_ltv_usd / 50) * 50 as ltv_usd_from",),
                extra=("count(*) as customers", "sum(historical_ltv_usd) as historical_ltv_usd"),
                date_column="first_order_date",
                order_by="ltv_usd_from",
            ),
        ),
        _panel(
            "feedback",
            "Feedback",
            timeline=Query(
                "feedback_daily",
                keys=("date",),
                sums=("reviews", "rating_total"),
                rates=(Rate("mean_rating", "rating_total", "reviews"),),
                order_by="date",
            ),
            ratings=Query(
                "feedback_daily",
                sums=("reviews", *(f"ratings_{stars}_star" for stars in range(1, 6))),
                rates=(Rate("mean_rating", "rating_total", "reviews"),),
            ),
        ),
        _panel(
            "funnel",
            "Funnel (sessions)",
            steps=Query(
                "funnel_daily",
                keys=("step_number", "step_name"),
                sums=("entrants", "reached_next"),
                rates=(Rate("drop_off_rate", "entrants - reached_next", "entrants"),),
                order_by="step_number",
            ),
        ),
        _panel(
            "traffic",
            "Traffic sources and top pages",
            sources=Query(
                "traffic_sources_daily",
                keys=("channel_group", "source", "medium"),
                sums=("sessions", "conversions", "orders", "revenue_usd"),
                rates=(Rate("conversion_rate", "conversions", "sessions"),),
                dimensions=("channel_group",),
                order_by="sessions desc, channel_group, source, medium",
                limit=50,
            ),
            pages=Query(
                "top_pages_daily",
                keys=("page_path",),
                sums=("views", "timed_views", "seconds_on_page", "entrances", "bounces"),
                rates=(
                    Rate("avg_seconds_on_page", "seconds_on_page", "timed_views"),
                    Rate("bounce_rate", "bounces", "entrances"),
                ),
                order_by="views desc, page_path",
                limit=20,
            ),
        ),
        _panel(
            "inventory",
            "Inventory",
            stockouts=Query(
                "inventory_daily",
                keys=("date",),
                sums=("inventory_value_at_cost_usd",),
                extra=("count(*) filter (where is_stockout) as stockouts", "count(*) as product_warehouses"),
                order_by="date",
            ),
            days_of_cover=Query(
                "inventory_daily",
                keys=(
                    "case when days_of_cover is null then 'no sales' when days_of_cover < 7 then '0-7 days'"
                    " when days_of_cover < 28 then '7-28 days' else '28+ days' end as cover_band",
                ),
                extra=("count(*) as product_warehouses",),
                last_day_only=True,
                order_by="cover_band",
            ),
            reorder_alerts=Query(
                "reorder_alerts",
                keys=(
                    "store_id",
                    "product_id",
                    "warehouse_id",
                    "alert_date",
                    "on_hand",
                    "reorder_point",
                    "days_of_cover",
                    "suggested_quantity",
                ),
                date_column=None,
                order_by="days_of_cover nulls first, store_id, product_id, warehouse_id",
                limit=100,
            ),
        ),
        _panel(
            "payments",
            "Payments by gateway and method",
            by_gateway=Query(
                "payments_daily",
                keys=("gateway", "method"),
                sums=("attempts", "captured_attempts", "failed_attempts", "captured_amount_usd", "chargebacks"),
                rates=(Rate("payment_success_rate", "captured_attempts", "captured_attempts + failed_attempts"),),
                extra=(
                    "max(latency_p50_ms) as worst_daily_latency_p50_ms",
                    "max(latency_p95_ms) as worst_daily_latency_p95_ms",
                ),
                dimensions=("gateway", "method"),
                order_by="attempts desc, gateway, method",
            ),
        ),
        _panel(
            "delivery",
            "Delivery by carrier and region",
            by_carrier=Query(
                "delivery_performance_daily",
                keys=("carrier", "region"),
                sums=(
                    "shipments",
                    "shipments_delivered",
                    "shipments_on_time",
                    "shipments_first_attempt",
                    "shipments_returned_to_origin",
                    "delivery_hours",
                ),
                rates=(
                    Rate("on_time_delivery_rate", "shipments_on_time", "shipments_delivered"),
                    Rate("first_attempt_delivery_rate", "shipments_first_attempt", "shipments_delivered"),
                    Rate("avg_delivery_hours", "delivery_hours", "shipments_delivered"),
                    Rate("rto_rate", "shipments_returned_to_origin", "shipments"),
                ),
                dimensions=("carrier", "region"),
                order_by="shipments desc, carrier, region",
            ),
        ),
        _panel(
            "quality",
            "Data quality",
            role="admin",
            by_source=Query(
                "dq_scorecard_daily",
                keys=("source",),
                sums=(
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
                rates=(Rate("quarantine_rate", "rows_quarantined", "rows_received"),),
                dimensions=("source",),
                order_by="source",
            ),
            daily=Query(
                "dq_scorecard_daily",
                keys=("date",),
                sums=("rows_received", "rows_quarantined", "late_rows"),
                rates=(Rate("quarantine_rate", "rows_quarantined", "rows_received"),),
                dimensions=("source",),
                order_by="date",
            ),
        ),
        _panel(
            "consent",
            "Consent",
            role="admin",
            daily=Query(
                "consent_daily",
                keys=("date",),
                sums=(
                    "granted_decisions",
                    "denied_decisions",
                    "withdrawn_decisions",
                    "human_events",
                    "privacy_signal_events",
                    "no_analytics_consent_events",
                ),
                rates=(
                    Rate("accept_rate", "granted_decisions", "granted_decisions + denied_decisions"),
                    Rate(
                        "consent_excluded_rate", "privacy_signal_events + no_analytics_consent_events", "human_events"
                    ),
                ),
                order_by="date",
            ),
        ),
    )
}
# Marts only admins may read (exports included): they describe the pipeline and people's choices.
ADMIN_MARTS = frozenset(q.mart for p in PANELS.values() if p.role == "admin" for q in p.datasets.values())
