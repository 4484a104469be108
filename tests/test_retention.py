"""The retention purge and the warehouse after it, on one small generated warehouse (3 days, 2 stores,
planted with a customer who orders again on day 120 and two devices' consent decisions): the dbt
build still passes once expired values are NULL or replaced by their pseudonymous keys (retention-
aware not_null), a NULL inside retention still fails it, the returning customer is the same
customer, consent given before the purge still counts, a full refresh rebuilds every mart as built,
the access export states what was pseudonymised, and an erasure still finds every key. The purge that
warehouse goes through is killed halfway and resumed; killed at every step, on copies of the
warehouse as built, a purge 25 months later, which forgets every key, resumes to what an
uninterrupted one leaves."""

import contextlib
import hashlib
import importlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration import warehouse
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance import audit, checkpoint, storage, unconsented
from orchestration.governance import purge as purging
from orchestration.governance.erase import erase, warehouse_rows_naming
from orchestration.governance.export import WAREHOUSE_PROCESSING, export_subject
from orchestration.governance.pseudonyms import MARK, pseudonym
from orchestration.governance.purge import purge
from orchestration.governance.storage import rewrite_parquet
from orchestration.governance.subject import find_subject
from orchestration.landing import land as landing
from orchestration.landing.land import land_all
from orchestration.publish import publish_marts, published_digests
from orchestration.settings import DataPaths
from tests.conftest import event, product_build, run_dbt, write_batches, write_csv

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
# The first order of a customer who orders again on day 120 (filled by the fixture, in clear).
RETURNING: dict = {}
# Every key of the 3-day history has then been 25 months without activity: the purge forgets them.
KEYS_FORGOTTEN = date(2029, 1, 31)
# Another such customer, who does not come back, erased after the purge.
ERASED: dict = {}
# Days 40, 50 and 100 of the history: browsing with consent, its withdrawal, browsing after both.
CONSENTED_DAY, WITHDRAWAL_DAY, BROWSING_DAY = "2026-12-10", "2026-12-20", "2027-02-08"
# Day 120 of the history that begins on 2026-11-01.
RETURN_DAY = "2027-02-28"
# Columns that depend on the data's horizon (a cart open at the last event is abandoned once later
# events land), which the data planted after the purge moves.
HORIZON_COLUMNS = {"kpis_daily": "carts_abandoned, carts_open, cart_abandonment_rate"}
# The day after the generated history.
HISTORY_END = "2026-11-04"
# Local days on which the purge (UTC day 2026-11-01, and a day of margin) closes a mart's rows.
FIRST_OPEN_DAY = "2026-11-03"


def _dbt(paths: DataPaths, *args: str) -> subprocess.CompletedProcess:
    return run_dbt(paths, *args, key=KEY, target=paths.root / "t")


def _build(paths: DataPaths, *args: str) -> subprocess.CompletedProcess:
    return product_build(paths, *args, key=KEY, target=paths.root / "t")


