"""Privacy and governance on one small generated warehouse: card numbers quarantined, the retention
purge (dry run equals the real run), the access export, per-store publishing, and erasure proven by a
scan of every file and table and by KPIs equal to a warehouse built without the customer."""

import csv
import gzip
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration import warehouse
from orchestration.cli import main
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance import audit
from orchestration.governance.classification import undocumented_columns
from orchestration.governance.erase import erase
from orchestration.governance.export import export_subject
from orchestration.governance.purge import purge
from orchestration.governance.subject import Subject, find_subject
from orchestration.landing import manifest
from orchestration.landing.land import land_all
from orchestration.publish import publish_marts
from orchestration.settings import DataPaths
from tests.conftest import product_build, write_csv

CARD = "4111 1111 1111 1111"  # a Visa test number: passes Luhn
NOT_A_CARD = "1234567890123456"  # 16 digits failing Luhn: an order number
KEY = "governance-test-key"
STORE, CUSTOMER = "us", "cus-us-0000001"


def _plant_card_numbers(paths: DataPaths) -> None:
    """A review extract whose free text carries a card number in one row and an order number in another
    (20 more plain rows keep the quarantined share under the batch's 5 %)."""
    review = {"store_id": "uk", "product_id": "prd-uk-0001", "customer_id": "cus-uk-0000002", "rating": "2"}
    review |= {"title": "late", "created_at": "2026-11-02T10:00:00.000Z"}
    write_csv(
        paths,
        "reviews",
        "reviews_planted.csv",
        [
            {**review, "review_id": "rev-card", "body": f"charged twice on card {CARD}, please refund"},
            {**review, "review_id": "rev-order", "body": f"order {NOT_A_CARD} arrived late"},
            *({**review, "review_id": f"rev-{i}", "body": "fine"} for i in range(20)),
        ],
    )


def _build(paths: DataPaths, *select: str) -> None:
    result = product_build(paths, "--quiet", *select, key=KEY)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("PII_HMAC_KEY", KEY)
    paths = DataPaths(tmp_path_factory.mktemp("governance"))
    generate(paths, GeneratorConfig(days=2, stores=2, events_per_day=1000, seed=17))
    _plant_card_numbers(paths)
    pristine = tmp_path_factory.mktemp("pristine_inbox")
    shutil.copytree(paths.inbox, pristine, dirs_exist_ok=True)
    land_all(paths)
    _build(paths)
    warehouse.record_build(paths, "governance-test")  # what a Dagster run records, so publishing accepts it
    publish_marts(paths)
    yield paths, pristine
    mp.undo()


def _copy(paths: DataPaths, tmp_path) -> DataPaths:
    copy = DataPaths(tmp_path / "data")
    shutil.copytree(paths.root, copy.root)
    return copy


def test_a_card_number_in_free_text_is_quarantined_and_masked_an_order_number_is_not(built):
    paths, _ = built
    [record] = [r for r in manifest.records(paths, "reviews") if r.quarantined_by_reason.get("card_number:body")]
    assert record.quarantined_by_reason["card_number:body"] == 1
    assert record.rows_received == record.rows_landed + record.rows_quarantined + record.duplicates_dropped
    quarantine = paths.quarantine_for("reviews") / f"part-{record.extract_id}.parquet"
    [(payload, field)] = duckdb.execute(
        "SELECT payload, field FROM read_parquet(?) WHERE reason_code = 'card_number'", [str(quarantine)]
    ).fetchall()
    assert field == "body" and "[card number removed]" in payload and "4111" not in payload
    landed = duckdb.execute(
        f"SELECT count(*) FROM read_parquet('{paths.raw}/reviews/*/*.parquet') WHERE body LIKE ?", [f"%{NOT_A_CARD}%"]
    ).fetchone()
    assert landed == (1,)


