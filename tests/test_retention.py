"""The retention purge and the warehouse after it, on one small generated warehouse (3 days, 2 stores):
the dbt build still passes once expired values are NULL (retention-aware not_null), a NULL inside
retention still fails it, and the daily marts keep the rows of the days the purge closed. The purge
that warehouse goes through is killed while republishing and resumed; killed at every other step,
on copies of the warehouse as built, it resumes to what an uninterrupted purge leaves."""

import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
from datetime import date

import duckdb
import pytest

from orchestration import warehouse
from orchestration.dbt_project import DBT_EXECUTABLE
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance import audit, checkpoint, storage
from orchestration.governance import purge as purging
from orchestration.governance.purge import purge
from orchestration.governance.storage import rewrite_parquet
from orchestration.landing.land import land_all
from orchestration.publish import publish_marts, published_digests
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


def _manifest(paths: DataPaths):
    return paths.root / "t" / "manifest.json"


def _killed_purge(paths: DataPaths, owner, name: str, dies_at: int) -> None:
    """Purge in a child process that kills itself (SIGKILL: no cleanup runs) on call `dies_at` (from
    0) of `owner.name`, before the call does anything."""

    def child() -> None:
        real, calls = getattr(owner, name), []

        def dying(*args, **kwargs):
            if len(calls) == dies_at:
                os.kill(os.getpid(), signal.SIGKILL)
            calls.append(args)
            return real(*args, **kwargs)

        setattr(owner, name, dying)
        purge(paths, AS_OF, _manifest(paths))
        os._exit(0)  # not killed: the parent's assertion says where

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join()
    assert process.exitcode == -signal.SIGKILL


def _expired_published_visitors(paths: DataPaths, published: str) -> int:
    """Pseudonymous visitor ids a published file still holds for days the purge expired."""
    with duckdb.connect(str(paths.root / published), read_only=True) as con:
        return con.execute("SELECT count(visitor_id) FROM fct_sessions WHERE session_date < '2026-11-02'").fetchone()[0]


def _sha256(file) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _state(paths: DataPaths) -> dict:
    """Everything a purge changes, comparable between two DATA_DIRs: raw and quarantine files byte for
    byte, the audit (but its time), every warehouse table's digest, the published marts' digests."""
    files = [f for place in (paths.raw, paths.quarantine) for f in sorted(place.rglob("*")) if f.is_file()]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        digests = {
            f"{s}.{t}": con.execute(f'SELECT count(*), sum(hash(t)) FROM "{s}"."{t}" t').fetchone() for s, t in tables
        }
    return {
        "files": {str(f.relative_to(paths.root)): _sha256(f) for f in files},
        "audit": sorted(r[1:] for r in audit.read(paths, "purge_log")),
        "audited_purges": len({r[0] for r in audit.read(paths, "purge_log")}),
        "warehouse": digests,
        "published": {p.name: published_digests(p) for p in sorted(paths.root.glob("marts*.duckdb"))},
        "left_behind": sorted(p.name for p in paths.root.iterdir() if p.name.startswith(".") or "pending" in p.name),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A built and published warehouse (whole and one store's copy), and a copy of its DATA_DIR."""
    paths = DataPaths(tmp_path_factory.mktemp("retention") / "data")
    generate(paths, GeneratorConfig(days=3, stores=2, events_per_day=1000, seed=23))
    land_all(paths)
    result = _dbt(paths, "build", "--quiet")
    assert result.returncode == 0, result.stdout[-3000:]
    warehouse.record_build(paths, "retention-test")
    publish_marts(paths)
    publish_marts(paths, store="us")
    pristine = tmp_path_factory.mktemp("pristine") / "data"
    shutil.copytree(paths.root, pristine)
    return paths, pristine


@pytest.fixture(scope="module")
def uninterrupted(built, tmp_path_factory):
    """What a purge that nothing interrupts leaves: its plan and the state of its DATA_DIR."""
    paths = DataPaths(tmp_path_factory.mktemp("uninterrupted") / "data")
    shutil.copytree(built[1], paths.root)
    plan = purge(paths, AS_OF, _manifest(paths))
    return plan, _state(paths)


@pytest.fixture(scope="module")
def purged(built, uninterrupted):
    """The built warehouse after a purge killed while republishing (as issue 14 found it: marts with
    expired values, no audit, builds failing), resumed, then built again."""
    paths = built[0]
    before = {mart: _rows(paths, mart, "true") for mart in MARTS}
    _killed_purge(paths, storage, "publish_marts", dies_at=1)
    # The whole marts were republished, the store's copy was not.
    assert _expired_published_visitors(paths, "marts.duckdb") == 0
    assert _expired_published_visitors(paths, "marts_us.duckdb") > 0
    assert audit.read_if_any(paths, "purge_log") == []
    assert audit.purged_as_of(paths) == AS_OF  # a build before the resume already counts it as purged
    plan = purge(paths, AS_OF, _manifest(paths))
    resumed = _state(paths)
    # A day still open is rebuilt by the next run: spoil one of its rows to see it come back.
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(f"UPDATE marts.traffic_sources_daily SET sessions = -1 WHERE date = '{FIRST_OPEN_DAY}'")
    rebuilt = _dbt(paths, "build")
    return paths, plan, before, rebuilt, resumed


# Where a purge is killed: (module, function, the call it dies at).
KILLS = {
    "planned, no file rewritten": (purging, "rewrite_parquet", 0),
    "files half rewritten": (purging, "rewrite_parquet", 3),
    "warehouse updated, not compacted": (purging, "compact_warehouse", 0),
    "compacted copy written, not renamed": (storage, "write_atomic", "warehouse"),
    "published whole, not per store": (storage, "publish_marts", 1),
    "republished, not audited": (audit, "append", 0),
    "audited, checkpoint kept": (purging, "forget", 0),
}


@pytest.mark.parametrize("step", KILLS)
def test_a_purge_killed_at_each_step_resumes_to_what_an_uninterrupted_one_leaves(step, built, uninterrupted, tmp_path):
    paths = DataPaths(tmp_path / "data")
    shutil.copytree(built[1], paths.root)
    owner, name, dies_at = KILLS[step]
    if dies_at == "warehouse":  # the rename of the compacted file: every Parquet rewrite comes first
        dies_at = len({i.target for i in uninterrupted[0] if i.place != "warehouse"})
    _killed_purge(paths, owner, name, dies_at)
    assert checkpoint.purge_path(paths).exists()

    plan = purge(paths, AS_OF, _manifest(paths))

    expected_plan, expected = uninterrupted
    assert plan == expected_plan
    assert _state(paths) == expected
    assert expected["audited_purges"] == 1 and len(expected["audit"]) == len(plan) > 10
    assert expected["left_behind"] == []
    assert [_expired_published_visitors(paths, f) for f in ("marts.duckdb", "marts_us.duckdb")] == [0, 0]


def test_after_a_killed_and_resumed_purge_the_build_and_its_tests_pass(purged, uninterrupted):
    paths, plan, _, rebuilt, resumed = purged
    assert plan == uninterrupted[0] and resumed == uninterrupted[1]
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
    paths, _, before, _, _ = purged
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
