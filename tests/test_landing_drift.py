"""Schema drift is a finding, never silent: renamed or unknown columns and JSON keys quarantine
the file as schema_drift naming them (additive drift may be set to warn), a permuted header lands
the same rows, and values of another shape (an object for a string) are quarantined."""

import csv
import random

import duckdb

from orchestration.contracts import load_contracts
from orchestration.landing import readers
from orchestration.landing.land import land_source
from tests.conftest import ORDER, event, order, write_batches

AT = "2026-11-01T09:00:00.000Z"


def write_orders(paths, name, header, rows):
    target = paths.inbox_for("orders") / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[row.get(column, "") for column in header] for row in rows])


def renamed(row, old, new):
    return {(new if k == old else k): v for k, v in row.items()}


def test_a_renamed_or_added_csv_column_quarantines_the_file_naming_it(paths, monkeypatch):
    rows = [renamed(order(order_id=f"o{i}", discount_code="FALL10"), "discount_code", "promo_code") for i in range(20)]
    write_orders(paths, "orders_1.csv", list(rows[0]), rows)
    added = [{**order(order_id=f"a{i}"), "channel": "web"} for i in range(20)]
    write_orders(paths, "orders_2.csv", list(added[0]), added)
    rename, addition = land_source(paths, "orders")
    assert (rename.status, rename.reason) == ("rejected", readers.SCHEMA_DRIFT)
    assert rename.detail == "column(s) not in the contract: promo_code; contract column(s) absent: discount_code"
    assert (addition.status, addition.reason, addition.detail) == (
        "rejected", readers.SCHEMA_DRIFT, "column(s) not in the contract: channel"
    )  # fmt: skip
    assert rename.validation_failures == [f"orders/orders_1.csv: rejected, schema_drift: {rename.detail}"]

    # Set to warn, an added column lands with a warning; a rename is still quarantined.
    monkeypatch.setenv(readers.DRIFT_ENV, "warn")
    write_orders(paths, "orders_3.csv", list(added[0]), [{**r, "order_id": "w" + r["order_id"]} for r in added])
    write_orders(paths, "orders_4.csv", list(rows[0]), [{**r, "order_id": "r" + r["order_id"]} for r in rows])
    warned, still = land_source(paths, "orders")
    assert (warned.status, warned.rows_landed, warned.warnings) == (
        "landed", 20, ["schema_drift: column(s) not in the contract: channel"]
    )  # fmt: skip
    assert (still.status, still.reason) == ("rejected", readers.SCHEMA_DRIFT)


def test_a_permuted_header_lands_the_same_rows(paths):
    rows = [
        order(order_id=f"o{i}", subtotal=f"{i}.00", tax_amount=f"{i}.50", total_amount=f"{2 * i}.50") for i in range(30)
    ]
    names = [f.name for f in load_contracts()["orders"].fields]
    write_orders(paths, "orders_1_contract_order.csv", names, rows)
    write_orders(paths, "orders_2_reversed.csv", names[::-1], rows)
    write_orders(paths, "orders_3_shuffled.csv", random.Random(14).sample(names, len(names)), rows)
    records = land_source(paths, "orders")
    assert [r.rows_landed for r in records] == [30, 30, 30]
    glob = paths.raw_for("orders") / "*" / "*.parquet"
    landed = [
        duckdb.sql(
            f"SELECT * EXCLUDE (_extract_id, _landed_at, _landing_order) FROM '{glob}' "
            f"WHERE _extract_id = '{r.extract_id}' ORDER BY ALL"
        ).fetchall()
        for r in records
    ]
    assert landed[0] == landed[1] == landed[2]
    assert len(landed[0]) == 30 and set(ORDER) == set(names)


def batch(events):
    return [{"sent_at": AT, "received_at": AT, "events": events}]


def test_a_renamed_json_key_quarantines_the_file_naming_both_keys(paths, monkeypatch):
    old = [event(f"e{i}") for i in range(15)]
    new = [event(f"n{i}", properties={"page_url": "https://shop.example/p/1"}) for i in range(25)]
    write_batches(paths, "events_1.jsonl.gz", batch(old + new))
    [record] = land_source(paths, "events")
    assert (record.status, record.reason) == ("rejected", readers.SCHEMA_DRIFT)
    assert record.detail == "key(s) not in the contract: properties.page_url; contract key(s) absent: properties.url"

    # A key added beside the contract's displaces none, even optional keys a page view never has.
    monkeypatch.setenv(readers.DRIFT_ENV, "warn")
    added = [
        event(f"a{i}", context={"platform": "web", "user_agent": "Mozilla/5.0", "app_build": "7"}) for i in range(20)
    ]
    write_batches(paths, "events_2.jsonl.gz", batch(added))
    [record] = land_source(paths, "events")
    assert (record.status, record.rows_landed) == ("landed", 20)
    assert record.warnings == ["schema_drift: key(s) not in the contract: context.app_build"]


def test_an_object_where_a_string_is_expected_is_quarantined(paths):
    events = [event(f"e{i}") for i in range(40)]
    events.append(event("obj", context={"platform": "web", "ip": {"v4": "192.0.2.10"}}))
    write_batches(paths, "events_1.jsonl.gz", batch(events))
    [record] = land_source(paths, "events")
    assert record.quarantined_by_reason == {"invalid_type:ip": 1}
    assert record.rows_landed == 40


