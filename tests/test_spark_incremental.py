"""The incremental build on Spark: insert_overwrite by store and date partition reopens and replaces
what DuckDB's delete+insert does. The clickstream chain (every incremental model from the
classified events to the session, page-view, traffic, active-user, search and funnel marts, with what
they read), and the sensor readings' evaluation and the device days, are built on Spark from two days of deliveries,
then again incrementally after a late delivery about the first day
(tests/test_incremental_build.py's: a consent withdrawal between a device's events, an offline
batch with a login, a login that re-stitches a device's visits of both days, a sensor reading
re-sent, a device's activation registered after its readings, and another store's corrected
customer address), and compared row for row with a DuckDB
full refresh of the same landed data. The Spark builds run in one Python process, so one JVM and
its in-memory catalog serve them all. A third build, after a late withdrawal that empties a day
(the lone visitor's), removes that day's rows on Spark too: Parquet has no DELETE, so each vanished
partition is overwritten with no rows. Then a customer is erased, and a retention purge two years
on closes the first days, each rewriting Spark's Parquet files, and a last build keeps what the
purge closed: every table equal to the DuckDB full refresh erased, purged and built the same way.
The erasure's rebuild is a dbt build in the same process (the one Dagster runs starts a JVM, whose
in-memory catalog would not know the tables), recorded as the Dagster build records its own."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.bench.stages import deliver
from orchestration.dbt_project import WINDOW_START_ENV
from orchestration.governance.pseudonyms import pseudonym
from orchestration.governance.purge import purge
from orchestration.landing.land import land_all
from orchestration.settings import DataPaths
from orchestration.spark_warehouse import read_spark_table_sql, spark_table_folder
from tests.test_incremental_build import (
    BOOKKEEPING,
    DAYS,
    FIRST_DAY,
    INTERMEDIATE,
    KEY,
    LATE_DAY,
    LONE_DAY,
    NO_LOOKBACK,
    OFFLINE_DEVICE,
    WITHDRAWAL_DAY,
    _late_deliveries,
    generated_history,
)
from tests.test_spark_parity import normalized, same_value, sort_key

pytestmark = pytest.mark.spark

# The clickstream's incremental models and everything they read (their seeds included).
CHAIN = ["+fct_sessions", "+fct_page_views", "+traffic_sources_daily", "+active_users_daily", "+funnel_daily"]
CHAIN += ["+funnel_visitors_daily", "+product_funnel_daily", "+search_terms_daily", "+int_device_days_summarized"]
NODES = ["--resource-type", "seed", "--resource-type", "model"]
COMMON = ["--project-dir", ".", "--profiles-dir", ".", "--select", *CHAIN, *NODES, *NO_LOOKBACK]

# Run in a process of its own: a JVM whose in-memory catalog the four builds share, and which ends
# with it. Before the second build it lands the late delivery already waiting in the inbox; before
# the third, the withdrawal held back until the second was built (it prints the lone day's sessions
# then). After the third it keeps a copy of the warehouse (the tests of the first three builds read
# it), erases a customer (whose rebuild is a fourth build), purges, and builds a fifth time.
SPARK_BUILDS = """
import json, os, shutil, sys
from datetime import date
from pathlib import Path
import duckdb
from dbt.cli.main import dbtRunner
from orchestration.landing.land import land_all
from orchestration.governance.purge import purge
from orchestration.dbt_project import WINDOW_START_ENV
from orchestration.governance.retention_state import share_with_spark
from orchestration.settings import DataPaths
from orchestration.spark_warehouse import read_spark_table_sql
from tests.test_incremental_build import LONE_DAY
from tests.test_spark_incremental import erase_in_process

paths, common, windows = DataPaths(Path(sys.argv[1])), json.loads(sys.argv[2]), json.loads(sys.argv[3])
later, before_purge = DataPaths(Path(sys.argv[4])), DataPaths(Path(sys.argv[5]))
as_of, after_purge, erased = date.fromisoformat(sys.argv[6]), sys.argv[7], DataPaths(Path(sys.argv[8]))
share_with_spark(paths)
target = ["--target-path", str(paths.root / "target-spark")]
if not dbtRunner().invoke(["build", *common, *target]).success:
    sys.exit("first Spark build failed")
for build, window in enumerate(windows, start=2):
    land_all(paths)
    os.environ[WINDOW_START_ENV] = window
    if not dbtRunner().invoke(["build", *common, *target]).success:
        sys.exit(f"incremental Spark build {build} failed")
    if build == 2:  # the next delivery comes in once this one is built
        with duckdb.connect() as con:
            sessions = read_spark_table_sql(paths, "marts", "fct_sessions")
            [(lone,)] = con.execute(f"SELECT count(*) FROM {sessions} WHERE session_date = ?", [LONE_DAY]).fetchall()
        print(json.dumps({"lone_day_sessions": lone}))
        for held in later.inbox.rglob("*.*"):
            moved = paths.inbox / held.relative_to(later.inbox)
            moved.parent.mkdir(parents=True, exist_ok=True)
            held.rename(moved)
