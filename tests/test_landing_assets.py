"""The landing assets in Dagster: the code location loads, and the expectations check gates."""

from pathlib import Path

import dagster as dg

from orchestration.contracts import load_contracts
from orchestration.defs.landing import EXPECTATIONS_CHECK, landing_asset_key, landing_assets
from orchestration.defs.partitions import daily_partitions
from orchestration.defs.resources import SETTINGS
from orchestration.governance.classification import staging_models_by_source
from tests.conftest import order, write_csv


def test_code_location_has_a_landing_asset_with_a_blocking_check_per_contract():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assert {landing_asset_key(s) for s in load_contracts()} <= set(graph.get_all_asset_keys())
    for source in load_contracts():
        check = dg.AssetCheckKey(landing_asset_key(source), EXPECTATIONS_CHECK)
        assert check in graph.get(landing_asset_key(source)).check_keys
        assert graph.get_check_spec(check).blocking
    orders = graph.get(landing_asset_key("orders"))
    assert orders.metadata["pii_classes"]["customer_id"] == "medium"


def test_each_landed_tables_dbt_source_is_its_landing_asset_upstream_of_its_staging_model():
    from orchestration.definitions import defs

    # One dbt source per system (`source('oms', 'orders')`), mapped onto the landing asset `raw/orders`.
    graph = defs.resolve_asset_graph()
    staging = staging_models_by_source(Path("models"))
    for source in load_contracts():
        assert dg.AssetKey([staging[source]]) in graph.get(landing_asset_key(source)).child_keys, source
    systems = {c.source_system for c in load_contracts().values()}
    assert [k for k in graph.get_all_asset_keys() if k.path[0] in systems] == []


@dg.asset(
    deps=[landing_asset_key("orders")],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def downstream_of_orders() -> None:
    """Stands in for the models that read landed orders."""


def materialize_orders():
    orders_asset = next(a for a in landing_assets if a.key == landing_asset_key("orders"))
    return dg.materialize(
        [orders_asset, downstream_of_orders],
        partition_key="2026-11-01",
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        resources=SETTINGS,
    )


def materialized(result, key):
    return [
        e.event_specific_data.materialization.partition
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.event_specific_data.materialization.asset_key == key
    ]


def test_a_good_batch_passes_its_check_and_lets_downstream_run(paths):
    rows = [order(order_id=f"o{i}") for i in range(30)]
    rows += [order(order_id="late", placed_at="2026-10-30T12:00:00.000Z")]
    write_csv(paths, "orders", "orders_20261101.csv", rows)
    result = materialize_orders()
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    # The late row's partition is recorded as materialized too.
    assert sorted(materialized(result, landing_asset_key("orders"))) == ["2026-10-30", "2026-11-01"]
    assert materialized(result, downstream_of_orders.key) == ["2026-11-01"]


def test_a_batch_failing_its_expectations_blocks_everything_downstream(paths):
    good = [order(order_id=f"o{i}") for i in range(20)]
    bad = [order(order_id=f"x{i}", currency="XXX") for i in range(20)]
    write_csv(paths, "orders", "orders_20261101.csv", good + bad)
    result = materialize_orders()
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    failed = evaluation.metadata["failed_extracts"].value
    assert failed == {
        "orders/orders_20261101.csv": [
            "orders/orders_20261101.csv: 20 of 40 rows quarantined (not_allowed:currency: 20), more than 5%"
        ]
    }
    assert materialized(result, downstream_of_orders.key) == []
    assert not paths.raw_for("orders").exists() or not any(paths.raw_for("orders").rglob("*.parquet"))


def test_a_rejected_file_fails_the_check_naming_the_file_and_its_reason(paths):
    write_csv(paths, "orders", "orders_20261101.csv", [order(order_id=f"o{i}") for i in range(30)])
    (paths.inbox_for("orders") / "orders_20261102.csv").write_text("order_id;store_id;customer_id\no1;us;c1\n")
    result = materialize_orders()
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.blocking
    reason = "orders/orders_20261102.csv: rejected, wrong_delimiter: columns are separated by semicolon"
    assert evaluation.description == f"{reason}, the contract's by comma"
    assert list(evaluation.metadata["failed_extracts"].value) == ["orders/orders_20261102.csv"]
    assert materialized(result, downstream_of_orders.key) == []
    # The good file beside it landed and is recorded; the rejected one will not be landed again.
    assert len(list(paths.raw_for("orders").rglob("*.parquet"))) == 1


def test_a_failure_that_cannot_pass_is_not_retried(paths, monkeypatch):
    from orchestration.landing import readers

    def broken(*args):
        raise ValueError("a landing bug")

    monkeypatch.setattr(readers, "load_raw", broken)
    write_csv(paths, "orders", "orders_20261101.csv", [order(order_id=f"o{i}") for i in range(30)])
    result = materialize_orders()
    assert not result.success
    steps = [e for e in result.all_events if e.event_type_value in ("STEP_FAILURE", "STEP_UP_FOR_RETRY")]
    [failure] = steps  # failed once, not up for retry
    assert failure.event_type_value == "STEP_FAILURE"
    assert "orders_20261101.csv: ValueError: a landing bug" in failure.event_specific_data.error.message
