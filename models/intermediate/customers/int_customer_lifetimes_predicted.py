"""Per store, fit the purchase model ((M)BG/NBD) and the spend model (Gamma-Gamma) on every customer's
non-cancelled orders valued net of refunds, and predict each customer's purchases and value over the
horizon and the probability they are still a customer. Observation ends at the store's latest order.

A Python model, materialized as a table (a Python model cannot be a view, the folder's default): the
likelihoods live in `orchestration/ltv` and the `customer_ltv` mart joins this table in SQL."""

import pyarrow as pa

from orchestration.ltv.predict import DAYS_PER_MONTH, fit_and_predict

SCHEMA = pa.schema(
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


def model(dbt, session):
    dbt.config(materialized="table")
    horizon_months = float(dbt.config.get("horizon_months"))
    purchase_model = dbt.config.get("purchase_model")
    orders = dbt.ref("int_customer_orders_valued").df()
    tables = [SCHEMA.empty_table()]
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
        tables.append(pa.Table.from_pandas(frame[SCHEMA.names], schema=SCHEMA, preserve_index=False))
    # an Arrow table keeps the column types even when no store could be fitted
    return pa.concat_tables(tables)
