"""Data tests at the cost of the day (macros/get_where_subquery.sql): in a run that names its
window, a partition-local test of an incremental model reads only the partitions from the window's
start less lookback_days, and one of a staging view of a source that grows by the day (the
clickstream, the consent decisions, the sensor readings, doses and patches) only the rows from
then; an unwindowed or full-refresh run, and any other test, reads whole tables. The daily
classification of the clickstream reads its staging view twice, not once per rule. One small
warehouse (five generated days, one store) built once up to int_events_sessionized, with the
devices' views."""

import json
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.contracts import load_contracts
from orchestration.dbt_plugins.pii_key import Plugin
from orchestration.generator import GeneratorConfig, generate
from orchestration.settings import DataPaths
from tests.test_incremental_build import land_and_run

FIRST_DAY, DAYS = date(2026, 11, 1), 5
WINDOW_START = FIRST_DAY + timedelta(days=DAYS - 1)  # the daily run of the last day
# window_rebuilt_since(): the window's start less the project's lookback_days (3)
REBUILT_SINCE = WINDOW_START - timedelta(days=3)

UNIQUE_EVENT = "unique_int_events_classified_event_id"
EVENTS_NOT_NULL = "not_null_stg_storefront__events"
RETAINED_DEVICE = "not_null_int_events_classified"
READINGS_NOT_NULL = "not_null_stg_devices__sensor_readings"
DOSES_NOT_NULL = "not_null_stg_devices__dosage_deliveries"
PATCHES_NOT_NULL = "not_null_stg_devices__patch_applications"
CONSENT_NOT_NULL = "not_null_stg_crm__consent_logs"
DEVICE_VIEWS = ["stg_devices__sensor_readings", "stg_devices__dosage_deliveries", "stg_devices__patch_applications"]
UNIQUE_SESSIONIZED_EVENT = "unique_int_events_sessionized_event_id"
TESTS = {
    # unique key of an incremental mart, partitioned by session_date: limited
    "unique": "unique_fct_sessions_session_id",
    # the columns of an incremental model that are never NULL, one test: limited
    "not_null": "not_null_int_events_sessionized",
    # the child is incremental, the parent fct_sessions must stay whole
    "relationships": "relationships_fct_page_views_session_id__session_id__ref_fct_sessions_",
    # a comparison with kpis_daily: its days outside the window would look missing, so never limited
    "comparison": "agrees_with_kpis_daily_traffic_sources_daily_conversion_rate__sessions__conversions",
    # a table: always whole
    "table": "unique_combination_int_devices_identified_store_id__anonymous_id",
    # a test's own `where` (config) is kept as dbt applies it
    "own_where": "relationships_dq_scorecard_daily_store_id__store_id__ref_dim_stores_",
    # the staging view of a source that grows by the day: limited by its meta.window_column
    "staging": READINGS_NOT_NULL,
    "staging_events": EVENTS_NOT_NULL,
    # the not-NULL test of the classified events, whose device ids the retention purge may NULL: limited
    "retention": RETAINED_DEVICE,
}
OWN_WHERE = (
    """from (select * from "warehouse"."marts"."dq_scorecard_daily" where store_id <> 'unattributed') dbt_subquery"""
)


def rebuilt_since(column: str) -> str:
    """`column` on or after the window's start less lookback_days, as compiled on DuckDB."""
    return f"{column} >= (cast('{WINDOW_START}' as date) + cast(-3 as bigint) * interval 1 day)"


def limited(column: str) -> str:
    """The condition on the partition date a limited test adds."""
    return f"where {rebuilt_since(column)}) dbt_subquery"


def dbt(*args: str) -> list:
    """dbt's results of one in-process invocation (the project's own target path in DATA_DIR)."""
    target = str(DataPaths.from_env().root / "target")
    result = dbtRunner().invoke([*args, "--project-dir", ".", "--profiles-dir", ".", "--target-path", target])
    assert result.exception is None, result.exception
    return result.result.results if hasattr(result.result, "results") else result.result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("rebuilt") / "data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(paths.root))
        mp.delenv("DBT_WINDOW_START", raising=False)
        generate(paths, GeneratorConfig(days=DAYS, start_date=FIRST_DAY, stores=1, events_per_day=1000, seed=11))
        dbt("seed")
        land_and_run(paths, mp, "--select", "+int_events_sessionized", *DEVICE_VIEWS)
    return paths


@pytest.fixture
def in_warehouse(built, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(built.root))
    monkeypatch.delenv("DBT_WINDOW_START", raising=False)
    return built


