"""The pipeline on the Spark target (DBT_TARGET=spark): the same Dagster build job builds the dbt
models on Spark with every error-severity dbt test as a blocking asset check, and publishes the
marts from Spark's Parquet tables to the analysts' marts.duckdb.

Each run builds stg_oms__stores and dim_stores, one dbt command (one JVM, ~20-60 s), into an empty
warehouse, so the catalog lives in the JVM (SPARK_CATALOG=in-memory, as in the parity suite): one
run publishes, one with a planted bad store row stops before publishing."""

import shutil

import dagster as dg
import duckdb
import pytest

from orchestration import warehouse
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing.land import land_all
from orchestration.publish import published_path
from orchestration.settings import DataPaths
from tests.conftest import build_range

pytestmark = pytest.mark.spark

CONFIG = GeneratorConfig(days=1, stores=1, events_per_day=1000, seed=11)
DIM_STORES = dg.AssetKey(["marts", "dim_stores"])
PUBLISHED_KEY = dg.AssetKey(["published", "marts"])
# dim_stores, its staging view (not the landing asset: the data is landed already) and publishing.
SELECTION = (
    dg.AssetSelection.assets(DIM_STORES).upstream() - dg.AssetSelection.groups("landing")
) | dg.AssetSelection.assets(PUBLISHED_KEY)
CURRENCY_CHECK = "contract_values_stg_oms__stores"


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> DataPaths:
    """One day of one store, generated and landed once; each test builds on a copy."""
    paths = DataPaths(tmp_path_factory.mktemp("landed") / "data")
    generate(paths, CONFIG)
    land_all(paths)
    return paths


@pytest.fixture
def on_spark(landed, tmp_path, monkeypatch) -> DataPaths:
    paths = DataPaths(tmp_path / "data")
    shutil.copytree(landed.root, paths.root)
    monkeypatch.setenv("DATA_DIR", str(paths.root))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("PII_HMAC_KEY", raising=False)
    monkeypatch.setenv("DBT_TARGET", "spark")
    monkeypatch.setenv("SPARK_CATALOG", "in-memory")  # one dbt command into an empty warehouse
    return paths


def run():
    return build_range(CONFIG.start_date, CONFIG.start_date, SELECTION)


def step_failures(result) -> list[str]:
    """Why a run did not succeed: each failed step with its error, causes included."""
    return [
        f"{e.step_key}: {e.step_failure_data.error.to_string()}"
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]


def materialized_keys(result) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def check_evaluations(result) -> list:
    """Every check evaluated in the run, from its events (a failed step's included)."""
    return [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]


def raw_stores(paths: DataPaths) -> str:
    return f"read_parquet('{paths.raw_for('stores')}/*/*.parquet')"


def test_a_spark_build_publishes_its_marts_to_duckdb(on_spark):
    paths = on_spark
    result = run()
    assert result.success, step_failures(result) or [str(e.message) for e in result.all_events[-5:]]
    assert {DIM_STORES, PUBLISHED_KEY} <= materialized_keys(result)
    evaluations = check_evaluations(result)
    assert CURRENCY_CHECK in {e.check_name for e in evaluations}
    assert all(e.passed for e in evaluations)
    assert warehouse.built_target(paths) == "spark"
    # publishing typed the marts by the contracts of the run's own dbt manifest, parsed for Spark
    assert warehouse.built_manifest(paths) == paths.root / "dbt" / result.run_id[:8] / "manifest.json"
    assert not paths.warehouse.exists()  # nothing was built on DuckDB
    with duckdb.connect() as con:
        expected = con.execute(f"select store_id, currency, time_zone from {raw_stores(paths)} order by 1").fetchall()
    with duckdb.connect(str(published_path(paths)), read_only=True) as con:
        published = con.execute("select store_id, currency, time_zone from dim_stores order by 1").fetchall()
        types = dict(con.execute("select column_name, column_type from (describe dim_stores)").fetchall())
    assert published == expected and len(published) == CONFIG.stores
    assert types["opened_at"] == "TIMESTAMP WITH TIME ZONE"  # the contract's type, not Parquet's


def test_a_failing_dbt_test_on_spark_blocks_publishing(on_spark):
    paths = on_spark
    [landed] = paths.raw_for("stores").glob("*/*.parquet")
    planted = landed.with_name("planted.parquet")
    duckdb.sql(f"copy (select * replace ('XXX' as currency) from '{landed}') to '{planted}' (format parquet)")
    planted.replace(landed)
    result = run()
    assert not result.success
    [evaluation] = [e for e in check_evaluations(result) if e.check_name == CURRENCY_CHECK]
    assert evaluation.asset_key == dg.AssetKey(["stg_oms__stores"])
    assert not evaluation.passed
    assert evaluation.blocking
    assert PUBLISHED_KEY not in materialized_keys(result)
    assert not published_path(paths).exists()
    assert warehouse.built_by(paths) is None
