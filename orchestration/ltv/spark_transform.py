"""The LTV fit as a Spark script transform: on Spark, `int_customer_lifetimes_predicted` pipes each
partition of orders (every order of its stores) through

    python -m orchestration.ltv.spark_transform HORIZON_MONTHS PURCHASE_MODEL

as text, and reads the predictions back as text. The model's row format says how, the same for
Spark's Hive and in-memory catalogs (whose defaults differ): fields split by tabs, `NULL` for NULL.
Spark writes timestamps as `yyyy-MM-dd HH:mm:ss[.ffffff]` in the session's time zone, UTC
(profiles.yml), and decimals with their scale; floats go back in their shortest exact form, so
Spark reads the very doubles the fit produced."""

from __future__ import annotations

import sys

import pandas as pd

from orchestration.ltv.by_store import ORDER_COLUMNS, PREDICTIONS, predict_by_store

NULL = "NULL"


def read_orders(text) -> pd.DataFrame:
    orders = pd.read_csv(
        text,
        sep="\t",
        header=None,
        names=list(ORDER_COLUMNS),
        dtype={"store_id": str, "customer_id": str, "placed_at": str, "net_revenue": float},
        na_values=[NULL],
        keep_default_na=False,
    )
    orders["placed_at"] = pd.to_datetime(orders["placed_at"], utc=True, format="ISO8601")
    return orders


def write_predictions(predictions: pd.DataFrame, out) -> None:
    at = predictions["model_as_of_at"]
    predictions = predictions.assign(model_as_of_at=at.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f"))
    predictions.to_csv(out, sep="\t", header=False, index=False, na_rep=NULL, lineterminator="\n")


def main(argv: list[str]) -> int:
    horizon_months, purchase_model = float(argv[0]), argv[1]
    orders = read_orders(sys.stdin)
    if orders.empty:  # a partition without rows: Spark may still start the script for it
        return 0
    predictions = predict_by_store(orders, horizon_months, purchase_model).to_pandas()
    write_predictions(predictions[PREDICTIONS.names], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
