"""The LTV fit on DuckDB (orchestration/ltv/by_store.py); on Spark, the SQL file of the same name
runs the same fit as a script transform. A Python model is a table (it cannot be a view, the
folder's default); the `customer_ltv` mart joins it in SQL."""

from orchestration.ltv.by_store import ORDER_COLUMNS, predict_by_store


def model(dbt, session):
    dbt.config(materialized="table")
    orders = dbt.ref("int_customer_orders_valued").project(", ".join(ORDER_COLUMNS)).df()
    return predict_by_store(orders, float(dbt.config.get("horizon_months")), dbt.config.get("purchase_model"))
