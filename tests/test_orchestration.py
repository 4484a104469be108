"""The whole pipeline through Dagster on tiny generated data: landing -> dbt -> checks -> publish,
and every gate: a planted failure of each kind stops everything downstream and leaves the
published marts byte for byte as they were.

The commerce marts and what they stand on are built (the clickstream and operations marts have
tests of their own); one build is shared, and each failure test works on a copy of its DATA_DIR.
"""

import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from datetime import date

import dagster as dg
import duckdb
import pytest

from orchestration import warehouse
from orchestration.dbt_project import prepare_manifest
from orchestration.generator import GeneratorConfig, generate
from orchestration.publish import published_digests, published_path
from orchestration.settings import DataPaths
from tests.conftest import build_range, order, write_csv

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 3)
REVENUE = dg.AssetKey(["marts", "revenue_daily"])
FACTS = dg.AssetKey(["marts", "fct_orders"])
PUBLISHED_KEY = dg.AssetKey(["published", "marts"])
PUBLISHED = dg.AssetSelection.assets(PUBLISHED_KEY)
# The dbt test holding revenue_daily to fct_orders, a blocking check like every error-severity one.
RECONCILED = dg.AssetCheckKey(REVENUE, "reconciles_with_fct_orders_revenue_daily_")
RECONCILIATION = dg.AssetSelection.checks(RECONCILED)
# The order-side marts: every parent of their relationship tests is among them.
ORDER_MARTS = ["dim_stores", "dim_products", "fct_orders", "fct_order_items", "fct_payments", "fct_refunds"]
ORDER_MARTS += ["fct_returns", "fct_shipments", "revenue_daily"]
COMMERCE_MODELS = dg.AssetSelection.assets(*(["marts", m] for m in ORDER_MARTS)).upstream() - dg.AssetSelection.groups(
    "landing"
)
# The smallest build: dim_stores and its staging view.
STORES_MODELS = dg.AssetSelection.assets(["marts", "dim_stores"]).upstream() - dg.AssetSelection.groups("landing")
COMMERCE = dg.AssetSelection.groups("landing") | COMMERCE_MODELS | PUBLISHED


def run(selection=COMMERCE, **dbt_config):
    return build_range(FIRST, LAST, selection, **dbt_config)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    paths = DataPaths(tmp_path_factory.mktemp("built") / "data")
    mp.setenv("DATA_DIR", str(paths.root))
    mp.delenv("DAGSTER_HOME", raising=False)
    generate(paths, GeneratorConfig(days=3, stores=1, events_per_day=1000, seed=11))
    prepare_manifest()
    result = run()
    pristine = tmp_path_factory.mktemp("pristine") / "data"
    shutil.copytree(paths.root, pristine)
    yield paths, result, pristine
    mp.undo()


