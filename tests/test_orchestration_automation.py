"""The code location's shape, and what schedules and sensors ask for: no build, only evaluations."""

import json
import logging
import shutil
from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration import alerts
from orchestration.contracts import load_contracts
from orchestration.dbt_project import dbt_project, prepare_manifest
from orchestration.defs.landing import landing_asset_key, landing_assets
from orchestration.defs.resources import SETTINGS
from orchestration.json_logs import JsonLineFormatter, scrub
from orchestration.landing.land import land_source
from orchestration.lib.content_hash import content_hash
from tests.conftest import order, write_csv


@pytest.fixture(scope="module")
def defs():
    if not dbt_project.manifest_path.exists():
        prepare_manifest()
    from orchestration.definitions import defs

    return defs


def test_the_graph_runs_from_every_landing_asset_through_the_models_to_publish(defs):
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert {landing_asset_key(s) for s in load_contracts()} <= keys
    orders = graph.get(dg.AssetKey(["marts", "fct_orders"]))
    assert orders.group_name == "marts_commerce"
    assert orders.owners == ["team:analytics-engineering"]
    assert orders.metadata["pii_classes"]["customer_id"] == "pseudonymous"
    assert graph.get(dg.AssetKey(["stg_oms__orders"])).group_name == "staging_oms"
    assert graph.get(dg.AssetKey(["stg_oms__orders"])).owners == ["team:data-platform"]
    # The staging model reads the landing asset: the dbt source maps onto its key.
    assert landing_asset_key("orders") in graph.get(dg.AssetKey(["stg_oms__orders"])).parent_keys
    published = graph.get(dg.AssetKey(["published", "marts"]))
    marts = {k for k in keys if k.path[0] == "marts"}
    assert published.parent_keys == marts
    # Error-severity dbt tests are blocking checks; reconciliation blocks, freshness warns.
    checks = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert checks[dg.AssetCheckKey(dg.AssetKey(["marts", "fct_orders"]), "unique_fct_orders_order_id")].blocking
    revenue = dg.AssetKey(["marts", "revenue_daily"])
    assert checks[dg.AssetCheckKey(revenue, "reconciles_with_fct_orders_revenue_daily_")].blocking
    assert not checks[dg.AssetCheckKey(landing_asset_key("orders"), "fresh_extract")].blocking
    assert "daily_build" in {s.name for s in defs.schedules}
    assert {"inbox_sensor", "failure_alert_sensor"} <= {s.name for s in defs.sensors}


def test_the_daily_schedule_builds_yesterdays_partition(defs):
    schedule = defs.get_schedule_def("daily_build")
    request = schedule(dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 5, 2, 0, tzinfo=UTC)))
    assert (request.partition_key, request.run_key) == ("2026-11-04", "daily-2026-11-04")
    assert request.run_config["loggers"]["json"]["config"]["log_level"] == "INFO"
    assert schedule.job_name == "build_all"
    assert request.asset_selection is None  # the whole job


def test_the_inbox_sensor_asks_for_one_run_per_new_extract_and_none_for_a_repeated_one(defs, paths):
    sensor = defs.get_sensor_def("inbox_sensor")
    orders = write_csv(paths, "orders", "orders_1.csv", [order(order_id=f"o{i}") for i in range(30)])
    customers_bytes = "customer_id,store_id\n"  # content is irrelevant to the sensor, only its hash
    customers = paths.inbox_for("customers") / "customers_1.csv"
    customers.parent.mkdir(parents=True)
    customers.write_text(customers_bytes)
    # The same bytes under another name are the same extract.
    again = orders.with_name("orders_1_again.csv")
    shutil.copy(orders, again)

    def requested():
        with dg.instance_for_test() as instance:
            result = sensor(dg.build_sensor_context(instance=instance, resources=SETTINGS))
        return {(r.run_key, tuple(r.asset_selection), r.partition_key) for r in result.run_requests}

    today = datetime.now(UTC).date().isoformat()
    assert requested() == {
        (f"orders:{content_hash(orders)}", (landing_asset_key("orders"),), today),
        (f"customers:{content_hash(customers)}", (landing_asset_key("customers"),), today),
    }
    again.unlink()  # landing takes one copy of a file per pass (see the report on issue 5)
    land_source(paths, "orders")
    shutil.copy(orders, again)
    assert requested() == {(f"customers:{content_hash(customers)}", (landing_asset_key("customers"),), today)}


def test_a_failed_run_leaves_an_alert_naming_the_asset_and_check(defs, paths, capfd):
    bad = [order(order_id=f"x{i}", currency="XXX") for i in range(20)]
    write_csv(paths, "orders", "orders_bad.csv", [order(order_id="ok"), *bad])
    orders = next(a for a in landing_assets if a.key == landing_asset_key("orders"))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [orders], partition_key="2026-11-01", instance=instance, raise_on_error=False, resources=SETTINGS
        )
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        failure = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
        context = dg.build_run_status_sensor_context(
            sensor_name="failure_alert_sensor",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=failure,
            resources=SETTINGS,
        ).for_run_failure()
        capfd.readouterr()
        defs.get_sensor_def("failure_alert_sensor")(context)
    record = json.loads(alerts.alert_path(paths, result.run_id).read_text())
    detail = "orders/orders_bad.csv: 20 of 21 rows quarantined (not_allowed:currency: 20), more than 5%"
    assert record["failed_checks"] == [{"asset": "raw/orders", "check": "batch_expectations", "detail": detail}]
    assert [step["step"] for step in record["failed_steps"]] == ["raw__orders"]
    assert "1 blocking asset check failed" in record["failed_steps"][0]["error"]
    assert record["partitions"]["dagster/partition"] == "2026-11-01"
    assert (
        f"run {result.run_id} failed: steps raw__orders; failed checks raw/orders:batch_expectations"
        in capfd.readouterr().err
    )


def test_a_json_log_line_carries_the_run_id_and_no_personal_data():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "ignored", None, None)
    record.dagster_meta = {
        "run_id": "r-123",
        "job_name": "build_all",
        "step_key": "raw__customers",
        "dagster_event": None,
        "orig_message": "row 7 of customers: jane.doe@example.com from 203.0.113.9 called +44 20 7946 0958",
    }
    line = json.loads(JsonLineFormatter().format(record))
    assert line["run_id"] == "r-123"
    assert (line["job"], line["step"], line["level"]) == ("build_all", "raw__customers", "INFO")
    assert line["message"] == "row 7 of customers: <redacted> from <redacted> called <redacted>"
    # Dates, times and run ids are not mistaken for phone numbers or addresses.
    kept = "window 2026-11-01..2026-11-04 at 12:30:45, run 16b56d00-6f26-4e42-9922-8ff654319dc9"
    assert scrub(kept) == kept
