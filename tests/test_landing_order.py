"""Every landed row has a landing order (extract sequence, then row number), and staging keeps the
copy landed last of every re-exported record, also when two extracts land in the same second."""

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.landing.land import LANDING_ORDER_STRIDE, land_all
from orchestration.privacy import hmac_key
from tests.conftest import write_csv

AT = "2026-11-01T10:00:00.000Z"
# Per source: (staging model, key column, changed column, a row builder taking the key and the value
# before or after the change).
RE_EXPORTED = {
    "returns": (
        "stg_logistics__returns",
        "return_id",
        "status",
        lambda key, value: {
            "return_id": key,
            "order_id": "o1",
            "order_item_id": "oi1",
            "store_id": "us",
            "requested_at": AT,
            "quantity": "1",
            "reason": "damaged",
            "status": value,
        },
        ("requested", "rejected"),
    ),
    "reviews": (
        "stg_crm__reviews",
        "review_id",
        "rating",
        lambda key, value: {
            "review_id": key,
            "store_id": "us",
            "product_id": "p1",
            "customer_id": "c1",
            "rating": value,
            "created_at": AT,
        },
        ("5", "2"),
    ),
    "chargebacks": (
        "stg_oms__chargebacks",
        "chargeback_id",
        "status",
        lambda key, value: {
            "chargeback_id": key,
            "payment_attempt_id": "pa1",
            "order_id": "o1",
            "store_id": "us",
            "opened_at": AT,
            "amount": "10.00",
            "currency": "USD",
            "reason_code": "fraudulent",
            "status": value,
        },
        ("open", "lost"),
    ),
    "discount_codes": (
        "stg_oms__discount_codes",
        "discount_code_id",
        "max_uses",
        lambda key, value: {
            "discount_code_id": key,
            "promotion_id": "promo1",
            "store_id": "us",
            "code": key.upper(),
            "max_uses": value,
            "created_at": AT,
        },
        ("100", "50"),
    ),
    "stock_snapshots": (
        "stg_inventory__stock_snapshots",
        "product_id",
        "on_hand",
        lambda key, value: {
            "snapshot_date": "2026-11-01",
            "store_id": "us",
            "warehouse_id": "w1",
            "product_id": key,
            "on_hand": value,
            "taken_at": AT,
        },
        ("7", "3"),
    ),
}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """Per source, two extracts landed in one run: the first holds the record last of 30 rows, the
    re-export holds its change first. Row position alone would keep the stale copy."""
    from orchestration.settings import DataPaths

    paths = DataPaths(tmp_path_factory.mktemp("landing_order"))
    for source, (_, _, _, row, (before, after)) in RE_EXPORTED.items():
        others = [row(f"k{i:02d}", before) for i in range(29)]
        write_csv(paths, source, f"{source}_1.csv", [*others, row("changed", before)])
        write_csv(paths, source, f"{source}_2.csv", [row("changed", after)])
    landed = land_all(paths)
    mp = pytest.MonkeyPatch()
    mp.setenv("DATA_DIR", str(paths.root))
    models = [model for model, *_ in RE_EXPORTED.values()]
    result = dbtRunner().invoke(
        [
            *("run", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")),
            *("--select", *models),
        ]
    )
    mp.undo()
    assert result.success
    return paths, landed


def query(paths, sql):
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key(paths)])
        return con.execute(sql).fetchall()


def test_extracts_of_a_source_are_numbered_in_landing_order_and_every_row_carries_it(staged):
    paths, landed = staged
    for source in RE_EXPORTED:
        first, second = landed[source]
        assert (first.sequence, second.sequence) == (1, 2)
        orders = duckdb.sql(
            f"SELECT _landing_order FROM read_parquet('{paths.raw_for(source)}/*/*.parquet') ORDER BY 1"
        ).fetchall()
        expected = [LANDING_ORDER_STRIDE + n for n in range(1, 31)] + [2 * LANDING_ORDER_STRIDE + 1]
        assert [o for (o,) in orders] == expected, source


@pytest.mark.parametrize("source", RE_EXPORTED)
def test_staging_keeps_the_copy_landed_last_of_a_re_exported_record(staged, source):
    paths, _ = staged
    model, key, column, _, (before, after) = RE_EXPORTED[source]
    rows = dict(query(paths, f"SELECT {key}, CAST({column} AS VARCHAR) FROM main.{model}"))
    assert len(rows) == 30
    assert rows["changed"] == after
    assert {value for k, value in rows.items() if k != "changed"} == {before}