@pytest.fixture
def planted(built):
    """The built DATA_DIR for a test that plants something in it, restored afterwards.

    The same path, not a copy elsewhere: dbt parses from scratch when its profile (which names
    the warehouse under DATA_DIR) changes, and reuses the manifest's parse when it does not.
    """
    paths, _, pristine = built
    yield paths
    shutil.rmtree(paths.root)
    shutil.copytree(pristine, paths.root)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def materialized_keys(result) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def failed_checks(result) -> set[tuple[str, str]]:
    return {
        (e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    }


def query(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_one_run_lands_builds_checks_and_publishes_the_marts(built):
    paths, result, _ = built
    assert result.success
    assert {REVENUE, FACTS, PUBLISHED_KEY, dg.AssetKey(["raw", "orders"])} <= materialized_keys(result)
    assert failed_checks(result) == set()
    # The dbt tests ran as checks, and the reconciliation passed on every store-day.
    [recon] = [e for e in result.get_asset_check_evaluations() if e.check_name == RECONCILED.name]
    assert recon.passed and recon.blocking and recon.metadata["dagster_dbt/failed_row_count"].value == 0
    fact_checks = {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == FACTS}
    assert {"unique_fct_orders_order_id", "not_null_fct_orders"} <= set(fact_checks)
    assert all(e.passed and e.blocking for e in fact_checks.values())
    # The published copy is read-only and holds the warehouse's revenue_daily, row for row.
    published = published_path(paths)
    assert published.stat().st_mode & 0o777 == 0o444
    sql = "select store_id, date, orders, gmv, net_revenue_usd from marts.revenue_daily order by all"
    assert query(published, sql) == query(paths.warehouse, sql)
    # Its orders are the landed, non-cancelled orders (latest row per order).
    [(landed,)] = duckdb.sql(
        f"""select count(*) from (
            select * from read_parquet('{paths.raw}/orders/*/*.parquet')
            qualify row_number() over (partition by order_id order by updated_at desc) = 1
        ) where status <> 'cancelled'"""
    ).fetchall()
    [(orders,)] = query(published, "select sum(orders) from marts.revenue_daily")
    assert orders == landed > 0
    assert warehouse.built_by(paths) == result.run_id


def test_the_range_runs_as_one_dbt_build_named_by_its_window_start(built):
    paths, result, _ = built
    lines = [json.loads(line) for line in (paths.root / "logs" / "runs.jsonl").read_text().splitlines()]
    dbt_commands = [line["message"] for line in lines if " dbt build" in line["message"]]
    # Unit tests are CI's (`make test`), not the data build's.
    excluded = "--exclude-resource-type unit_test"
    command = f"dbt build --indirect-selection cautious {excluded}"
    assert dbt_commands == [f"DBT_TARGET=dev DBT_WINDOW_START=2026-11-01 {command}"]
    # The window is no dbt var, so the build reused the prepared parse instead of parsing again.
    dbt_logs = [log.read_text() for log in (paths.root / "dbt").glob("*/dbt.log")]
    assert dbt_logs and all("Nothing changed, skipping partial parsing." in log for log in dbt_logs)
    # Structured logs: every line is JSON and carries the run id as correlation id.
    assert {line["run_id"] for line in lines} == {result.run_id}
    assert all("@" not in line["message"] for line in lines)


def test_the_kpi_summary_reads_the_published_marts(built, capsys):
    from orchestration.cli import _print_kpis

    paths, _, _ = built
    _print_kpis(paths, LAST)
    out = capsys.readouterr().out.splitlines()
    [(orders, gmv)] = query(published_path(paths), f"select orders, gmv from marts.revenue_daily where date = '{LAST}'")
    assert out[1] == f"KPIs of {LAST} (store-local date) from revenue_daily:"
    printed = dict(zip(out[2].split(), out[4].split(), strict=True))
    assert (printed["store_id"], printed["orders"], printed["gmv"]) == ("us", str(orders), str(gmv))
    assert out[-1] == "(1 row)"


def test_a_batch_failing_its_expectations_stops_the_models_and_publish(planted):
    before = sha256(published_path(planted))
    good = [order(order_id=f"ord-late-{i}", placed_at="2026-11-02T10:00:00.000Z") for i in range(20)]
    bad = [order(order_id=f"ord-bad-{i}", currency="XXX", placed_at="2026-11-02T10:00:00.000Z") for i in range(20)]
    write_csv(planted, "orders", "orders_late.csv", good + bad)
    result = run()
    assert not result.success
    assert failed_checks(result) == {("raw/orders", "batch_expectations")}
    assert materialized_keys(result) & {REVENUE, FACTS, PUBLISHED_KEY} == set()
    assert sha256(published_path(planted)) == before
    [alert] = (planted.root / "alerts").glob("*.json")
    record = json.loads(alert.read_text())
    assert record["run_id"] == result.run_id
    detail = "orders/orders_late.csv: 20 of 40 rows quarantined (not_allowed:currency: 20), more than 5%"
    assert record["failed_checks"] == [{"asset": "raw/orders", "check": "batch_expectations", "detail": detail}]
    assert [s["step"] for s in record["failed_steps"]] == ["raw__orders"]


def test_a_file_rejected_whole_stops_the_day_and_the_alert_names_it(planted):
    before = sha256(published_path(planted))
    rows = [order(order_id=f"ord-late-{i}", placed_at="2026-11-02T10:00:00.000Z") for i in range(20)]
    target = write_csv(planted, "orders", "orders_semicolons.csv", rows)
    target.write_text(target.read_text().replace(",", ";"))
    result = run()
    assert not result.success
    assert failed_checks(result) == {("raw/orders", "batch_expectations")}
    assert materialized_keys(result) & {REVENUE, FACTS, PUBLISHED_KEY} == set()
    assert sha256(published_path(planted)) == before
    [alert] = (planted.root / "alerts").glob("*.json")
    [check] = json.loads(alert.read_text())["failed_checks"]
    assert check["detail"] == (
        "orders/orders_semicolons.csv: rejected, wrong_delimiter: columns are separated by semicolon, "
        "the contract's by comma"
    )


def test_a_failing_dbt_test_stops_publish(planted):
    before = sha256(published_path(planted))
    stores = planted.raw_for("stores")
    [landed] = stores.glob("*/*.parquet")
    bad_row = landed.parent / "part-planted.parquet"
    duckdb.sql(f"copy (select * replace (null as store_id) from '{landed}') to '{bad_row}' (format parquet)")
    result = run(STORES_MODELS | PUBLISHED)
    assert not result.success
    assert ("stg_oms__stores", "not_null_stg_oms__stores") in failed_checks(result)
    assert PUBLISHED_KEY not in materialized_keys(result)
    assert sha256(published_path(planted)) == before
    assert warehouse.built_by(planted) is None  # a failed build is never published, by any run


def test_a_failing_reconciliation_stops_publish(planted):
    before = sha256(published_path(planted))
    with duckdb.connect(str(planted.warehouse)) as con:
        [(stores,)] = con.execute(
            "update marts.revenue_daily set gmv = gmv + 1 where date = '2026-11-02' and orders > 0"
        ).fetchall()
    result = run(RECONCILIATION | PUBLISHED)
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == RECONCILED.name and not evaluation.passed
    # one failing row per store-day whose GMV no longer equals the facts'
    assert stores >= 1 and evaluation.metadata["dagster_dbt/failed_row_count"].value == stores
    assert PUBLISHED_KEY not in materialized_keys(result)
    assert sha256(published_path(planted)) == before


TWO_RUNS_SCRIPT = """
import json, sys
from tests.test_orchestration import COMMERCE_MODELS, PUBLISHED, run
result = run(COMMERCE_MODELS | PUBLISHED, full_refresh={full_refresh})
# One materialization per partition of the range, all with the same metadata.
digests = result.asset_materializations_for_node("published__marts")[0].metadata.get("digests")
print(json.dumps(digests.value if digests else None))
sys.exit(0 if result.success else 1)
"""


def warehouse_holds(paths, skip_run: str) -> list[tuple[str, str, str]]:
    """(run id, acquired at, released at) of every hold of the warehouse lock, from the JSON logs."""
    lines = [json.loads(line) for line in (paths.root / "logs" / "runs.jsonl").read_text().splitlines()]
    acquired, holds = {}, []
    for line in lines:
        if line["run_id"] == skip_run:
            continue
        if line["message"] == "warehouse lock acquired":
            acquired[line["run_id"]] = line["at"]
        elif line["message"] == "warehouse lock released":
            holds.append((line["run_id"], acquired.pop(line["run_id"]), line["at"]))
    return holds


def test_two_runs_at_once_take_turns_on_the_warehouse_and_both_equal_the_range_build(built, planted):
    # Two processes, as two terminals or a schedule beside a CLI run would be: one builds the
    # 3-day range again, the other with a full refresh. Both succeed, never inside the warehouse
    # at the same time, and whichever publishes (the one that built last) publishes the marts
    # the fixture's range build published.
    before = published_digests(published_path(planted))
    prepare_manifest()  # the processes load the models as they are now
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_RUNS_SCRIPT.format(full_refresh=full_refresh)], stdout=subprocess.PIPE, text=True
        )
        for full_refresh in (False, True)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in runs]
    assert [process.returncode for process in runs] == [0, 0]
    holds = warehouse_holds(planted, skip_run=built[1].run_id)
    assert len({run_id for run_id, _, _ in holds}) == 2
    assert len(holds) == 4  # per run: the dbt build (its tests included), publishing
    spans = sorted((start, end) for _, start, end in holds)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
    published = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    assert [digests for digests in published if digests] in ([before], [before, before])
    assert published_digests(published_path(planted)) == before
