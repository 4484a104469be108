"""Erasure that survives a crash, reaches quarantined lines that could not be parsed, and runs as a
Dagster job whose stored config names no one; the retention purge as a Dagster job. One small
generated warehouse (2 days, 2 stores), used in order: erase, then purge and erase with Dagster."""

import gzip
import json
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from orchestration import warehouse
from orchestration.cli import main
from orchestration.defs import privacy
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance import audit
from orchestration.governance import erase as erasure
from orchestration.governance.erase import erase, file_request, pending_requests, warehouse_rows_naming
from orchestration.governance.export import export_subject
from orchestration.governance.subject import UnknownCustomer, find_subject, parquet_files, row_filters
from orchestration.landing import suppression
from orchestration.landing.land import land_all, land_source
from orchestration.publish import publish_marts
from orchestration.settings import DataPaths
from tests.conftest import order, product_build, write_csv

KEY = "erasure-test-key"
STORE, CUSTOMER = "us", "cus-us-0000001"
# Known only from a review line the CSV parser rejected: nothing of theirs landed.
UNPARSED_ONLY = "cus-us-9000001"


def _plant_unparseable_review(paths: DataPaths, name: str, customer: str) -> None:
    """A review extract with one line of too many fields naming `customer` (the parser rejects the
    line; its text is quarantined as received) among 30 good rows."""
    good = {"store_id": "uk", "product_id": "prd-uk-0001", "customer_id": "cus-uk-0000002", "rating": "4"}
    good |= {"title": "fine", "body": "fine", "created_at": "2026-11-02T10:00:00.000Z"}
    path = write_csv(paths, "reviews", name, [{**good, "review_id": f"{name}-{i}"} for i in range(30)])
    broken = f"rev-{customer},us,prd-us-0001,{customer},5,great,loved it,2026-11-02T11:00:00.000Z,x,y\n"
    path.write_text(path.read_text() + broken)


def _quarantined_naming(paths: DataPaths, value: str) -> list[str]:
    """Reason codes of quarantined rows whose payload holds `value`."""
    files = [str(f) for f in sorted(paths.quarantine.glob("*/part-*.parquet"))]
    sql = "SELECT reason_code FROM read_parquet(?, union_by_name = true) WHERE contains(payload, ?) ORDER BY 1"
    return [r for (r,) in duckdb.execute(sql, [files, value]).fetchall()]


def _files_naming(paths: DataPaths, values: list[str]) -> list[str]:
    found = []
    for place in (paths.raw, paths.quarantine, paths.inbox):
        for file in place.rglob("*.*"):
            data = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
            found += [f"{file}: {v}" for v in values if v.encode() in data]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("PII_HMAC_KEY", KEY)
    paths = DataPaths(tmp_path_factory.mktemp("erasure"))
    mp.setenv("DATA_DIR", str(paths.root))
    generate(paths, GeneratorConfig(days=2, stores=2, events_per_day=1000, seed=17))
    _plant_unparseable_review(paths, "reviews_broken_a.csv", CUSTOMER)
    _plant_unparseable_review(paths, "reviews_broken_b.csv", UNPARSED_ONLY)
    land_all(paths)
    result = product_build(paths, "--quiet", key=KEY, target=paths.root / "t")
    assert result.returncode == 0, result.stdout[-3000:]
    warehouse.record_build(paths, "erasure-test")
    publish_marts(paths)
    yield paths
    mp.undo()


def test_a_blank_customer_id_is_refused_before_anything_is_filed(built, capsys):
    for blank in ("", "  "):
        with pytest.raises(UnknownCustomer, match="the customer id is blank"):
            erase(built, STORE, blank)
        with pytest.raises(UnknownCustomer, match="the customer id is blank"):
            export_subject(built, STORE, blank)
    with pytest.raises(SystemExit) as refused:
        main(["erase", "--store", STORE, "--customer-id", ""])
    assert refused.value.code == 2
    assert "commerce-analytics: error: the customer id is blank" in capsys.readouterr().err
    assert pending_requests(built) == []