shutil.copytree(paths.spark_warehouse, before_purge.spark_warehouse)
shutil.copytree(paths.root / "target-spark", before_purge.root / "target-spark")
print(json.dumps({"erased": erase_in_process(paths, [*common, *target])}))
shutil.copytree(paths.spark_warehouse, erased.spark_warehouse)
purge(paths, as_of, paths.root / "target-spark" / "manifest.json")
share_with_spark(paths)  # the build reads the purge's date
os.environ[WINDOW_START_ENV] = after_purge
if not dbtRunner().invoke(["build", *common, *target]).success:
    sys.exit("Spark build after the purge failed")
"""
# 731 days after the first day: the first two days are closed to the daily marts, the later ones
# open; page paths and referrers (class low, 730 days) are gone from the first day and before;
# every value of a shorter-kept class is gone.
PURGE_AS_OF = FIRST_DAY + timedelta(days=731)
AFTER_PURGE = WITHDRAWAL_DAY
# The erasure's rebuild: the last day only (the product's rebuilds every open day), so the rows
# naming the customer on the other days are left to the erasure's own deletion, file by file on Spark.
ERASURE_REBUILD = AFTER_PURGE


def erase_in_process(paths: DataPaths, dbt_build: list[str]) -> dict:
    """Erase the first customer of the landed orders (by store and id), the warehouse rebuilt by
    `dbt build` + `dbt_build`: on Spark in this process (its JVM), on DuckDB in a process of its
    own, as Dagster runs it (this one keeps a DuckDB dbt opened, which the erasure's compaction
    could not attach again); the rows naming them in the warehouse before and after, and the rows
    removed per place."""
    import orchestration.runner
    from orchestration import warehouse
    from orchestration.governance.erase import erase, warehouse_rows_naming
    from orchestration.governance.subject import find_subject
    from orchestration.settings import dbt_target

    def rebuild_since(paths: DataPaths, since) -> SimpleNamespace:
        args = ["build", *dbt_build]
        if dbt_target() == "spark":
            success = dbtRunner().invoke(args).success
        else:
            success = subprocess.run([Path(sys.executable).with_name("dbt"), *args], check=False).returncode == 0
        target = Path(dbt_build[dbt_build.index("--target-path") + 1])
        warehouse.record_build(paths, "rebuild-in-process", dbt_target(), manifest=target / "manifest.json")
        return SimpleNamespace(success=success, run_id="rebuild-in-process")

    orders = f"read_parquet('{paths.raw_for('orders')}/*/*.parquet')"
    [(store, customer)] = duckdb.sql(f"SELECT store_id, customer_id FROM {orders} ORDER BY ALL LIMIT 1").fetchall()
    subject = find_subject(paths, store, customer)
    pseudonyms = [subject.keyed_hash(v, paths) for v in subject.pseudonymized]
    before = warehouse_rows_naming(paths, pseudonyms)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(orchestration.runner, "rebuild_since", rebuild_since)
        mp.setenv(WINDOW_START_ENV, ERASURE_REBUILD.isoformat())
        removed = erase(paths, store, customer)
    return {"before": before, "after": warehouse_rows_naming(paths, pseudonyms), "removed": removed}


@dataclass
class Builds:
    spark: DataPaths  # the Spark warehouse after the third build
    full: DataPaths  # the DuckDB full refresh of the same data
    planted: object  # the late deliveries
    spark_erased: DataPaths  # the Spark warehouse after the erasure (and its rebuild)
    spark_purged: DataPaths  # the Spark warehouse purged, then built a fourth time
    full_purged: DataPaths  # the DuckDB full refresh purged, then built incrementally the same way
    spark_erasure: dict  # rows naming the erased customer in Spark's warehouse before and after, rows removed
    duckdb_erasure: dict  # the same on DuckDB


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark-incremental")
    generated = generated_history(root)
    spark, full = DataPaths(root / "spark"), DataPaths(root / "full")
    for paths in (spark, full):
        for offset in range(DAYS):
            deliver(generated, paths, FIRST_DAY + timedelta(days=offset))
        land_all(paths)
    # the late delivery, chosen from the landed history, waits in both inboxes; the withdrawal that
    # empties the lone day waits for the third Spark build
    planted = _late_deliveries(spark)
    later = DataPaths(root / "later")
    for paths in (spark, full):
        planted(paths)
    planted.withdraw(later)
    planted.withdraw(full)
    land_all(full)
    env = {**os.environ, "PII_HMAC_KEY": KEY, "DATA_DIR": str(spark.root), "DBT_TARGET": "spark"}
    env["SPARK_CATALOG"] = "in-memory"
    windows = json.dumps([str(day) for day in (LATE_DAY, WITHDRAWAL_DAY)])
    before_purge = DataPaths(root / "spark-before-purge")
    arguments = [str(spark.root), json.dumps(COMMON), windows, str(later.root), str(before_purge.root)]
    erased = DataPaths(root / "spark-erased")
    arguments += [PURGE_AS_OF.isoformat(), AFTER_PURGE.isoformat(), str(erased.root)]
    process = subprocess.run(
        [sys.executable, "-c", SPARK_BUILDS, *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 0, (process.stderr or process.stdout)[-3000:]
    printed = {
        k: v for line in process.stdout.splitlines() if line.startswith("{") for k, v in json.loads(line).items()
    }
    planted.lone_day_sessions = printed["lone_day_sessions"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PII_HMAC_KEY", KEY)
        mp.setenv("DATA_DIR", str(full.root))
        mp.delenv("DBT_TARGET", raising=False)
        result = dbtRunner().invoke(["build", *COMMON, "--full-refresh", "--target-path", str(full.root / "target")])
        assert result.success
        full_purged = DataPaths(root / "full-purged")
        shutil.copytree(full.root, full_purged.root)
        mp.setenv("DATA_DIR", str(full_purged.root))
        target = ["--target-path", str(full_purged.root / "target")]
        duckdb_erasure = erase_in_process(full_purged, [*COMMON, *target])
        purge(full_purged, PURGE_AS_OF, full_purged.root / "target" / "manifest.json")
        mp.setenv(WINDOW_START_ENV, AFTER_PURGE.isoformat())
        assert dbtRunner().invoke(["build", *COMMON, *target]).success
    return Builds(before_purge, full, planted, erased, spark, full_purged, printed["erased"], duckdb_erasure)


def built_tables(full: DataPaths) -> dict[tuple[str, str], list[str]]:
    """The marts and incremental intermediate models the chain built, with their columns less the
    landing bookkeeping (stamps differ between the builds by construction)."""
    with duckdb.connect(str(full.warehouse)) as con:
        rows = con.execute(
            "SELECT table_schema, table_name, list(column_name ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = 'marts'"
            " OR (table_schema = 'main' AND list_contains(?, table_name)) GROUP BY ALL",
            [list(INTERMEDIATE)],
        ).fetchall()
    return {(schema, table): [c for c in columns if c not in BOOKKEEPING] for schema, table, columns in rows}


def rows_of(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> list[tuple]:
    select = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"SELECT {select} FROM {relation}").fetchall()
    return sorted((tuple(map(normalized, r)) for r in rows), key=sort_key)


def differences(duckdb_build: DataPaths, spark_build: DataPaths) -> tuple[dict, int]:
    """Every table of the chain in DuckDB's warehouse against the same in Spark's Parquet, row for
    row: the tables that differ (row counts and first mismatches), and the rows compared."""
    tables = built_tables(duckdb_build)
    assert {("marts", "fct_sessions"), ("marts", "traffic_sources_daily"), ("main", "int_events_classified")} <= set(
        tables
    )
    found, compared = {}, 0
    with duckdb.connect(str(duckdb_build.warehouse)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for (schema, table), columns in sorted(tables.items()):
            expected = rows_of(con, f"{schema}.{table}", columns)
            has_files = any(spark_table_folder(spark_build, schema, table).rglob("*.parquet"))
            built = rows_of(con, read_spark_table_sql(spark_build, schema, table), columns) if has_files else []
            mismatched = [
                (d, s)
                for d, s in zip(expected, built, strict=False)
                if not all(same_value(a, b) for a, b in zip(d, s, strict=True))
            ]
            if len(expected) != len(built) or mismatched:
                found[f"{schema}.{table}"] = (len(expected), len(built), mismatched[:2])
            compared += len(expected)
    return found, compared


def test_the_spark_incremental_build_equals_a_duckdb_full_refresh(builds):
    found, compared = differences(builds.full, builds.spark)
    assert found == {}, found
    assert compared > 1000


def test_after_a_purge_the_spark_build_equals_the_duckdb_one_purged_alike(builds):
    """The purge rewrote Spark's Parquet files as it updates DuckDB's tables, and the next build on
    each engine kept the days it closed and rebuilt the open ones from the purged raw: every table
    of the chain equal, row for row."""
    found, compared = differences(builds.full_purged, builds.spark_purged)
    assert found == {}, found
    assert compared > 1000


def test_the_purge_cleared_spark_files_and_the_closed_days_kept_their_rows(builds):
    """Class medium (IP and user-agent hashes, 90 days) is gone from every Spark file of the
    classified events, class low (page paths, 2 years) from the days before the cutoff (the second
    day) only. The second day is closed to the marts (a local day reads the UTC days either side)
    but within retention: its sessions keep, row for row, what the build before the purge (the
    erasure's) made of them."""
    before, after = builds.spark_erased, builds.spark_purged
    medium = "SELECT count(ip_hash) + count(user_agent_hash) FROM {}"
    low = (
        "SELECT count(page_path) FILTER (WHERE event_date < ?), count(page_path) FILTER (WHERE event_date >= ?) FROM {}"
    )
    closed = "SELECT * FROM {} WHERE session_date = ? ORDER BY session_id"
    cutoff = PURGE_AS_OF - timedelta(days=730)
    assert cutoff == FIRST_DAY + timedelta(days=1)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")

        def query(sql, paths, schema, table, *params):
            return con.execute(sql.format(read_spark_table_sql(paths, schema, table)), list(params)).fetchall()

        [(medium_before,)] = query(medium, before, "main", "int_events_classified")
        [(medium_after,)] = query(medium, after, "main", "int_events_classified")
        [(old_before, recent_before)] = query(low, before, "main", "int_events_classified", cutoff, cutoff)
        [(old_after, recent_after)] = query(low, after, "main", "int_events_classified", cutoff, cutoff)
        sessions_before = query(closed, before, "marts", "fct_sessions", cutoff)
        sessions_after = query(closed, after, "marts", "fct_sessions", cutoff)
    assert medium_before > 0 and medium_after == 0
    assert old_before > 0 and old_after == 0
    assert recent_after == recent_before > 0
    assert len(sessions_before) > 50
    assert sessions_after == sessions_before


def test_the_late_delivery_reopened_the_first_day_on_spark(builds):
    """The comparison is about an incremental build: the second Spark build replaced partitions of
    every incremental model of the chain (insert overwrite, dbt's SQL as run), and in them the
    withdrawn device's events after its withdrawal stopped counting and the offline device's
    first-day events were added."""
    spark, planted = builds.spark, builds.planted
    executed = (spark.root / "target-spark" / "run").rglob("*.sql")
    overwritten = {path.stem for path in executed if "insert overwrite table" in path.read_text().lower()}
    assert overwritten == {
        "int_events_classified", "int_device_logins_daily", "int_events_sessionized", "int_sessions_summarized",
        "int_funnel_step_events", "int_session_funnel_steps", "int_visitor_funnel_steps", "int_visitors_active_daily",
        "int_searches_daily",
        "fct_sessions", "fct_page_views",
        "traffic_sources_daily", "active_users_daily", "funnel_daily", "funnel_visitors_daily", "product_funnel_daily",
        "int_sensor_readings_evaluated", "int_device_days_summarized",
    }  # fmt: skip
    events = read_spark_table_sql(spark, "main", "int_events_classified")
    with duckdb.connect() as con:
        offline = con.execute(
            f"SELECT event_date, count(*) FROM {events} WHERE anonymous_id = ? GROUP BY ALL",
            [pseudonym(OFFLINE_DEVICE, KEY)],
        ).fetchall()
        withdrawn = con.execute(
            f"SELECT event_at > ?, exclusion_reason FROM {events} WHERE anonymous_id = ? GROUP BY ALL ORDER BY ALL",
            [planted.withdrawn_at, pseudonym(planted.device, KEY)],
        ).fetchall()
    assert offline == [(FIRST_DAY, 3)]
    # counted up to the withdrawal, not after it
    assert withdrawn == [(False, None), (True, "no_analytics_consent")]


def test_a_late_withdrawal_that_empties_a_day_removes_its_rows_on_spark(builds):
    """Built by the second build (the lone visitor's one session), the lone day has no row left in
    any table after the third: every partition of it was overwritten empty, where insert_overwrite
    alone would have kept it (the full-refresh comparison above covers the other tables)."""
    spark, planted = builds.spark, builds.planted
    assert planted.lone_day_sessions == 1
    with duckdb.connect() as con:
        for schema, table, column in [
            ("marts", "fct_sessions", "session_date"),
            ("marts", "traffic_sources_daily", "date"),
            ("main", "int_events_sessionized", "event_date"),
            ("main", "int_visitors_active_daily", "date"),
        ]:
            relation = read_spark_table_sql(spark, schema, table)
            [(rows,)] = con.execute(f"SELECT count(*) FROM {relation} WHERE {column} = ?", [LONE_DAY]).fetchall()
            assert rows == 0, table


def test_an_erasure_on_spark_leaves_no_row_naming_the_customer(builds):
    """The erasure rewrote raw, rebuilt the warehouse and rewrote the Spark files of every table
    still naming the customer's pseudonyms: none is left, and it removed what the same erasure
    removes on DuckDB, place by place."""
    spark, duck = builds.spark_erasure, builds.duckdb_erasure
    assert spark["before"] > 0 and spark["after"] == 0
    assert spark["removed"]["raw"] > 0
    assert spark == duck
