"""The warehouse's LTV fit, one implementation for both engines: per store, the purchase model
((M)BG/NBD) and the spend model (Gamma-Gamma) fitted on every customer's orders valued net of
refunds, and each customer's predictions over the horizon. Observation ends at the store's latest
order; a store too small to fit gets no rows.

DuckDB runs it in the dbt Python model `int_customer_lifetimes_predicted`; Spark (whose local
session runs no dbt Python model) in the model's SQL twin, through `spark_transform`."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from orchestration.ltv.predict import DAYS_PER_MONTH, fit_and_predict

# The orders the fit reads, from int_customer_orders_valued.
ORDER_COLUMNS = ("store_id", "customer_id", "placed_at", "net_revenue")
PREDICTIONS = pa.schema(
    [
        ("store_id", pa.string()),
        ("customer_id", pa.string()),
        ("frequency", pa.int64()),
        ("recency_days", pa.float64()),
        ("age_days", pa.float64()),
        ("probability_alive", pa.float64()),
        ("predicted_purchases", pa.float64()),
        ("expected_average_value", pa.float64()),
        ("predicted_value", pa.float64()),
        ("model_name", pa.string()),
        ("model_as_of_at", pa.timestamp("us", tz="UTC")),
        ("horizon_months", pa.float64()),
        ("r", pa.float64()),
        ("alpha", pa.float64()),
        ("a", pa.float64()),
        ("b", pa.float64()),
    ]
)


def predict_by_store(orders: pd.DataFrame, horizon_months: float, purchase_model: str) -> pa.Table:
    """`orders` (ORDER_COLUMNS, in any order: they are sorted first, so both engines fit the same
    float sums) to one row of PREDICTIONS per customer of every store that could be fitted. An Arrow
    table keeps the column types even when no store could be."""
    orders = orders[list(ORDER_COLUMNS)].sort_values(list(ORDER_COLUMNS), kind="stable", ignore_index=True)
    tables = [PREDICTIONS.empty_table()]
    for store_id, rows in orders.groupby("store_id", sort=True):
        try:
            result = fit_and_predict(
                rows,
                horizon_months * DAYS_PER_MONTH,
                model=purchase_model,
                # every order is a purchase, as in the shop's (and the generator's) continuous-time process
                per_day=False,
                customer="customer_id",
                at="placed_at",
                amount="net_revenue",
            )
        except ValueError:  # too few customers to fit: no predictions for this store
            continue
        frame = result.predictions.assign(
            store_id=store_id,
            model_name=purchase_model,
            model_as_of_at=result.as_of,
            horizon_months=horizon_months,
            **result.purchases.params,
        )
        tables.append(pa.Table.from_pandas(frame[PREDICTIONS.names], schema=PREDICTIONS, preserve_index=False))
    return pa.concat_tables(tables)