def test_an_erasure_that_dies_halfway_resumes_and_audits_once(built, monkeypatch):
    paths = built
    subject = find_subject(paths, STORE, CUSTOMER)
    clear = [CUSTOMER, *subject.emails, *subject.devices]
    pseudonyms = [subject.keyed_hash(v, paths) for v in subject.pseudonymized]
    with duckdb.connect() as con:
        expected_raw = sum(
            con.execute(f"SELECT count(*) FROM read_parquet(?) WHERE {condition}", [str(f)]).fetchall()[0][0]
            for source, condition in row_filters(subject).items()
            for f in parquet_files(paths, source)
        )
    assert _quarantined_naming(paths, CUSTOMER) == ["unparseable_row"]
    [quarantined] = export_subject(paths, STORE, CUSTOMER)["quarantined_rows"]
    assert quarantined["source"] == "reviews" and f",{CUSTOMER},5,great," in json.loads(quarantined["payload"])["line"]
    expected_warehouse = warehouse_rows_naming(paths, pseudonyms)
    assert expected_raw > 10 and expected_warehouse > 0

    rewrites = []

    def crash_on_the_third(con, file, select):
        if len(rewrites) == 2:
            raise RuntimeError("simulated crash")
        rewrites.append(file)
        real_rewrite(con, file, select)

    real_rewrite = erasure.rewrite_parquet
    monkeypatch.setattr(erasure, "rewrite_parquet", crash_on_the_third)
    with pytest.raises(RuntimeError, match="simulated crash"):
        erase(paths, STORE, CUSTOMER)
    monkeypatch.setattr(erasure, "rewrite_parquet", real_rewrite)
    # Halfway: two files cleaned, others not, the request (and its plan) kept, nothing audited.
    assert len(pending_requests(paths)) == 1
    assert _files_naming(paths, [CUSTOMER]) and audit.read_if_any(paths, "erasure_log") == []

    removed = erase(paths, STORE, CUSTOMER)

    inbox_rows = removed["inbox"]
    assert removed == {"inbox": inbox_rows, "raw": expected_raw, "quarantine": 1, "warehouse": expected_warehouse}
    assert inbox_rows > 0
    logged = audit.read(paths, "erasure_log")
    assert sorted((r[1], r[2], r[3], r[4]) for r in logged) == sorted(
        (STORE, pseudonyms[0], place, n) for place, n in removed.items()
    )
    assert pending_requests(paths) == [] and list((paths.root / "erasure_requests").rglob("*.json")) == []
    assert _files_naming(paths, clear) == []
    assert _quarantined_naming(paths, CUSTOMER) == []
    assert warehouse_rows_naming(paths, pseudonyms) == 0

    # Re-delivered later (a new order of theirs, an old one re-sent): dropped at landing, counted.
    again = [order(order_id="ord-again", customer_id=CUSTOMER), order(order_id=subject.order_ids[0], customer_id="x")]
    write_csv(paths, "orders", "orders_redelivered.csv", again)
    [record] = land_source(paths, "orders")
    assert (record.status, record.rows_received, record.rows_erased_subject, record.rows_landed) == (
        "landed", 2, 2, 0
    )  # fmt: skip
    assert [f for f in _files_naming(paths, clear) if "/inbox/" not in f] == []
    assert pseudonyms[0] in suppression.suppressed(paths)[STORE]
    with pytest.raises(UnknownCustomer):
        erase(paths, STORE, CUSTOMER)  # done: nothing names them any more


def test_purge_and_erasure_jobs_run_in_dagster_and_store_no_customer_id(built, monkeypatch, capsys):
    paths = built
    monkeypatch.setattr(privacy, "dbt_project", SimpleNamespace(manifest_path=paths.root / "t" / "manifest.json"))
    instance = dg.DagsterInstance.ephemeral()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        kpis_before = con.execute("SELECT * FROM marts.kpis_daily ORDER BY ALL").fetchall()

    purged = privacy.retention_purge.execute_in_process(
        run_config={"ops": {"purge_expired": {"config": {"as_of": "2027-01-31"}}}}, instance=instance
    )

    assert purged.success
    logged = [r for r in audit.read(paths, "purge_log") if str(r[1]) == "2027-01-31"]
    assert purged.output_for_node("purge_expired") == sum(r[7] for r in logged) > 0
    events = [str(f) for f in paths.raw_for("events").glob("date=2026-11-01/*.parquet")]
    # Past 90 days a device id is its marked pseudonymous key (NULL where its event counted for no
    # one: governance/unconsented.py).
    sql = "SELECT count(anonymous_id), count(*) FILTER (WHERE starts_with(anonymous_id, 'pseudonym:'))"
    sql += " FROM read_parquet(?)"
    [(rows, keys)] = duckdb.execute(sql, [events]).fetchall()
    assert rows == keys > 0

    assert _quarantined_naming(paths, UNPARSED_ONLY) == ["unparseable_row"]
    assert main(["erase", "--store", STORE, "--customer-id", UNPARSED_ONLY, "--file-only"]) == 0
    key = capsys.readouterr().out.split("customer_key: ")[1].strip().rstrip("}")
    assert pending_requests(paths) == [(STORE, key)] and key == file_request(paths, STORE, UNPARSED_ONLY)
    erased = privacy.customer_erasure.execute_in_process(
        run_config={"ops": {"erase_customer": {"config": {"store_id": STORE, "customer_key": key}}}},
        instance=instance,
    )

    assert erased.success
    assert erased.output_for_node("erase_customer") == {"inbox": 1, "raw": 0, "quarantine": 1, "warehouse": 0}
    assert _quarantined_naming(paths, UNPARSED_ONLY) == [] and _files_naming(paths, [UNPARSED_ONLY]) == []
    stored = json.dumps(instance.get_run_by_id(erased.run_id).run_config)
    assert key in stored and UNPARSED_ONLY not in stored
    assert not [e for e in instance.all_logs(erased.run_id) if UNPARSED_ONLY in str(e)]
    # Nothing of theirs was in the warehouse: the erasure's rebuild gives the same aggregates.
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT * FROM marts.kpis_daily ORDER BY ALL").fetchall() == kpis_before
    assert pending_requests(paths) == []


def test_files_landing_rejected_whole_are_deleted_when_they_name_the_subject(paths):
    truncated = paths.inbox_for("events") / "events_broken.jsonl.gz"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(gzip.compress(b'{"batch_id": "b1", "events": [{"anonymous_id": "dev-9"}]}\n')[:-8])
    kept = paths.quarantine_for("orders") / "files" / "0123456789abcdef-orders.csv"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"\xff\xfeorder;cus-9\nother;cus-1\n")
    subject = erasure.Subject(STORE, "cus-9", (), ("dev-9",), ())
    inbox = erasure._plan_inbox(paths, set(subject.identifiers))
    assert inbox == [{"place": "inbox", "target": "inbox/events/events_broken.jsonl.gz", "rows": 1, "delete": True}]
    with duckdb.connect() as con:
        [quarantined] = erasure._plan_files(con, paths, subject)
        assert quarantined == {
            "place": "quarantine",
            "target": str(kept.relative_to(paths.root)),
            "rows": 1,
            "delete": True,
        }
        erasure._apply_file(con, paths, quarantined, subject)
    erasure._apply_inbox(paths, inbox[0], set(subject.identifiers))
    assert not kept.exists() and not truncated.exists()
