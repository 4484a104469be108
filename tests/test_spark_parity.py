"""The same dbt project on Spark: one `dbt build` of the seeds, models, data tests and dbt unit tests
of a small generated dataset on the Spark target, then every mart compared row for row with the
DuckDB build of the same landed data: money to the cent, rates to 1e-9. One JVM per dbt command
costs ~17 s, so the Spark side runs exactly one dbt command. The DuckDB side builds the seeds and
models only: its tests run in tests/test_warehouse_build.py."""

import hashlib
import hmac
import json
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from dbt.cli.main import dbtRunner

from orchestration.generator import GeneratorConfig, generate
from orchestration.governance.retention_state import share_with_spark
from orchestration.landing.land import land_all
from orchestration.ltv.by_store import predict_by_store
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths
from orchestration.spark_warehouse import read_spark_table_sql, spark_table_folder
from tests.test_ltv_spark_transform import valued_orders

pytestmark = pytest.mark.spark

DBT = str(Path(sys.executable).with_name("dbt"))
RATE_TOLERANCE = 1e-9
# The Spark build also runs the data tests and the dbt unit tests, in the same JVM.
SPARK_TESTS = ["--resource-type", "test", "--resource-type", "unit_test"]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("parity"))
    generate(paths, GeneratorConfig(days=2, stores=2, events_per_day=3000, seed=11))
    land_all(paths)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PII_HMAC_KEY", raising=False)
        mp.setenv("DATA_DIR", str(paths.root))
        share_with_spark(paths)
        common = ["--project-dir", ".", "--profiles-dir", "."]
        nodes = ["--resource-type", "seed", "--resource-type", "model"]
        duck = dbtRunner().invoke(["build", *common, *nodes, "--target-path", str(paths.root / "target-duckdb")])
        spark_target = paths.root / "target-spark"
        # one build into an empty warehouse: the catalog can live in the JVM, no Derby (profiles.yml)
        env = {**os.environ, "DBT_TARGET": "spark", "SPARK_CATALOG": "in-memory", "PYSPARK_PYTHON": sys.executable}
        spark = subprocess.run(
            [DBT, "build", *common, *nodes, *SPARK_TESTS, "--target-path", str(spark_target)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    run_results = json.loads((spark_target / "run_results.json").read_text())
    return paths, duck, spark, run_results


def spark_build_failures(run_results, kinds=("model", "seed", "operation"), passing=("success", "pass")) -> list:
    return [
        (r["unique_id"], r["status"], r["message"])
        for r in run_results["results"]
        if r["unique_id"].split(".")[0] in kinds and r["status"] not in passing
    ]


def models_and_seeds(unique_ids) -> set[str]:
    """The built nodes among a run's results; the on-run-start hooks are there too, as operations."""
    return {u for u in unique_ids if u.split(".")[0] in ("model", "seed")}


def test_the_spark_build_builds_every_model_and_seed(builds):
    _, duck, spark, run_results = builds
    assert duck.success
    # every result, the hooks included, succeeded
    assert spark_build_failures(run_results) == [], spark.stdout[-3000:]
    built_on_duckdb = models_and_seeds(r.node.unique_id for r in duck.result.results)
    assert models_and_seeds(r["unique_id"] for r in run_results["results"]) == built_on_duckdb
    assert len(built_on_duckdb) >= 80


def test_every_data_test_and_unit_test_passes_on_spark(builds):
    """The dbt build on Spark ran the data tests and unit tests of the models it built, and none
    failed (listed by name when some did). A test of severity warn that finds rows
    (inventory_count_mismatches, on wrong stock counts) warns; it does not fail."""
    paths, _, spark, run_results = builds
    kinds = ("test", "unit_test")
    ran = [r["unique_id"].split(".")[0] for r in run_results["results"] if r["unique_id"].split(".")[0] in kinds]
    assert spark_build_failures(run_results, kinds, passing=("pass", "warn")) == [], spark.stdout[-3000:]
    # every data test and unit test of the project ran, by the build's own manifest
    manifest = json.loads((paths.root / "target-spark" / "manifest.json").read_text())
    defined = [n["resource_type"] for n in [*manifest["nodes"].values(), *manifest["unit_tests"].values()]]
    assert ran.count("test") == defined.count("test") > 300
    assert ran.count("unit_test") == defined.count("unit_test") >= 49


def normalized(value):
    """Values as both engines' files read back in DuckDB, made comparable: instants in UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.timestamp()
    return value


def same_value(duck, spark) -> bool:
    if isinstance(duck, float) or isinstance(spark, float):
        if duck is None or spark is None:
            return duck is spark
        return math.isclose(duck, spark, rel_tol=RATE_TOLERANCE, abs_tol=RATE_TOLERANCE)
    return duck == spark


def sort_key(row):
    return tuple((v is None, round(v, 6) if isinstance(v, float) else v) for v in row)


def mart_tables(paths: DataPaths) -> dict[str, list[str]]:
    with duckdb.connect(str(paths.warehouse)) as con:
        return dict(
            con.execute(
                "SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns "
                "WHERE table_schema = 'marts' GROUP BY table_name"
            ).fetchall()
        )


def test_every_mart_on_spark_equals_duckdb_row_for_row(builds):
    paths, _, _, _ = builds
    tables = mart_tables(paths)
    assert {"kpis_daily", "fct_sessions", "traffic_sources_daily", "payments_daily", "dim_dates"} <= set(tables)
    differences, compared = {}, 0
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for table, columns in sorted(tables.items()):
            select = ", ".join(f'"{c}"' for c in columns)
            duck_rows = sorted(
                (tuple(map(normalized, r)) for r in con.execute(f"SELECT {select} FROM marts.{table}").fetchall()),
                key=sort_key,
            )
            has_files = any(spark_table_folder(paths, "marts", table).rglob("*.parquet"))
            spark_rows = (
                sorted(
                    (
                        tuple(map(normalized, r))
                        for r in con.execute(
                            f"SELECT {select} FROM {read_spark_table_sql(paths, 'marts', table)}"
                        ).fetchall()
                    ),
                    key=sort_key,
                )
                if has_files
                else []
            )
            mismatched = [
                (d, s)
                for d, s in zip(duck_rows, spark_rows, strict=False)
                if not all(same_value(a, b) for a, b in zip(d, s, strict=True))
            ]
            if len(duck_rows) != len(spark_rows) or mismatched:
                differences[table] = (len(duck_rows), len(spark_rows), mismatched[:2])
            compared += len(duck_rows)
    assert differences == {}, differences
    assert compared > 1000


def test_direct_sessions_are_direct_on_both_engines(builds):
    """The `^\\(direct\\)$` rule of the channel_groupings seed: a seed loaded as SQL literals on Spark
    must keep its backslashes, or every direct session would fall to Unassigned."""
    paths, _, _, _ = builds
    query = "SELECT channel_group, count(*) FROM {} WHERE source = '(direct)' GROUP BY 1"
    with duckdb.connect(str(paths.warehouse)) as con:
        duck = dict(con.execute(query.format("marts.fct_sessions")).fetchall())
        spark = dict(con.execute(query.format(read_spark_table_sql(paths, "marts", "fct_sessions"))).fetchall())
    assert set(duck) == {"Direct"}
    assert spark == duck


def test_dim_dates_weekdays_are_iso_on_spark(builds):
    paths, _, _, _ = builds
    sql = "SELECT iso_day_of_week, is_weekend FROM {} WHERE date IN ('2026-11-01', '2026-11-02') ORDER BY date"
    with duckdb.connect() as con:
        assert con.execute(sql.format(read_spark_table_sql(paths, "marts", "dim_dates"))).fetchall() == [
            (7, True),
            (1, False),
        ]


def test_spark_compiled_sql_and_logs_never_hold_the_key(builds):
    paths, _, spark, _ = builds
    key = hmac_key(paths)
    compiled = "".join(p.read_text() for p in (paths.root / "target-spark").rglob("*.sql"))
    assert "pseudonym" in compiled or "sha2(" in compiled
    assert key not in compiled
    assert key not in spark.stdout + spark.stderr
    logs = Path("logs/dbt.log")
    assert not logs.exists() or key not in logs.read_text(errors="ignore")


def test_spark_pseudonyms_are_the_keyed_hmac_python_computes(builds):
    paths, _, _, _ = builds
    key = hmac_key(paths).encode()
    with duckdb.connect() as con:
        user_ids = {
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT user_id FROM read_parquet('{paths.raw}/events/*/*.parquet') WHERE user_id IS NOT NULL"
            ).fetchall()
        }
        customers = {
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT customer_id FROM {read_spark_table_sql(paths, 'marts', 'fct_sessions')} "
                "WHERE customer_id IS NOT NULL"
            ).fetchall()
        }
    expected = {hmac.new(key, u.encode(), hashlib.sha256).hexdigest() for u in user_ids}
    assert customers
    assert customers <= expected


def spark_session_of_the_profile():
    """A local Spark session with the spark target's fixed settings (profiles.yml: literal strings,
    UTC), its catalog in memory."""
    from pyspark.sql import SparkSession

    profile = yaml.safe_load(Path("profiles.yml").read_text())["commerce_analytics"]["outputs"]["spark"]
    builder = SparkSession.builder.master("local[2]").config("spark.sql.catalogImplementation", "in-memory")
    for name, value in profile["server_side_parameters"].items():
        if "{{" not in str(value):
            builder = builder.config(name, str(value))
    return builder.getOrCreate()


def test_the_ltv_fit_on_spark_equals_the_duckdb_models(builds, tmp_path):
    """The parity data is too short a history to fit LTV (both engines predict nothing for its
    stores, and customer_ltv is compared above with its predictions NULL). So the model's SQL as dbt
    compiled it for Spark runs here on a year of orders of two stores, and a third store too small
    to fit: Spark's predictions equal, to the bit, those of the DuckDB Python model's fit of the
    same typed orders (orchestration/ltv/by_store.py)."""
    paths, _, _, _ = builds
    compiled = next((paths.root / "target-spark" / "compiled").rglob("int_customer_lifetimes_predicted.sql"))
    sql = compiled.read_text()
    assert sql.count("main.int_customer_orders_valued") == 1
    orders = valued_orders()
    expected = predict_by_store(orders, 12.0, "mbgnbd").to_pandas()
    planted = tmp_path / "orders.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM orders) TO '{planted}'")
    spark = spark_session_of_the_profile()
    try:
        spark.read.parquet(str(planted)).createOrReplaceTempView("planted_orders")
        got = spark.sql(sql.replace("main.int_customer_orders_valued", "planted_orders")).toPandas()
    finally:
        spark.stop()
    assert sorted(got["store_id"].unique()) == ["uk", "us"]
    assert got.groupby("store_id")["predicted_value"].count().to_dict() == {"uk": 400, "us": 400}
    got["model_as_of_at"] = pd.to_datetime(got["model_as_of_at"]).dt.tz_localize("UTC")
    key = ["store_id", "customer_id"]
    got, expected = (f.sort_values(key, ignore_index=True) for f in (got, expected))
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