def test_every_built_column_is_documented_in_the_yaml(built):
    paths, _ = built
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()"
            " WHERE schema_name IN ('main', 'marts') GROUP BY 1"
        ).fetchall()
    nodes = json.loads((paths.root / "target" / "manifest.json").read_text())["nodes"].values()
    models = {n["alias"] for n in nodes if n["resource_type"] == "model"}
    assert undocumented_columns({t: cols for t, cols in rows if t in models}, Path("models")) == []


def test_purge_dry_run_equals_the_real_run_and_nulls_only_expired_values(built, tmp_path):
    paths = _copy(built[0], tmp_path)
    as_of = date(2027, 1, 31)  # medium (90 days) and high (30) expire before 2026-11-02, low (2 years) not
    manifest_path = paths.root / "target" / "manifest.json"
    customers = sorted(paths.raw_for("customers").glob("*/*.parquet"))  # high: every partition expired
    [(emails, cities)] = duckdb.execute(
        "SELECT count(email), count(city) FROM read_parquet(?)", [[str(f) for f in customers]]
    ).fetchall()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        [(visitors,)] = con.execute(
            "SELECT count(visitor_id) FROM marts.fct_sessions WHERE session_date < '2026-11-02'"
        ).fetchall()
        kept_sessions = con.execute(
            "SELECT session_id, visitor_id FROM marts.fct_sessions WHERE session_date >= '2026-11-02' ORDER BY 1"
        ).fetchall()

    plan = purge(paths, as_of, manifest_path, dry_run=True)
    done = purge(paths, as_of, manifest_path)

    assert plan == done
    assert sum(i.rows for i in plan if i.column == "email") == emails > 0
    # Visitor ids are pseudonymous keys, kept 25 months after the visitor's last activity.
    assert not [i for i in plan if i.column == "visitor_id"] and visitors > 0
    assert not [i for i in plan if i.pii in ("none", "low")]
    assert purge(paths, as_of, manifest_path, dry_run=True) == []  # nothing expired is left
    [(emails_after, cities_after)] = duckdb.execute(
        "SELECT count(email), count(city) FROM read_parquet(?)", [[str(f) for f in customers]]
    ).fetchall()
    assert (emails_after, cities_after) == (0, cities)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert (
            con.execute(
                "SELECT session_id, visitor_id FROM marts.fct_sessions WHERE session_date >= '2026-11-02' ORDER BY 1"
            ).fetchall()
            == kept_sessions
        )
        sql = "SELECT count(visitor_id) FROM marts.fct_sessions WHERE session_date < '2026-11-02'"
        assert con.execute(sql).fetchone() == (visitors,)
    logged = audit.read(paths, "purge_log")
    assert sorted((r[2], r[3], r[4], r[7]) for r in logged) == sorted(
        (i.place, i.target, i.column, i.rows) for i in done
    )


def test_gdpr_export_holds_the_customer_in_clear(built):
    paths, pristine = built
    with (pristine / "customers" / "customers_20261101.csv").open(newline="") as handle:
        [crm] = [r for r in csv.DictReader(handle) if r["customer_id"] == CUSTOMER]
    with (pristine / "orders" / "orders_20261101.csv").open(newline="") as handle:
        orders = {r["order_id"] for r in csv.DictReader(handle) if r["customer_id"] == CUSTOMER}
    document = json.loads(json.dumps(export_subject(paths, STORE, CUSTOMER), default=str))
    assert [r["email"] for r in document["customer_records"]] == [crm["email"]]
    assert document["customer_records"][0]["last_name"] == crm["last_name"]
    assert {o["order_id"] for o in document["orders"]} == orders
    assert {i["order_id"] for i in document["order_items"]} <= orders and document["order_items"]
    assert {e["anonymous_id"] for e in document["events"]} == set(document["devices"])
    assert all(e["user_id"] in (None, CUSTOMER) for e in document["events"])