def money_x100(row):
    money = ("subtotal", "order_discount", "shipping_amount", "tax_amount", "total_amount")
    return {**row, **{k: f"{int(float(row[k]) * 100)}.00" for k in money}}


def test_money_in_cents_and_ids_of_another_pattern_fail_against_the_trailing_reference(paths):
    write_orders(paths, "orders_1.csv", list(ORDER), [order(order_id=f"ord-us-{i:05d}") for i in range(20)])
    [first] = land_source(paths, "orders")
    # no order has a discount: order_discount has no non-zero median, and is not checked
    assert (first.medians_by_store, first.key_shapes) == ({"us": {
        "shipping_amount": 5.0, "subtotal": 100.0, "tax_amount": 8.0, "total_amount": 113.0
    }}, {"x-x-9": 20})  # fmt: skip
    # Another store's amounts are not this store's reference.
    uk = [order(order_id=f"ord-uk-{i:05d}", store_id="uk", total_amount="9999.00") for i in range(10)]
    cents = [money_x100(order(order_id=f"ord-us-{i:05d}")) for i in range(20, 40)]
    write_orders(paths, "orders_2.csv", list(ORDER), cents + uk)
    write_orders(paths, "orders_3.csv", list(ORDER), [order(order_id=f"{i}") for i in range(20)])
    unit_change, new_ids = land_source(paths, "orders")
    assert unit_change.status == new_ids.status == "failed_validation"
    assert unit_change.validation_failures == [
        "expect_column_median_to_be_between(shipping_amount where store_id=='us' and shipping_amount!=0):"
        " observed 500.0",
        "expect_column_median_to_be_between(subtotal where store_id=='us' and subtotal!=0): observed 10000.0",
        "expect_column_median_to_be_between(tax_amount where store_id=='us' and tax_amount!=0): observed 800.0",
        "expect_column_median_to_be_between(total_amount where store_id=='us' and total_amount!=0): observed 11300.0",
    ]
    assert new_ids.validation_failures == ["expect_column_values_to_match_regex(order_id): 20 unexpected"]


def test_a_day_on_which_most_orders_ship_free_is_not_a_unit_change(paths):
    write_orders(paths, "orders_1.csv", list(ORDER), [order(order_id=f"ord-us-{i:05d}") for i in range(20)])
    land_source(paths, "orders")
    # 12 of 20 orders ship free: the median of all shipping amounts is 0.00, of the charged ones 5.00.
    quiet = [
        order(order_id=f"ord-us-{i:05d}", shipping_amount="0.00", total_amount="108.00") for i in range(20, 32)
    ] + [order(order_id=f"ord-us-{i:05d}") for i in range(32, 40)]
    write_orders(paths, "orders_2.csv", list(ORDER), quiet)
    [record] = land_source(paths, "orders")
    assert (record.status, record.validation_failures, record.rows_landed) == ("landed", [], 20)
    assert record.medians_by_store["us"]["shipping_amount"] == 5.0


def adjustment(i, **changes):
    return {
        "adjustment_id": f"adj{i}", "store_id": "us", "warehouse_id": "wh1", "product_id": "p1",
        "adjusted_at": "2026-11-02T09:00:00.000Z", "adjustment_type": "receipt", "quantity_delta": "5",
        "reference_id": f"po{i}", "lot_number": f"SKU-L{i:05d}", "expiry_date": "2027-05-01", **changes,
    }  # fmt: skip


def write_adjustments(paths, name, header, rows):
    target = paths.inbox_for("inventory_adjustments") / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_an_extract_from_before_lots_lands_and_a_lot_expiring_before_its_receipt_is_quarantined(paths):
    """Contract evolution: lot_number and expiry_date are optional, so a ledger exported before the
    warehouse recorded lots (no such columns) lands with NULL lots, no drift. In a later extract an
    expiry before the receipt's day is out of range, a day-first expiry is no date; an expiry on the
    receipt's own day is valid."""
    names = [f.name for f in load_contracts()["inventory_adjustments"].fields]
    old_header = [n for n in names if n not in ("lot_number", "expiry_date")]
    write_adjustments(paths, "inventory_adjustments_1.csv", old_header, [adjustment(i) for i in range(20)])
    rows = [adjustment(i) for i in range(20, 60)]
    rows[0]["expiry_date"] = "2026-11-01"  # the day before the receipt
    rows[1]["expiry_date"] = "01/05/2027"
    rows[2]["expiry_date"] = "2026-11-02"  # the receipt's own day
    write_adjustments(paths, "inventory_adjustments_2.csv", names, rows)
    old, new = land_source(paths, "inventory_adjustments")
    assert (old.status, old.rows_landed, old.warnings) == ("landed", 20, [])
    assert new.status == "landed"
    assert new.quarantined_by_reason == {"out_of_range:expiry_date": 1, "invalid_type:expiry_date": 1}
    glob = paths.raw_for("inventory_adjustments") / "*" / "*.parquet"
    landed = duckdb.sql(
        f"SELECT _extract_id = '{old.extract_id}', count(lot_number), count(expiry_date), count(*) "
        f"FROM '{glob}' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert landed == [(False, 38, 38, 38), (True, 0, 0, 20)]