def compiled(*args: str) -> dict[str, str]:
    results = dbt("compile", "--select", *TESTS.values(), *args)
    # whitespace as one space: what is compared is the SQL, not its layout
    by_name = {r.node.name: " ".join(r.node.compiled_code.split()) for r in results}
    return {kind: by_name[name] for kind, name in TESTS.items()}


def test_a_windowed_run_limits_partition_local_tests_of_incremental_models(in_warehouse, monkeypatch):
    monkeypatch.setenv("DBT_WINDOW_START", WINDOW_START.isoformat())

    sql = compiled()

    assert f"from (select * from {relation('marts', 'fct_sessions')} {limited('session_date')}" in sql["unique"]
    sessionized = relation("main", "int_events_sessionized")
    assert f"from (select * from {sessionized} {limited('event_date')} )" in sql["not_null"]
    child, parent = sql["relationships"].split("parent as (")
    assert f"from (select * from {relation('marts', 'fct_page_views')} {limited('view_date')}" in child
    assert parent.startswith(f" select session_id as to_field from {relation('marts', 'fct_sessions')} )")
    assert "dbt_subquery" not in sql["comparison"]
    assert "dbt_subquery" not in sql["table"]
    assert OWN_WHERE in sql["own_where"]
    readings = relation("main", "stg_devices__sensor_readings")
    readings_since = f"({rebuilt_since('measured_at')} or measured_at is null)"
    assert f"from (select * from {readings} where {readings_since}) dbt_subquery" in sql["staging"]
    events_since = f"({rebuilt_since('event_at')} or event_at is null)"
    events = relation("main", "stg_storefront__events")
    assert f"from (select * from {events} where {events_since}) dbt_subquery" in sql["staging_events"]
    # the view's device ids are tested where they are stored, hashed once (int_events_classified)
    assert "anonymous_id" not in sql["staging_events"]
    classified = relation("main", "int_events_classified")
    assert f"from (select * from {classified} {limited('event_date')} )" in sql["retention"]
    # its device ids may be NULL only where the retention purge has been
    device_check = "anonymous_id is null and not coalesce(cast(event_at as date) < (getvariable('pii_purged_as_of')"
    assert device_check in sql["retention"]


@pytest.mark.parametrize("run", ["unwindowed", "full_refresh"])
def test_an_unwindowed_or_full_refresh_run_tests_whole_tables(in_warehouse, monkeypatch, run):
    if run == "full_refresh":
        monkeypatch.setenv("DBT_WINDOW_START", WINDOW_START.isoformat())

    sql = compiled(*(["--full-refresh"] if run == "full_refresh" else []))

    assert all("dbt_subquery" not in code for kind, code in sql.items() if kind != "own_where"), sql
    assert "event_at >=" not in sql["staging_events"]
    assert OWN_WHERE in sql["own_where"]
    assert f"from {relation('marts', 'fct_sessions')} where session_id is not null" in sql["unique"]


def relation(schema: str, table: str) -> str:
    return f'"warehouse"."{schema}"."{table}"'


def plant_duplicate(paths: DataPaths, event_date: date) -> None:
    """A second copy of one counted event of int_events_classified on `event_date`."""
    with duckdb.connect(str(paths.warehouse)) as con:  # dbt's in-process connection is still open
        [(event_id,)] = con.execute(
            "SELECT min(event_id) FROM int_events_classified WHERE event_date = ? AND exclusion_reason IS NULL",
            [event_date],
        ).fetchall()
        con.execute(
            "INSERT INTO int_events_classified SELECT * FROM int_events_classified WHERE event_id = ?", [event_id]
        )


def statuses(results) -> dict[str, tuple[str, int | None]]:
    return {r.node.name: (str(r.status), r.failures) for r in results}


