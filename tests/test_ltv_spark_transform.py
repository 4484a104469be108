"""The LTV fit as Spark runs it (orchestration/ltv/spark_transform.py), without Spark: the orders as
text in the model's row format in, the predictions as text out, equal to the very values the dbt
Python model computes on DuckDB from the same orders. tests/test_spark_parity.py runs it in Spark."""

import io

import duckdb
import pandas as pd
import pytest

from orchestration.ltv.by_store import ORDER_COLUMNS, PREDICTIONS, predict_by_store
from orchestration.ltv.spark_transform import main
from tests.yearly_purchases import yearly_purchases

HORIZON_MONTHS, MODEL = 12.0, "mbgnbd"


def valued_orders() -> pd.DataFrame:
    """Two stores' year of orders, and a third store of three customers, too few to fit, typed as
    int_customer_orders_valued types them (timestamptz, decimal(18, 2)) and read as the DuckDB
    Python model reads them (`.df()`)."""
    purchases, _ = yearly_purchases(seed=5, stores=2, customers=400)
    tiny = pd.DataFrame(
        {
            "store_id": "tiny",
            "customer_id": [1, 2, 3],
            "ordered_at": pd.to_datetime(
                ["2026-01-05 10:00:00.5", "2026-02-01", "2026-03-01"], utc=True, format="ISO8601"
            ),
            "amount": [10.0, 20.5, 30.25],
        }
    )
    frame = pd.concat([purchases, tiny], ignore_index=True)  # noqa: F841 (read by DuckDB below)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(
            """SELECT store_id, 'c' || customer_id AS customer_id, ordered_at::TIMESTAMPTZ AS placed_at,
                      amount::DECIMAL(18, 2) AS net_revenue FROM frame"""
        ).df()


def as_spark_writes(orders: pd.DataFrame) -> str:
    """Orders in the model's row format, as Spark writes a row to a script: tab-separated, NULL for
    NULL, timestamps without their trailing zeros of fractions, decimals with their scale."""
    at = orders["placed_at"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str.rstrip("0").str.rstrip(".")
    text = orders.assign(placed_at=at, net_revenue=orders["net_revenue"].map("{:.2f}".format, na_action="ignore"))
    return text[list(ORDER_COLUMNS)].to_csv(sep="\t", header=False, index=False, na_rep="NULL")


def transform(text: str, monkeypatch, capsys) -> pd.DataFrame:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert main([str(HORIZON_MONTHS), MODEL]) == 0
    out = capsys.readouterr().out
    return pd.read_csv(io.StringIO(out), sep="\t", header=None, names=PREDICTIONS.names, na_values=["NULL"])


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return valued_orders()


def test_the_spark_transform_returns_exactly_what_the_duckdb_model_predicts(orders, monkeypatch, capsys):
    """Every value equal to the bit, whatever the order the rows arrive in (Spark's is its own)."""
    expected = predict_by_store(orders, HORIZON_MONTHS, MODEL).to_pandas()
    shuffled = orders.sample(frac=1, random_state=7)
    got = transform(as_spark_writes(shuffled), monkeypatch, capsys)
    assert sorted(got["store_id"].unique()) == ["uk", "us"]  # "tiny" has too few customers to fit
    assert len(got) == len(expected) == 800
    assert got["predicted_value"].notna().all()
    got["model_as_of_at"] = pd.to_datetime(got["model_as_of_at"], utc=True)
    key = ["store_id", "customer_id"]
    got, expected = (f.sort_values(key, ignore_index=True) for f in (got, expected))
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)


def test_nothing_in_nothing_out(monkeypatch, capsys):
    """Spark may start the script for a partition without rows: it prints nothing, and succeeds."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main([str(HORIZON_MONTHS), MODEL]) == 0
    assert capsys.readouterr().out == ""


def test_a_null_amount_reaches_the_fit_as_missing(orders, monkeypatch, capsys):
    """NULL travels as the row format's `NULL`, not as text the fit would choke on: the one store
    with a NULL amount fails to fit on it exactly as the DuckDB model does (here: no predictions)."""
    with_null = orders.copy()
    with_null["net_revenue"] = with_null["net_revenue"].astype(object)
    with_null.loc[with_null["store_id"] == "uk", "net_revenue"] = None
    expected = predict_by_store(with_null, HORIZON_MONTHS, MODEL).to_pandas()
    got = transform(as_spark_writes(with_null), monkeypatch, capsys)
    assert sorted(got["store_id"].unique()) == sorted(expected["store_id"].unique())