def _results(paths: DataPaths) -> dict[str, tuple[str, int | None]]:
    """Node name -> (status, failures) of the last dbt invocation."""
    results = json.loads((paths.root / "t" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"])
        for r in results
        if r["unique_id"].startswith("test.")
    }


def _tests_of_retained_columns(paths: DataPaths) -> list[str]:
    """The not-NULL tests that allow a NULL where the retention purge has been (`retained`)."""
    nodes = json.loads((paths.root / "t" / "manifest.json").read_text())["nodes"].values()
    return [
        node["name"]
        for node in nodes
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("kwargs", {}).get("retained")
    ]


def _rows(paths: DataPaths, mart: str, where: str) -> list[tuple]:
    columns = f"* EXCLUDE ({HORIZON_COLUMNS[mart]})" if mart in HORIZON_COLUMNS else "*"
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(f"SELECT {columns} FROM marts.{mart} WHERE {where} ORDER BY ALL").fetchall()


def _closed(mart: str) -> str:
    """The mart's rows the purge closed (days planted after the generated history are open)."""
    return f"date < '{HISTORY_END if MARTS[mart] else FIRST_OPEN_DAY}'"


def _returning_customer(paths: DataPaths, rank: int = 0) -> dict:
    """The first order, on the first day, of a customer of store us with no other order (the
    `rank`-th such)."""
    orders = f"read_parquet('{paths.raw_for('orders')}/*/*.parquet', hive_partitioning = false)"
    cursor = duckdb.execute(
        f"SELECT * REPLACE ('paid' AS status) FROM {orders} WHERE store_id = 'us' AND customer_id IN"
        f" (SELECT customer_id FROM {orders} GROUP BY ALL HAVING count(DISTINCT order_id) = 1)"
        " AND placed_at < '2026-11-02' QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC) = 1"
        f" ORDER BY order_id LIMIT 1 OFFSET {rank}"
    )
    [row] = cursor.fetchall()
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


# A store-us analytics consent decision with no customer: the planted decisions add device, action, time.
ANALYTICS_DECISION = {
    "store_id": "us", "customer_id": "", "purpose": "analytics", "consent_text": "Analytics?", "consent_version": "v1"
}  # fmt: skip


def _decide_consent(paths: DataPaths) -> None:
    """Two devices grant analytics consent on day 1; the second withdraws it on day 50."""
    write_csv(paths, "consent_logs", "consent_planted.csv", [
        {**ANALYTICS_DECISION, "consent_event_id": "cev-1", "anonymous_id": "dev-stays", "action": "granted",
         "recorded_at": "2026-11-01T08:00:00.000Z"},
        {**ANALYTICS_DECISION, "consent_event_id": "cev-2", "anonymous_id": "dev-leaves", "action": "granted",
         "recorded_at": "2026-11-01T08:00:00.000Z"},
        {**ANALYTICS_DECISION, "consent_event_id": "cev-3", "anonymous_id": "dev-leaves", "action": "withdrawn",
         "recorded_at": f"{WITHDRAWAL_DAY}T08:00:00.000Z"},
    ])  # fmt: skip


def _view_id(device: str, day: str) -> str:
    """An event id shaped like the generator's (`ev-<letters and digits>`), as landing expects."""
    return "ev-" + f"{device}{day}".replace("-", "")


def _browse(paths: DataPaths) -> None:
    """Both devices browse on day 40 (both consenting) and day 100 (only the first)."""
    views = [
        event(_view_id(device, day), f"{day}T15:00:00.000Z", anonymous_id=device, session_id=f"t-{device}-{day}")
        for device in ("dev-stays", "dev-leaves")
        for day in (CONSENTED_DAY, BROWSING_DAY)
    ]
    write_batches(paths, "events_planted.jsonl.gz", [
        {"sent_at": e["timestamp"], "received_at": e["timestamp"], "events": [e]} for e in views
    ])  # fmt: skip


def _order_again(paths: DataPaths) -> None:
    """The returning customer orders again on day 120, after the purge replaced their id in raw."""
    first = RETURNING
    when = f"{RETURN_DAY}T12:00:00.000Z"
    again = {k: ("" if v is None else str(v)) for k, v in first.items() if not k.startswith("_")}
    write_csv(
        paths,
        "orders",
        "orders_day_120.csv",
        [{**again, "order_id": "ord-day-120", "placed_at": when, "updated_at": when}],
    )
    _browse(paths)
    with _landing_clock():
        land_all(paths)


@contextlib.contextmanager
def _landing_clock():
    """Landing on the evening of day 120: no row planted in this history is in its future."""
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(landing, "_machine_now", lambda: datetime.fromisoformat(f"{RETURN_DAY}T23:00:00+00:00"))
        yield


def _manifest(paths: DataPaths):
    """The dbt manifest of the module's builds (target/dagster is another test file's to move aside)."""
    return paths.root / "t" / "manifest.json"


def _killed_purge(paths: DataPaths, owner, name: str, dies_at: int, as_of: date = AS_OF) -> None:
    """Purge in a child process that kills itself (SIGKILL: no cleanup runs) on call `dies_at` (from
    0) of `owner.name`, before the call does anything.

    The child starts afresh (spawn): one forked from this worker inherits the locks its other threads
    (DuckDB's, Arrow's, the test runner's) held at the fork, and can wait on one of them forever."""
    child = multiprocessing.get_context("spawn").Process(
        target=_purge_dying, args=(str(paths.root), owner.__name__, name, dies_at, as_of)
    )
    child.start()
    child.join(timeout=600)
    if child.exitcode is None:  # hung: ended by SIGTERM, which the assertion tells from its own SIGKILL
        child.terminate()
        child.join()
    assert child.exitcode == -signal.SIGKILL


def _purge_dying(root: str, owner: str, name: str, dies_at: int, as_of: date) -> None:
    module, calls = importlib.import_module(owner), []
    real = getattr(module, name)

    def dying(*args, **kwargs):
        if len(calls) == dies_at:
            os.kill(os.getpid(), signal.SIGKILL)
        calls.append(args)
        return real(*args, **kwargs)

    setattr(module, name, dying)
    paths = DataPaths(Path(root))
    purge(paths, as_of, _manifest(paths))
    os._exit(0)  # not killed: the parent's assertion says where


def _published_visitors(paths: DataPaths, published: str) -> int:
    """Pseudonymous visitor ids a published file still holds."""
    with duckdb.connect(str(paths.root / published), read_only=True) as con:
        return con.execute("SELECT count(visitor_id) FROM fct_sessions").fetchone()[0]


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
    mp = pytest.MonkeyPatch()
    mp.setenv("PII_HMAC_KEY", KEY)  # the purge pseudonymises as dbt does
    paths = DataPaths(tmp_path_factory.mktemp("retention") / "data")
    generate(paths, GeneratorConfig(days=3, stores=2, events_per_day=1000, seed=23))
    _decide_consent(paths)
    with _landing_clock():
        land_all(paths)
    RETURNING.update(_returning_customer(paths))  # one order, on the first day the purge clears
    ERASED.update(_returning_customer(paths, rank=1))
    result = _build(paths, "--quiet")
    assert result.returncode == 0, result.stdout[-3000:]
    warehouse.record_build(paths, "retention-test")
    publish_marts(paths)
    publish_marts(paths, store="us")
    pristine = tmp_path_factory.mktemp("pristine") / "data"
    shutil.copytree(paths.root, pristine)
    yield paths, pristine
    mp.undo()


def _uninterrupted(built, tmp_path_factory, as_of: date) -> tuple[list, dict, DataPaths]:
    """What a purge that nothing interrupts leaves: its plan, the state of its DATA_DIR, and that."""
    paths = DataPaths(tmp_path_factory.mktemp("uninterrupted") / "data")
    shutil.copytree(built[1], paths.root)
    plan = purge(paths, as_of, _manifest(paths))
    return plan, _state(paths), paths


@pytest.fixture(scope="module")
def uninterrupted(built, tmp_path_factory):
    return _uninterrupted(built, tmp_path_factory, AS_OF)


@pytest.fixture(scope="module")
def forgotten(built, tmp_path_factory):
    return _uninterrupted(built, tmp_path_factory, KEYS_FORGOTTEN)


@pytest.fixture(scope="module")
def purged(built, uninterrupted):
    """The built warehouse after a purge killed halfway through its files (no audit, builds
    failing until it is finished), resumed, then built again after the day-120 order landed."""
    paths = built[0]
    before = {mart: _rows(paths, mart, "true") for mart in MARTS}
    _killed_purge(paths, purging, "rewrite_parquet", dies_at=3)
    assert audit.read_if_any(paths, "purge_log") == []
    assert audit.purged_as_of(paths) == AS_OF  # a build before the resume already counts it as purged
    plan = purge(paths, AS_OF, _manifest(paths))
    resumed = _state(paths)
    # A day still open is rebuilt by the next run: spoil one of its rows to see it come back.
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(f"UPDATE marts.traffic_sources_daily SET sessions = -1 WHERE date = '{FIRST_OPEN_DAY}'")
    _order_again(paths)
    rebuilt = _build(paths)
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
def test_a_purge_killed_at_each_step_resumes_to_what_an_uninterrupted_one_leaves(step, built, forgotten, tmp_path):
    paths = DataPaths(tmp_path / "data")
    shutil.copytree(built[1], paths.root)
    owner, name, dies_at = KILLS[step]
    if dies_at == "warehouse":  # the rename of the compacted file: every Parquet rewrite comes first
        dies_at = len({i.target for i in forgotten[0] if i.place != "warehouse"})
    _killed_purge(paths, owner, name, dies_at, KEYS_FORGOTTEN)
    assert checkpoint.purge_path(paths).exists()

    plan = purge(paths, KEYS_FORGOTTEN, _manifest(paths))

    expected_plan, expected, _ = forgotten
    assert plan == expected_plan
    assert _state(paths) == expected
    assert expected["audited_purges"] == 1 and len(expected["audit"]) == len(plan) > 10
    assert expected["left_behind"] == []
    # 25 months without activity: every key is gone, from raw, the warehouse and what was published,
    # but the consent decisions still in force, which keep their device's key as evidence.
    assert {(i.place, i.pii) for i in plan if i.pii == "pseudonymous"} == {("raw", "pseudonymous"), (
        "warehouse", "pseudonymous"
    )}  # fmt: skip
    raw = [str(f) for f in paths.raw.rglob("*.parquet") if "consent_logs" not in f.parts]
    assert duckdb.execute(
        "SELECT count(*) FROM read_parquet(?, union_by_name = true) t WHERE contains(t::VARCHAR, 'pseudonym:')", [raw]
    ).fetchone() == (0,)
    assert [_published_visitors(paths, f) for f in ("marts.duckdb", "marts_us.duckdb")] == [0, 0]


def test_reference_data_naming_no_one_outlives_every_retention_and_the_build_after_passes(forgotten):
    """The postal areas' cities and regions are class none: a purge 27 months on, past the low
    class's two years, leaves them whole. The build after it passes every test: the marts keep the
    closed days as built (page paths NULL in place), and the tests comparing marts built from the
    purged inputs with kpis_daily, or keyed by a purged column, leave closed days out."""
    plan, _, paths = forgotten
    assert {i.pii for i in plan} >= {"low", "medium", "high"}
    assert [i for i in plan if "postal_areas" in i.target] == []
    areas = str(paths.raw_for("postal_areas") / "**" / "*.parquet")
    assert duckdb.execute(f"SELECT count(*) = count(city) AND count(*) = count(region) FROM '{areas}'").fetchone() == (
        True,
    )
    built = _build(paths)
    assert built.returncode == 0, built.stdout[-3000:]
    results = _results(paths)
    manifest = json.loads((paths.root / "t" / "manifest.json").read_text())
    data_tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert len(results) == len(data_tests) > 300  # every data test of the project ran
    assert {status for status, _ in results.values()} <= {"pass", "warn"}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:  # the closed days' pages, kept
        assert con.execute("SELECT count(*), count(page_path) FROM marts.top_pages_daily").fetchone()[1] == 0


def test_after_a_killed_and_resumed_purge_the_build_and_its_tests_pass(purged, uninterrupted, built):
    paths, plan, _, rebuilt, resumed = purged
    assert plan == uninterrupted[0] and resumed == uninterrupted[1]
    purged_columns = {(i.target.split("/")[1], i.column) for i in plan if i.place == "raw"}
    assert {("events", "anonymous_id"), ("consent_logs", "anonymous_id"), ("customers", "email")} <= purged_columns
    assert {("orders", "customer_id"), ("events", "user_id")} <= purged_columns
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    results = _results(paths)
    retention_tests = {name: results[name] for name in _tests_of_retained_columns(paths)}
    # 32 columns of 20 models: page paths of top_pages_daily, cities and regions of fct_sessions,
    # search terms of int_searches_daily and the device keys of int_device_days_summarized among them
    assert len(retention_tests) == 20
    assert set(retention_tests.values()) == {("pass", 0)}
    # The views the tests read do hold the purged NULLs (a staging view reads raw as it is now).
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        con.execute("SET VARIABLE pii_hmac_key = ?", [KEY])  # the view pseudonymises as it reads
        [(nulls, kept)] = con.execute(
            "SELECT count(*) FILTER (WHERE anonymous_id IS NULL),"
            " count(*) FILTER (WHERE anonymous_id IS NOT NULL AND event_at < '2026-11-02')"
            " FROM main.stg_storefront__events"
        ).fetchall()
        [(emails,)] = con.execute("SELECT count(email) FROM main.stg_crm__customers").fetchall()
    # Device ids past 90 days are keys in raw, passed through by staging: none is lost but those
    # of events that counted for no one, which the purge cleared.
    assert nulls == len(_unconsented(DataPaths(built[1]))) > 0 and kept > 0 and emails == 0


def _unconsented(paths: DataPaths) -> set[str]:
    """The events a build excluded for a privacy signal or missing consent, on days the purge on
    AS_OF closed (unconsented.closed_before)."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return {
            event_id
            for (event_id,) in con.execute(
                "SELECT event_id FROM main.int_events_classified"
                " WHERE exclusion_reason IN ('privacy_signal', 'no_analytics_consent') AND event_at < ?::DATE",
                [unconsented.closed_before(AS_OF)],
            ).fetchall()
        }


def _raw_events(paths: DataPaths) -> list[tuple]:
    events = f"read_parquet('{paths.raw_for('events')}/*/*.parquet', hive_partitioning = false)"
    return duckdb.execute(f"SELECT event_id, anonymous_id, user_id, ip, user_agent FROM {events}").fetchall()


def test_unconsented_events_keep_no_clear_identifier_once_their_days_closed(purged, built):
    paths, pristine = purged[0], DataPaths(built[1])
    excluded = _unconsented(pristine)
    before, after = _raw_events(pristine), _raw_events(paths)
    assert len(excluded) > 50
    assert {row[1:] for row in after if row[0] in excluded} == {(None, None, None, None)}
    assert all(row[1] is not None for row in after if row[0] not in excluded)
    # Devices whose every event counted for no one are named nowhere: not in raw (their consent
    # decisions aside, kept as evidence), quarantine, the warehouse or the published marts. A
    # quarantined row was never classified: it keeps its payload for its class's 90 days.
    counted = {row[1] for row in before if row[0] not in excluded}
    quarantined = [str(f) for f in paths.quarantine_for("events").glob("part-*.parquet")]
    named_there = duckdb.execute(
        "SELECT DISTINCT d FROM unnest(?::VARCHAR[]) u(d), read_parquet(?) t WHERE contains(t::VARCHAR, d)",
        [sorted({row[1] for row in before}), quarantined],
    ).fetchall()
    devices = sorted({row[1] for row in before if row[0] in excluded} - counted - {d for (d,) in named_there})
    assert len(devices) > 5
    keys = [pseudonym(d, KEY) for d in devices]
    assert _parquet_rows_naming(paths, devices, but="consent_logs") == 0
    assert _published_rows_naming(paths, devices + keys) == 0 and warehouse_rows_naming(paths, devices) == 0
    # Their counts stay: the exclusions of the generated days are those the first build counted.
    scorecard = "SELECT date, store_id, privacy_signal_events, no_analytics_consent_events"
    scorecard += f" FROM marts.dq_scorecard_daily WHERE source = 'events' AND date < '{HISTORY_END}' ORDER BY ALL"
    with (
        duckdb.connect(str(paths.warehouse), read_only=True) as now,
        duckdb.connect(str(pristine.warehouse), read_only=True) as then,
    ):
        assert now.execute(scorecard).fetchall() == then.execute(scorecard).fetchall()


def test_marts_rebuilt_after_the_purge_keep_the_rows_built_before_it(purged):
    """The purge replaced the ids of the first day by their keys: rebuilding its rows gives them back
    as built (closed_by_purge closes days only from the low class's purge on, 2 years)."""
    paths, _, before, _, _ = purged
    for mart in MARTS:
        closed = [r for r in before[mart] if str(r[1]) < (HISTORY_END if MARTS[mart] else FIRST_OPEN_DAY)]
        assert closed, mart
        assert _rows(paths, mart, _closed(mart)) == closed, mart
    # Open days are rebuilt: the spoiled row is back to what the first build computed.
    assert _rows(paths, "traffic_sources_daily", f"date >= '{FIRST_OPEN_DAY}' AND date < '{HISTORY_END}'") == [
        r for r in before["traffic_sources_daily"] if FIRST_OPEN_DAY <= str(r[1]) < HISTORY_END
    ]


def test_a_null_inside_retention_still_fails(purged, tmp_path):
    """A device id missing from an event of a day still open fails the classified events' not-NULL
    test, where the device ids are stored (hashed once), while the purge's NULLs pass it."""
    paths = DataPaths(tmp_path / "data")  # a copy: later tests build on the purged folder as it is
    shutil.copytree(purged[0].root, paths.root)
    [file] = sorted(paths.raw_for("events").glob(f"date={BROWSING_DAY}/*.parquet"))[:1]
    with duckdb.connect() as con:
        rewrite_parquet(
            con,
            file,
            "SELECT * REPLACE (CASE WHEN row_number() OVER () = 1 THEN NULL ELSE anonymous_id END AS anonymous_id)"
            " FROM src",
        )
    # the copy's staging view reads the copy's raw files; every classified day again
    built = _build(paths, "--full-refresh", "--select", "stg_storefront__events", "int_events_classified")
    assert built.returncode == 1
    results = _results(paths)
    assert results["not_null_int_events_classified"] == ("fail", 1)
    assert results["not_null_stg_storefront__events"] == ("pass", 0)


def test_a_file_quarantine_kept_whole_is_deleted_past_its_retention(paths, built):
    from orchestration.landing.land import land_source

    for name, data in (("orders_old.csv", b""), ("orders_new.csv", b" \n")):
        target = paths.inbox_for("orders") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    land_source(paths, "orders")
    old, new = sorted((paths.quarantine_for("orders") / "files").iterdir(), key=lambda p: "new" in p.name)
    os.utime(old, (1577836800, 1577836800))  # kept on 2020-01-01

    [expired] = purge(paths, date.today(), manifest_path=_manifest(built[0]))
    assert (expired.place, expired.target, expired.column, expired.rows) == (
        "quarantine", str(old.relative_to(paths.root)), "file", 1
    )  # fmt: skip
    assert not old.exists() and new.exists()


def test_a_customer_returning_after_the_purge_is_the_same_customer(purged):
    paths = purged[0]
    key = pseudonym(RETURNING["customer_id"], KEY)
    first = RETURNING["order_id"]
    orders = f"read_parquet('{paths.raw_for('orders')}/*/*.parquet', hive_partitioning = false)"
    # In raw, the first order names the customer by their marked key; the day-120 one in clear.
    assert duckdb.execute(f"SELECT DISTINCT order_id, customer_id FROM {orders} WHERE order_id IN (?, ?) ORDER BY 1", [
        first, "ord-day-120"
    ]).fetchall() == [("ord-day-120", RETURNING["customer_id"]), (first, f"{MARK}{key}")]  # fmt: skip
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        facts = con.execute(
            "SELECT order_id, order_date, gmv FROM marts.fct_orders WHERE customer_id = ? ORDER BY 1", [key]
        ).fetchall()
        assert [(o, str(d)) for o, d, _ in facts] == [("ord-day-120", RETURN_DAY), (first, "2026-11-01")]
        [ltv] = con.execute(
            "SELECT orders, first_order_date, last_order_date, gmv FROM marts.customer_ltv WHERE customer_id = ?", [key]
        ).fetchall()
        assert ltv == (2, date(2026, 11, 1), date(2027, 2, 28), sum(g for *_, g in facts))
        # The only activity of store us in February 2027: one repeat order of the November 2026 cohort.
        cohort = con.execute(
            "SELECT cohort_month, months_since_first_order, active_customers, first_orders, repeat_orders, orders"
            " FROM marts.cohort_retention WHERE store_id = 'us' AND activity_month = '2027-02-01'"
        ).fetchall()
        assert [(str(c), *rest) for c, *rest in cohort] == [("2026-11-01", 3, 1, 0, 1, 1)]


def test_the_access_export_states_what_was_pseudonymised_and_when(purged):
    paths = purged[0]
    orders = f"read_parquet('{paths.raw_for('orders')}/*/*.parquet', hive_partitioning = false, filename = true)"
    sql = f"SELECT DISTINCT filename FROM {orders} WHERE order_id = ? ORDER BY 1"
    held = [str(Path(f).relative_to(paths.root)) for (f,) in duckdb.execute(sql, [RETURNING["order_id"]]).fetchall()]
    [purged_at] = {r[0] for r in audit.read(paths, "purge_log")}

    document = export_subject(paths, "us", RETURNING["customer_id"])

    steps = document["processing"]
    # Each landed version of their first order, in its own file, had its customer id replaced.
    action = "replaced by its pseudonymous key (keyed HMAC-SHA256)"
    pseudonymised = [
        s["target"] for s in steps if (s["column"], s["action"], s["at"]) == ("customer_id", action, purged_at)
    ]
    assert held and set(held) <= set(pseudonymised)
    # The day-120 order's file was never purged; their orders are in the document, under either form.
    assert not [s for s in steps if RETURN_DAY in s["target"]]
    assert {(o["order_id"], o["customer_id"]) for o in document["orders"]} == {
        (RETURNING["order_id"], f"{MARK}{pseudonym(RETURNING['customer_id'], KEY)}"),
        ("ord-day-120", RETURNING["customer_id"]),
    }
    truncated = [s for s in steps if s["column"] == "ip"]
    assert {s["target"].split("/")[1] for s in truncated} <= {"events"}
    assert all(e["ip"] is None or e["ip"].endswith((".0", "::")) for e in document["events"])
    warehouse = {"place": "warehouse", "target": "every table", "column": None, "action": WAREHOUSE_PROCESSING}
    assert steps[-1] == {**warehouse, "at": "at every build"}


def _marts(paths: DataPaths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()
        return {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall() for (t,) in tables}


def test_a_full_refresh_after_the_purge_rebuilds_every_mart_row_for_row(purged):
    paths = purged[0]
    incremental = _marts(paths)

    refreshed = _build(paths, "--full-refresh", "--quiet")

    assert refreshed.returncode == 0, refreshed.stdout[-3000:]
    rebuilt = _marts(paths)
    assert rebuilt.keys() == incremental.keys() and len(rebuilt) > 30
    assert [m for m in incremental if rebuilt[m] != incremental[m]] == []
    assert sum(map(len, rebuilt.values())) > 1000


def _parquet_rows_naming(paths: DataPaths, values: list[str], but: str | None = None) -> int:
    """Rows of every Parquet file (raw, quarantine) whose text holds one of `values`; `but` names
    a source whose raw files are left out."""
    files = [str(f) for place in (paths.raw, paths.quarantine) for f in place.rglob("*.parquet")]
    files = [f for f in files if but is None or not f.startswith(str(paths.raw_for(but)))]
    condition = " OR ".join("contains(t::VARCHAR, ?)" for _ in values)
    sql = f"SELECT count(*) FROM read_parquet(?, union_by_name = true) t WHERE {condition}"
    return duckdb.execute(sql, [files, *values]).fetchone()[0]


def _published_rows_naming(paths: DataPaths, values: list[str]) -> int:
    found = 0
    for published in sorted(paths.root.glob("marts*.duckdb")):
        with duckdb.connect(str(published), read_only=True) as con:
            for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                condition = " OR ".join("contains(t::VARCHAR, ?)" for _ in values)
                found += con.execute(f'SELECT count(*) FROM "{table}" t WHERE {condition}', values).fetchone()[0]
    return found


def test_an_erasure_after_the_purge_removes_the_pseudonymous_key_everywhere(purged, monkeypatch):
    paths = purged[0]
    monkeypatch.setenv("PII_HMAC_KEY", KEY)
    monkeypatch.setenv("DATA_DIR", str(paths.root))
    customer = ERASED["customer_id"]
    subject = find_subject(paths, "us", customer)
    keys = sorted({subject.keyed_hash(v, paths) for v in (customer, *subject.devices)})
    named = [customer, *keys]
    assert _parquet_rows_naming(paths, [f"{MARK}{pseudonym(customer, KEY)}"]) > 0  # the purge's keys are theirs too
    assert _parquet_rows_naming(paths, named) > 0 and warehouse_rows_naming(paths, keys) > 0

    erase(paths, "us", customer)

    assert _parquet_rows_naming(paths, named) == 0
    assert warehouse_rows_naming(paths, keys) == 0
    assert _published_rows_naming(paths, named) == 0


def test_consent_given_before_the_purge_still_counts_and_a_withdrawal_still_ends_it(purged):
    paths = purged[0]
    consent_logs = f"read_parquet('{paths.raw_for('consent_logs')}/*/*.parquet', hive_partitioning = false)"
    stays, leaves = pseudonym("dev-stays", KEY), pseudonym("dev-leaves", KEY)
    # Day 1's decisions name the devices by their keys in raw, day 50's in clear.
    assert duckdb.execute(
        f"SELECT consent_event_id, anonymous_id FROM {consent_logs} WHERE consent_event_id LIKE 'cev-%' ORDER BY 1"
    ).fetchall() == [("cev-1", f"{MARK}{stays}"), ("cev-2", f"{MARK}{leaves}"), ("cev-3", "dev-leaves")]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        classified = con.execute(
            "SELECT event_id, exclusion_reason FROM main.int_events_classified WHERE event_id LIKE 'ev-dev%' ORDER BY 1"
        ).fetchall()
        viewed = con.execute(
            "SELECT visitor_id, view_date FROM marts.fct_page_views WHERE visitor_id IN (?, ?) ORDER BY 2, 1",
            [stays, leaves],
        ).fetchall()
    assert classified == [
        (_view_id("dev-leaves", CONSENTED_DAY), None),
        (_view_id("dev-leaves", BROWSING_DAY), "no_analytics_consent"),
        (_view_id("dev-stays", CONSENTED_DAY), None),
        (_view_id("dev-stays", BROWSING_DAY), None),
    ]
    expected = [(stays, CONSENTED_DAY), (leaves, CONSENTED_DAY), (stays, BROWSING_DAY)]
    assert [(v, str(d)) for v, d in viewed] == sorted(expected, key=lambda r: (r[1], r[0]))


def test_consent_evidence_goes_three_years_after_the_decision_ended(paths, built, monkeypatch):
    from orchestration.landing.land import land_source

    monkeypatch.setenv("PII_HMAC_KEY", KEY)
    write_csv(paths, "consent_logs", "consent.csv", [
        {**ANALYTICS_DECISION, "consent_event_id": "granted-then-withdrawn", "anonymous_id": "dev-a",
         "action": "granted", "recorded_at": "2026-11-01T08:00:00.000Z"},
        {**ANALYTICS_DECISION, "consent_event_id": "withdrawn", "anonymous_id": "dev-a", "action": "withdrawn",
         "recorded_at": "2026-12-20T08:00:00.000Z"},
        {**ANALYTICS_DECISION, "consent_event_id": "granted-in-force", "anonymous_id": "dev-b", "action": "granted",
         "recorded_at": "2026-11-01T08:00:00.000Z"},
        {**ANALYTICS_DECISION, "consent_event_id": "denied-later", "anonymous_id": "dev-c", "action": "denied",
         "recorded_at": "2026-12-21T08:00:00.000Z"},
    ])  # fmt: skip
    with _landing_clock():
        land_source(paths, "consent_logs")
    raw = f"read_parquet('{paths.raw_for('consent_logs')}/*/*.parquet', hive_partitioning = false)"

    def devices() -> dict[str, str | None]:
        return dict(duckdb.execute(f"SELECT consent_event_id, anonymous_id FROM {raw}").fetchall())

    marked = {device: f"{MARK}{pseudonym(device, KEY)}" for device in ("dev-a", "dev-b", "dev-c")}
    purge(paths, date(2029, 12, 20), _manifest(built[0]))  # 3 years after the withdrawal, to the day
    assert devices() == {
        "granted-then-withdrawn": marked["dev-a"], "withdrawn": marked["dev-a"],
        "granted-in-force": marked["dev-b"], "denied-later": marked["dev-c"],
    }  # fmt: skip

    [*plan] = purge(paths, date(2029, 12, 21), _manifest(built[0]))

    assert devices() == {
        "granted-then-withdrawn": None, "withdrawn": None,
        "granted-in-force": marked["dev-b"], "denied-later": marked["dev-c"],
    }  # fmt: skip
    assert sorted((i.target.split("/")[2], i.column, i.pii, str(i.cutoff), i.rows) for i in plan) == [
        ("date=2026-11-01", "anonymous_id", "pseudonymous", "2026-12-21", 1),
        ("date=2026-12-20", "anonymous_id", "pseudonymous", "2026-12-21", 1),
    ]