def test_a_windowed_run_tests_what_it_rebuilt_and_still_blocks(in_warehouse, monkeypatch):
    with duckdb.connect(str(in_warehouse.warehouse)) as con:
        [(first, last)] = con.execute("SELECT min(event_date), max(event_date) FROM int_events_classified").fetchall()
    assert first < REBUILT_SINCE <= last
    plant_duplicate(in_warehouse, first)

    # The whole table has the duplicate...
    assert statuses(dbt("test", "--select", UNIQUE_EVENT))[UNIQUE_EVENT] == ("fail", 1)
    # ...which the day's run neither rebuilds nor tests again.
    monkeypatch.setenv("DBT_WINDOW_START", WINDOW_START.isoformat())
    assert statuses(dbt("test", "--select", UNIQUE_EVENT))[UNIQUE_EVENT] == ("pass", 0)

    # A duplicate on a day the run rebuilds reaches int_events_sessionized, whose test fails the
    # build and skips every model below it (Dagster: a failed blocking check).
    plant_duplicate(in_warehouse, last)
    results = statuses(
        dbt("build", "--select", "int_events_sessionized+", "--indirect-selection", "cautious",
            "--exclude-resource-type", "unit_test")
    )  # fmt: skip

    assert results["int_events_sessionized"] == ("success", None)
    assert results[UNIQUE_SESSIONIZED_EVENT] == ("fail", 1)
    below = {name: status for name, (status, _) in results.items() if name.startswith(("int_sessions", "fct_"))}
    assert below and set(below.values()) == {"skipped"}, below


def test_one_not_null_test_names_each_column_holding_nulls_and_how_many(in_warehouse):
    """A model's not-NULL columns are one test (tests/generic/not_null_columns.sql): it fails with a
    row per column that holds a NULL, counting them, and blocks like any other test."""
    name = "not_null_int_events_classified"
    assert statuses(dbt("test", "--select", name))[name] == ("pass", 0)
    with duckdb.connect(str(in_warehouse.warehouse)) as con:
        sql = "SELECT max(event_date), any_value(store_id) FROM int_events_classified"
        [(last, store)] = con.execute(sql).fetchall()
        con.execute(
            "UPDATE int_events_classified SET store_id = NULL WHERE event_id IN"
            " (SELECT event_id FROM int_events_classified WHERE event_date = ? ORDER BY event_id LIMIT 2)",
            [last],
        )
    try:
        [result] = [r for r in dbt("test", "--select", name) if r.node.name == name]
        assert (str(result.status), result.failures) == ("fail", 1)
        with duckdb.connect(str(in_warehouse.warehouse)) as con:
            Plugin("pii_key", {}).configure_cursor(con)  # the retained device ids' condition reads them
            assert con.execute(result.node.compiled_code).fetchall() == [("store_id", 2)]
    finally:
        with duckdb.connect(str(in_warehouse.warehouse)) as con:
            con.execute("UPDATE int_events_classified SET store_id = ? WHERE store_id IS NULL", [store])


def plant_event_without_type(paths: DataPaths, day: date) -> None:
    """A landed event on `day` (UTC) whose event type is missing, in a Parquet file of its own."""
    folder = paths.raw / "events" / f"date={day}"
    with duckdb.connect() as con:
        con.execute(
            f"""
            COPY (
                SELECT * EXCLUDE (date) REPLACE ('planted-' || event_id AS event_id, NULL AS event_type,
                       _landing_order + 1000000000000000000 AS _landing_order)
                FROM read_parquet('{folder}/part-*.parquet', hive_partitioning = true)
                LIMIT 1
            ) TO '{folder}/part-planted.parquet' (FORMAT parquet)
            """
        )


def test_a_windowed_run_tests_the_staging_rows_of_its_days(in_warehouse, monkeypatch):
    assert statuses(dbt("test", "--select", EVENTS_NOT_NULL))[EVENTS_NOT_NULL] == ("pass", 0)
    try:
        plant_event_without_type(in_warehouse, FIRST_DAY)
        # Landed long before the window: the whole view has it, the day's run does not read it...
        assert statuses(dbt("test", "--select", EVENTS_NOT_NULL))[EVENTS_NOT_NULL] == ("fail", 1)
        monkeypatch.setenv("DBT_WINDOW_START", WINDOW_START.isoformat())
        assert statuses(dbt("test", "--select", EVENTS_NOT_NULL))[EVENTS_NOT_NULL] == ("pass", 0)
        # ...but one of the window's days fails it.
        plant_event_without_type(in_warehouse, WINDOW_START)
        assert statuses(dbt("test", "--select", EVENTS_NOT_NULL))[EVENTS_NOT_NULL] == ("fail", 1)
    finally:
        for planted in in_warehouse.raw.glob("events/date=*/part-planted.parquet"):
            planted.unlink()


# The windowed not-NULL test of each staging view of a growing source, and the landed table it
# reads (whose contract gives the window's column, `partition_by`, and the key); the patches' view
# keeps the copy landed last (last_landed_copy), the others the first.
WINDOWED_STAGING_TESTS = {
    EVENTS_NOT_NULL: "events",
    READINGS_NOT_NULL: "sensor_readings",
    DOSES_NOT_NULL: "dosage_deliveries",
    PATCHES_NOT_NULL: "patch_applications",
    CONSENT_NOT_NULL: "consent_logs",
}