def test_unknown_customer_is_a_clear_error(built, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(built[0].root))
    with pytest.raises(SystemExit) as exit_:
        main(["erase", "--store", STORE, "--customer-id", "cus-us-9999999"])
    assert exit_.value.code == 2
    assert "no customer 'cus-us-9999999' in store 'us'" in capsys.readouterr().err


def test_a_store_publish_holds_only_that_store(built):
    paths, _ = built
    published = publish_marts(paths, store="uk")
    with duckdb.connect(str(published.path), read_only=True) as con:
        sql = "SELECT table_name FROM duckdb_columns() WHERE column_name = 'store_id'"
        marts = [t for (t,) in con.execute(sql).fetchall()]
        assert len(marts) > 20
        # the calendar holds no tenant's rows and is published whole
        assert con.execute("SELECT count(*) FROM dim_dates").fetchone()[0] > 365
        for mart in marts:
            assert con.execute(f"SELECT count(*) FROM {mart} WHERE store_id IS DISTINCT FROM 'uk'").fetchone() == (0,)


def _filtered_inbox(pristine, target, subject: Subject) -> None:
    """The extracts as the sources would have sent them without the customer (the reference)."""
    identifiers = set(subject.identifiers)
    for source in pristine.iterdir():
        for path in source.iterdir():
            out = target / source.name / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".gz":
                batches = [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
                for batch in batches:
                    batch["events"] = [e for e in batch["events"] if not identifiers & set(map(str, _leaves(e)))]
                text = "".join(json.dumps(b) + "\n" for b in batches if b["events"])
                out.write_bytes(gzip.compress(text.encode()))
            else:
                lines = path.read_text().splitlines(keepends=True)
                out.write_text("".join(line for line in lines if not identifiers & set(line.strip().split(","))))


def _leaves(value):
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    return [value]


def _strings_in_tables(database, needles) -> list[str]:
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() c"
            " WHERE data_type = 'VARCHAR' AND NOT internal"
            " AND EXISTS (SELECT 1 FROM duckdb_tables() t WHERE t.table_name = c.table_name)"
        ).fetchall()
        for schema, table, column in columns:
            for needle in needles:
                hit = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains("{column}", ?)', [needle])
                if hit.fetchone()[0]:
                    found.append(f"{table}.{column}: {needle}")
    return found


def test_erasure_leaves_no_trace_and_kpis_equal_a_build_without_the_customer(built, tmp_path, monkeypatch):
    paths, pristine = built
    monkeypatch.setenv("DATA_DIR", str(paths.root))
    subject = find_subject(paths, STORE, CUSTOMER)
    assert subject.devices and subject.order_ids and subject.emails
    removed = erase(paths, STORE, CUSTOMER)
    assert removed["raw"] > 0 and removed["warehouse"] > 0

    # Order ids are not personal (class none): the stock ledger keeps naming shipped orders.
    clear = [CUSTOMER, *subject.emails, *subject.devices]
    hashed = [subject.keyed_hash(v, paths) for v in (CUSTOMER, *subject.devices)]
    for place in (paths.raw, paths.quarantine, paths.inbox):
        for file in place.rglob("*.*"):
            data = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
            assert not [n for n in clear if n.encode() in data], file
    for database in (paths.warehouse, paths.root / "marts.duckdb"):
        assert _strings_in_tables(database, clear + hashed) == []
        assert not [n for n in clear + hashed if n.encode() in database.read_bytes()], database
    [row] = audit.read(paths, "erasure_log")[:1]
    assert row[1:3] == (STORE, hashed[0])

    reference = DataPaths(tmp_path / "reference")
    _filtered_inbox(pristine, reference.inbox, subject)
    land_all(reference)
    _build(reference, "--select", "+kpis_daily", "--exclude", "resource_type:test")
    kpis = "SELECT * FROM marts.kpis_daily ORDER BY ALL"
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        erased = con.execute(kpis).fetchall()
    with duckdb.connect(str(reference.warehouse), read_only=True) as con:
        expected = con.execute(kpis).fetchall()
    assert erased == expected
