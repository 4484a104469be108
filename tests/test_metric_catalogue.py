"""The metric catalogue lives in the repository as dbt docs: every required mart is described and
every KPI is documented on the mart column that carries it (read from the parsed manifest, no build)."""

import json

import pytest

from orchestration.dbt_project import ensure_manifest

# The required marts of the metric catalogue (marts and their grains).
REQUIRED_MARTS = [
    "dim_stores", "dim_products", "dim_customers", "dim_dates",
    "fct_orders", "fct_order_items", "fct_payments", "fct_refunds", "fct_returns", "fct_shipments",
    "fct_sessions", "fct_page_views",
    "kpis_daily", "kpis_daily_by_segment", "revenue_daily", "category_performance_daily",
    "platform_performance_daily", "funnel_daily", "product_funnel_daily", "traffic_sources_daily",
    "top_pages_daily", "active_users_daily", "payments_daily", "delivery_performance_daily",
    "inventory_daily", "inventory_turnover_monthly", "reorder_alerts", "cohort_retention",
    "customer_ltv", "customer_insights", "search_terms_daily", "recommendation_performance_daily",
    "promotion_performance", "feedback_daily", "dq_scorecard_daily", "affiliate_performance_daily",
]  # fmt: skip

# Every KPI of the catalogue's formula table, and the mart column that carries it.
KPI_COLUMNS = {
    "GMV": ("kpis_daily", "gmv"),
    "discounts": ("kpis_daily", "discounts"),
    "refunds": ("kpis_daily", "refunds"),
    "net revenue": ("kpis_daily", "net_revenue"),
    "orders": ("kpis_daily", "orders"),
    "items sold": ("kpis_daily", "items_sold"),
    "unique purchasers": ("kpis_daily", "unique_purchasers"),
    "AOV": ("kpis_daily", "aov"),
    "ARPU": ("kpis_daily", "arpu"),
    "sessions": ("kpis_daily", "sessions"),
    "visitors": ("kpis_daily", "visitors"),
    "conversion rate": ("kpis_daily", "conversion_rate"),
    "cart abandonment rate": ("kpis_daily", "cart_abandonment_rate"),
    "payment success rate": ("kpis_daily", "payment_success_rate"),
    "refund rate": ("kpis_daily", "refund_rate"),
    "return rate": ("kpis_daily", "return_rate"),
    "RTO rate": ("kpis_daily", "rto_rate"),
    "on-time delivery rate": ("kpis_daily", "on_time_delivery_rate"),
    "first-attempt delivery rate": ("kpis_daily", "first_attempt_delivery_rate"),
    "average delivery time": ("kpis_daily", "avg_delivery_hours"),
    "bounce rate": ("kpis_daily", "bounce_rate"),
    "average session duration": ("kpis_daily", "avg_session_duration_seconds"),
    "zero-result rate": ("kpis_daily", "zero_result_rate"),
    "recommendation CTR": ("kpis_daily", "recommendation_ctr"),
    "days of cover": ("inventory_daily", "days_of_cover"),
    "inventory turnover": ("inventory_turnover_monthly", "inventory_turnover"),
    "shrinkage rate": ("inventory_turnover_monthly", "shrinkage_rate"),
    # Lots (docs/marts.md#lots-aging-expiry-and-recall).
    "mean receipt age": ("inventory_daily", "mean_receipt_age_days"),
    "units expiring": ("inventory_daily", "units_expiring"),
    "expiry risk": ("inventory_daily", "is_expiry_risk"),
    "recalled units": ("inventory_daily", "recalled_units"),
    "retention (cohort, month k)": ("cohort_retention", "retention_rate"),
    "historical LTV": ("customer_ltv", "historical_ltv"),
    "gross-margin LTV": ("customer_ltv", "gross_margin_ltv"),
    "DAU": ("kpis_daily", "dau"),
    "WAU": ("kpis_daily", "wau"),
    "MAU": ("kpis_daily", "mau"),
    # Beyond the formula table: the hourly and lifecycle KPIs (docs/hourly-and-lifecycle.md).
    "hourly conversion rate": ("kpis_hourly", "conversion_rate"),
    "order to payment capture": ("order_lifecycle_daily", "order_to_capture_hours_p50"),
    "capture to shipment": ("order_lifecycle_daily", "capture_to_shipment_hours_p50"),
    "shipment to delivery": ("order_lifecycle_daily", "shipment_to_delivery_hours_p50"),
    "return request to refund": ("order_lifecycle_daily", "return_request_to_refund_hours_p50"),
    "refund turnaround": ("order_lifecycle_daily", "refund_turnaround_hours_p90"),
    "promotion adoption": ("order_lifecycle_daily", "promotion_adoption_rate"),
    # Subscriptions (docs/subscriptions-and-loyalty.md).
    "MRR": ("subscriptions_monthly", "mrr"),
    "new MRR": ("subscriptions_monthly", "new_mrr"),
    "expansion MRR": ("subscriptions_monthly", "expansion_mrr"),
    "contraction MRR": ("subscriptions_monthly", "contraction_mrr"),
    "churned MRR": ("subscriptions_monthly", "churned_mrr"),
    "logo churn rate": ("subscriptions_monthly", "logo_churn_rate"),
    "revenue churn rate": ("subscriptions_monthly", "revenue_churn_rate"),
    "active subscribers": ("subscriptions_monthly", "active_subscribers"),
    # Loyalty (docs/subscriptions-and-loyalty.md).
    "members active": ("loyalty_daily", "members_active"),
    "points earned": ("loyalty_daily", "points_earned"),
    "points redeemed": ("loyalty_daily", "points_redeemed"),
    "redemption rate": ("loyalty_daily", "redemption_rate"),
    "revenue of orders with a redemption": ("loyalty_daily", "redemption_orders_gmv"),
    # Affiliates (docs/affiliates.md).
    "affiliate sessions": ("affiliate_performance_daily", "sessions"),
    "affiliate converted sessions": ("affiliate_performance_daily", "converted_sessions"),
    "affiliate conversion rate": ("affiliate_performance_daily", "conversion_rate"),
    "affiliate orders": ("affiliate_performance_daily", "orders"),
    "affiliate revenue": ("affiliate_performance_daily", "revenue"),
    "affiliate commission": ("affiliate_performance_daily", "commission"),
}


@pytest.fixture(scope="module")
def models() -> dict[str, dict]:
    manifest = json.loads(ensure_manifest().read_text())
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_every_required_mart_is_described(models):
    undescribed = [mart for mart in REQUIRED_MARTS if not models.get(mart, {}).get("description", "").strip()]
    assert undescribed == []


def test_every_kpi_is_documented_on_its_mart_column(models):
    undocumented = [
        kpi
        for kpi, (mart, column) in KPI_COLUMNS.items()
        if not models[mart]["columns"].get(column, {}).get("description", "").strip()
    ]
    assert undocumented == []
    assert models["kpis_daily"]["columns"]["aov"]["description"].startswith("gmv / orders")
