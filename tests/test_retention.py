"""The retention purge and the warehouse after it, on one small generated warehouse (3 days, 2 stores):
the dbt build still passes once expired values are NULL (retention-aware not_null), a NULL inside
retention still fails it, and the daily marts keep the rows of the days the purge closed."""

import json
import os
import subprocess
from datetime import date

import duckdb
import pytest

from orchestration import warehouse
from orchestration.dbt_project import DBT_EXECUTABLE
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance.purge import purge
from orchestration.governance.storage import rewrite_parquet
from orchestration.landing.land import land_all
from orchestration.settings import DataPaths

KEY = "retention-test-key"
# Medium values (90 days) dated before 2026-11-02 and high ones (30 days) before 2027-01-01 expire:
# the first of the three generated UTC days loses its device and customer ids, every day its emails.
AS_OF = date(2027, 1, 31)
# The daily marts counting distinct visitors or customers, and the trailing days each row reads.
MARTS = {
    "kpis_daily": 29,
    "active_users_daily": 29,
    "customer_insights": 0,
    "traffic_sources_daily": 0,
    "top_pages_daily": 0,
    "funnel_visitors_daily": 0,
}
# Local days on which the purge (UTC day 2026-11-01, and a day of margin) closes a mart's rows.
FIRST_OPEN_DAY = "2026-11-03"


def _dbt(paths: DataPaths, *args: str) -> subprocess.CompletedProcess:
    cmd = [DBT_EXECUTABLE, *args, "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "t")]
    env = {**os.environ, "DATA_DIR": str(paths.root), "PII_HMAC_KEY": KEY}
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def _results(paths: DataPaths) -> dict[str, tuple[str, int | None]]:
    """Node name -> (status, failures) of the last dbt invocation."""
    results = json.loads((paths.root / "t" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"])
        for r in results
        if r["unique_id"].startswith("test.")
    }


def _rows(paths: DataPaths, mart: str, where: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(f"SELECT * FROM marts.{mart} WHERE {where} ORDER BY ALL").fetchall()


def _closed(mart: str) -> str:
    return "true" if MARTS[mart] else f"date < '{FIRST_OPEN_DAY}'"


@pytest.fixture(scope="module")
def purged(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("retention"))
    generate(paths, GeneratorConfig(days=3, stores=2, events_per_day=1000, seed=23))
    land_all(paths)
    built = _dbt(paths, "build", "--quiet")
    assert built.returncode == 0, built.stdout[-3000:]
    warehouse.record_build(paths, "retention-test")
    before = {mart: _rows(paths, mart, "true") for mart in MARTS}
    plan = purge(paths, AS_OF, paths.root / "t" / "manifest.json")
    # A day still open is rebuilt by the next run: spoil one of its rows to see it come back.
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(f"UPDATE marts.traffic_sources_daily SET sessions = -1 WHERE date = '{FIRST_OPEN_DAY}'")
    rebuilt = _dbt(paths, "build")
    return paths, plan, before, rebuilt


def test_after_a_purge_the_build_and_its_tests_pass(purged):
    paths, plan, _, rebuilt = purged
    purged_columns = {(i.target.split("/")[1], i.column) for i in plan if i.place == "raw"}
    assert {("events", "anonymous_id"), ("consent_logs", "anonymous_id"), ("customers", "email")} <= purged_columns
    assert {("orders", "customer_id"), ("events", "user_id")} <= purged_columns
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    results = _results(paths)
    retention_tests = {name: result for name, result in results.items() if "within_retention" in name}
    assert len(retention_tests) == 9
    assert set(retention_tests.values()) == {("pass", 0)}
    # The views the tests read do hold the purged NULLs (a staging view reads raw as it is now).
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        con.execute("SET VARIABLE pii_hmac_key = ?", [KEY])  # the view pseudonymises as it reads
        [(nulls, kept)] = con.execute(
            "SELECT count(*) FILTER (WHERE anonymous_id IS NULL AND event_at < '2026-11-02'),"
            " count(*) FILTER (WHERE anonymous_id IS NOT NULL AND event_at >= '2026-11-02')"
            " FROM main.stg_storefront__events"
        ).fetchall()
        [(emails,)] = con.execute("SELECT count(email) FROM main.stg_crm__customers").fetchall()
    assert nulls > 0 and kept > 0 and emails == 0


def test_marts_keep_the_rows_of_days_the_purge_closed(purged):
    paths, _, before, _ = purged
    for mart in MARTS:
        closed = [r for r in before[mart] if MARTS[mart] or str(r[1]) < FIRST_OPEN_DAY]
        assert closed, mart
        assert _rows(paths, mart, _closed(mart)) == closed, mart
    # Rebuilt from the purged inputs these days would lose their visitors: the ids are gone.
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        [(visitors_left,)] = con.execute(
            "SELECT count(DISTINCT visitor_id) FROM main.int_sessions_summarized WHERE session_date < '2026-11-01'"
        ).fetchall()
        [(visitors_kept,)] = con.execute(
            "SELECT sum(visitors) FROM marts.traffic_sources_daily WHERE date < '2026-11-01'"
        ).fetchall()
    assert visitors_left == 0 and visitors_kept > 0
    # Open days are rebuilt: the spoiled row is back to what the first build computed.
    assert _rows(paths, "traffic_sources_daily", f"date >= '{FIRST_OPEN_DAY}'") == [
        r for r in before["traffic_sources_daily"] if str(r[1]) >= FIRST_OPEN_DAY
    ]


def test_a_null_inside_retention_still_fails(purged):
    paths = purged[0]
    [file] = sorted(paths.raw_for("events").glob("date=2026-11-03/*.parquet"))[:1]
    with duckdb.connect() as con:
        rewrite_parquet(
            con,
            file,
            "SELECT * REPLACE (CASE WHEN row_number() OVER () = 1 THEN NULL ELSE anonymous_id END AS anonymous_id)"
            " FROM src",
        )
    tested = _dbt(paths, "test", "--select", "stg_storefront__events,test_name:not_null_within_retention")
    assert tested.returncode == 1
    assert _results(paths) == {"not_null_within_retention_stg_storefront__events_anonymous_id__event_at": ("fail", 1)}


def test_a_file_quarantine_kept_whole_is_deleted_past_its_retention(paths):
    from orchestration.landing.land import land_source

    for name, data in (("orders_old.csv", b""), ("orders_new.csv", b" \n")):
        target = paths.inbox_for("orders") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    land_source(paths, "orders")
    old, new = sorted((paths.quarantine_for("orders") / "files").iterdir(), key=lambda p: "new" in p.name)
    os.utime(old, (1577836800, 1577836800))  # kept on 2020-01-01
    [expired] = purge(paths, date.today(), manifest_path=paths.root / "no_warehouse")
    assert (expired.place, expired.target, expired.column, expired.rows) == (
        "quarantine", str(old.relative_to(paths.root)), "file", 1
    )  # fmt: skip
    assert not old.exists() and new.exists()