def parquet_scan_nodes(profile: dict) -> list[dict]:
    """The Parquet scans of a DuckDB JSON profile."""
    found, nodes = [], list(profile["operator"])
    while nodes:
        node = nodes.pop()
        if node["type"] == "TABLE_SCAN" and node["extra_info"].get("Function") == "READ_PARQUET":
            found.append(node)
        nodes += node.get("children", [])
    return found


def projected(scan: dict) -> tuple[str, ...]:
    """The columns a Parquet scan of a DuckDB JSON profile reads, sorted (one column comes as a string)."""
    columns = scan["extra_info"]["Projections"]
    return tuple(sorted([columns] if isinstance(columns, str) else columns))


def profiled(paths: DataPaths, tmp_path: Path, sql: str) -> tuple[list, dict]:
    """The rows of `sql`, run on a copy of the warehouse as a dbt cursor runs it, and DuckDB's JSON
    profile of it."""
    # a copy under the same name (the SQL names its catalog), with its write-ahead log: dbt's
    # connection in this process holds the warehouse
    for part in paths.root.glob(f"{paths.warehouse.name}*"):
        shutil.copy(part, tmp_path / part.name)
    profile = tmp_path / "profile.json"
    with duckdb.connect(str(tmp_path / paths.warehouse.name)) as con:
        # the privacy variables every dbt cursor gets: the retained columns' conditions read them
        Plugin("pii_key", {}).configure_cursor(con)
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{profile}'")
        rows = con.execute(sql).fetchall()
    return rows, json.loads(profile.read_text())


@pytest.mark.parametrize("test_name", sorted(WINDOWED_STAGING_TESTS))
def test_a_windowed_staging_test_reads_whole_rows_of_its_days_only(in_warehouse, monkeypatch, tmp_path, test_name):
    """The window reaches the scan of the landed Parquet (first_landed_copy): the test reads whole
    rows of the window's days alone; of every landed row, the key (whose hash finds the keys landed
    more than once), and of the copies of those keys, the key and landing order."""
    source = WINDOWED_STAGING_TESTS[test_name]
    contract = load_contracts()[source]
    column, [key] = contract.partition_by, contract.primary_key
    monkeypatch.setenv("DBT_WINDOW_START", WINDOW_START.isoformat())
    [result] = dbt("compile", "--select", test_name)
    landed_rows = f"read_parquet('{in_warehouse.raw / source}/*/*.parquet', hive_partitioning = false)"
    landed, in_window = duckdb.execute(
        f"select count(*), count(*) filter (where {rebuilt_since(column)}) from {landed_rows}"
    ).fetchone()
    repeated = duckdb.execute(
        f"select count(*) from {landed_rows} where {key} in "
        f"(select {key} from {landed_rows} group by {key} having count(*) > 1)"
    ).fetchone()[0]
    failing, profile = profiled(in_warehouse, tmp_path, result.node.compiled_code)
    scans = {projected(scan): scan for scan in parquet_scan_nodes(profile)}
    assert failing == []
    assert 0 < in_window < landed
    assert len(scans) == 3
    assert scans.pop((key,))["intermediate_rows"] == landed
    # DuckDB passes the repeated keys' hashes to the scan of their copies (at least those rows)
    assert repeated <= scans.pop(tuple(sorted([key, "_landing_order"])))["intermediate_rows"] <= landed
    [whole_rows] = scans.values()
    assert whole_rows["intermediate_rows"] == in_window


def test_a_daily_classification_looks_up_the_first_copies_twice(in_warehouse, monkeypatch, tmp_path):
    """int_events_classified's run over the window's days reads the clickstream's staging view twice
    (the rules' narrow copy, computed once, and the classified rows), so it hashes every event id
    ever landed, and looks up the first copies of the repeated ones, twice, not once for each of its
    three rules."""
    monkeypatch.setenv("DBT_WINDOW_START", WINDOW_START.isoformat())
    [result] = dbt("compile", "--select", "int_events_classified", "--indirect-selection", "empty")
    [(rebuilt,)], profile = profiled(in_warehouse, tmp_path, f"select count(*) from ({result.node.compiled_code})")
    # first_landed_copy's lookups read only the keys (to hash them) and the repeated keys' copies
    lookups = Counter(projected(scan) for scan in parquet_scan_nodes(profile))
    assert rebuilt > 0
    assert lookups[("event_id",)] == 2
    assert lookups[("_landing_order", "event_id")] == 2
