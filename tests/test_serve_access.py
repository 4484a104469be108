"""Access to the API and dashboard: 401/403, store scopes on every endpoint, expiry, revocation, audit."""

import csv
import io
import json

import duckdb
import pytest
from starlette.testclient import TestClient

from orchestration.cli import main
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance.audit import audit_path
from orchestration.governance.export import SECTIONS
from orchestration.landing.land import land_all
from orchestration.serve import access
from orchestration.serve.app import create_app
from orchestration.serve.panels import PANELS
from orchestration.serve.sessions import IDLE_SECONDS
from orchestration.settings import DataPaths
from tests.dashboard_fixture import build_marts

RANGE = {"from": "2026-11-01", "to": "2026-11-14"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("access") / "data")
    build_marts(paths)
    tokens = {
        name: access.add(paths, name, role, stores)
        for name, role, stores in [
            ("admin", "admin", ["*"]),
            ("uk_admin", "admin", ["uk"]),
            ("uk_analyst", "analyst", ["uk"]),
            ("uk_viewer", "viewer", ["uk"]),
        ]
    }
    clock = Clock()
    app = create_app(paths, clock)
    with TestClient(app) as client:
        yield paths, client, {name: token for name, (_, token) in tokens.items()}, clock, app


def bearer(token):
    return {"authorization": f"Bearer {token}"}


def login(server_app, token) -> TestClient:
    client = TestClient(server_app)
    response = client.post("/api/v1/session", json={"token": token})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and token.lower() not in cookie
    return client


def test_secure_headers_on_every_response(server):
    _, client, tokens, _, _ = server
    for response in (
        client.get("/api/v1/kpis"),
        client.get("/login"),
        client.get("/api/v1/kpis", headers=bearer(tokens["admin"])),
        client.get("/api/v1/export/kpis_daily.csv", headers=bearer(tokens["admin"])),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_no_or_bad_token_is_401_everywhere(server):
    _, client, tokens, _, _ = server
    for path in [*(f"/api/v1/{p}" for p in PANELS), "/api/v1/compliance", "/api/v1/export/kpis_daily.csv"]:
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=bearer("ca_000000000000_" + "x" * 43)).status_code == 401
        assert client.get(path, headers=bearer(tokens["admin"][:-1] + "!")).status_code == 401
    # A page without a session sends the browser to the login form.
    response = client.get("/sales", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (302, "/login?next=/sales")


def test_other_store_and_admin_panels_are_403(server):
    _, client, tokens, _, app = server
    analyst = bearer(tokens["uk_analyst"])
    assert client.get("/api/v1/kpis", params={"store": "us"}, headers=analyst).status_code == 403
    assert client.get("/api/v1/kpis", params={"store": "uk,us"}, headers=analyst).status_code == 403
    assert client.get("/api/v1/export/kpis_daily.csv", params={"store": "us"}, headers=analyst).status_code == 403
    for admin_only in ("quality", "consent", "compliance"):
        assert client.get(f"/api/v1/{admin_only}", headers=analyst).status_code == 403
    assert client.get("/api/v1/export/dq_scorecard_daily.csv", headers=analyst).status_code == 403
    # A viewer reads through the dashboard: its token alone opens no API endpoint, its session no export.
    assert client.get("/api/v1/kpis", headers=bearer(tokens["uk_viewer"])).status_code == 403
    viewer = login(app, tokens["uk_viewer"])
    assert viewer.get("/api/v1/kpis").status_code == 200
    assert viewer.get("/api/v1/export/kpis_daily.csv").status_code == 403
    assert viewer.get("/quality").status_code == 403
    assert viewer.get("/").status_code == 200


def _store_ids(value) -> set[str]:
    if isinstance(value, dict):
        return {v for k, v in value.items() if k == "store_id"} | {s for v in value.values() for s in _store_ids(v)}
    if isinstance(value, list):
        return {s for v in value for s in _store_ids(v)}
    return set()


def test_a_uk_token_never_receives_a_us_row(server):
    """On every endpoint, the uk admin's answer equals the all-stores admin's answer for store=uk."""
    _, client, tokens, _, _ = server
    uk, everyone = bearer(tokens["uk_admin"]), bearer(tokens["admin"])
    for panel in [*PANELS, "compliance"]:
        for params in (RANGE, {**RANGE, "store": "uk"}):
            scoped = client.get(f"/api/v1/{panel}", params=params, headers=uk)
            assert scoped.status_code == 200, panel
            assert scoped.json()["filters"]["stores"] == ["uk"]
            assert _store_ids(scoped.json()) <= {"uk"}
            assert (
                scoped.json()
                == client.get(f"/api/v1/{panel}", params={**RANGE, "store": "uk"}, headers=everyone).json()
            )
    us_figures = client.get("/api/v1/kpis", params={**RANGE, "store": "us"}, headers=everyone).json()
    assert us_figures["kpis"][0]["value"] == 2 * 105
    for mart in ("kpis_daily", "revenue_daily", "funnel_daily", "customer_ltv", "reorder_alerts", "dq_scorecard_daily"):
        rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/export/{mart}.csv", headers=uk).text)))
        assert rows and {r["store_id"] for r in rows} == {"uk"}, mart


def test_sessions_expire_after_15_idle_minutes_and_die_with_their_token(server):
    paths, _, tokens, clock, app = server
    session = login(app, tokens["uk_analyst"])
    clock.now += IDLE_SECONDS - 1
    assert session.get("/api/v1/kpis").status_code == 200  # activity keeps it alive
    clock.now += IDLE_SECONDS - 1
    assert session.get("/api/v1/kpis").status_code == 200
    clock.now += IDLE_SECONDS + 1
    assert session.get("/api/v1/kpis").status_code == 401
    grant, token = access.add(paths, "leaver", "analyst", ["uk"])
    session = login(app, token)
    client = TestClient(app)
    assert client.get("/api/v1/kpis", headers=bearer(token)).status_code == 200
    access.revoke(paths, grant.token_id)
    assert client.get("/api/v1/kpis", headers=bearer(token)).status_code == 401
    assert session.get("/api/v1/kpis").status_code == 401
    assert client.post("/api/v1/session", json={"token": token}).status_code == 401


def test_access_commands_store_only_a_hash(paths, capsys):
    assert main(["access", "add", "dana", "--role", "analyst", "--stores", "uk,us"]) == 0
    token = capsys.readouterr().out.splitlines()[-1]
    [grant] = access.grants(paths)
    assert (grant.name, grant.role, grant.stores) == ("dana", "analyst", ("uk", "us"))
    assert access.authenticate(paths, token) == grant
    stored = (paths.root / "access" / f"{grant.token_id}.json").read_text()
    assert token.split("_")[-1] not in stored and token not in stored
    assert main(["access", "list"]) == 0
    assert grant.token_id in capsys.readouterr().out
    assert main(["access", "revoke", grant.token_id]) == 0
    assert access.authenticate(paths, token) is None
    with pytest.raises(SystemExit):
        main(["access", "add", "eve", "--role", "root", "--stores", "uk"])


def test_every_access_is_audited_without_a_secret(server):
    paths, client, tokens, _, app = server
    client.get("/api/v1/revenue", params=RANGE, headers=bearer(tokens["uk_analyst"]))
    client.get("/api/v1/revenue", params={"store": "us"}, headers=bearer(tokens["uk_analyst"]))
    client.get("/api/v1/revenue")
    client.get(
        "/api/v1/export/revenue_daily.csv",
        params={"from": "2026-11-01", "to": "2026-11-03"},
        headers=bearer(tokens["uk_analyst"]),
    )
    app.state.server.audit.flush()
    uk_analyst = access.authenticate(paths, tokens["uk_analyst"]).token_id
    with duckdb.connect(str(audit_path(paths)), read_only=True) as con:
        rows = con.execute(
            "select token_id, role, channel, endpoint, stores, status, rows_returned from access_log"
            " where endpoint like '/api/v1/revenue%' or endpoint like '/api/v1/export/revenue%'"
        ).fetchall()
    assert (uk_analyst, "analyst", "api", "/api/v1/revenue", ["uk"], 200, 14) in rows
    assert (uk_analyst, "analyst", "api", "/api/v1/revenue", [], 403, 0) in rows
    assert (None, None, "api", "/api/v1/revenue", [], 401, 0) in rows
    assert (uk_analyst, "analyst", "api", "/api/v1/export/revenue_daily.csv", ["uk"], 200, 3) in rows
    audit_bytes = audit_path(paths).read_bytes()
    for token in tokens.values():
        # the secret is everything after `ca_<id>_`: urlsafe base64, which may itself hold a `_`
        secret = token.split("_", 2)[2]
        assert token.encode() not in audit_bytes and secret.encode() not in audit_bytes


def test_cli_reads_are_audited(paths, capsys):
    build_marts(paths)
    assert main(["sql", "select store_id, orders from kpis_daily where date = '2026-11-01'"]) == 0
    assert main(["export", "revenue_daily", "--store", "uk", "--output", str(paths.root / "r.csv")]) == 0
    with pytest.raises(SystemExit):
        main(["gdpr-export", "--store", "uk", "--customer-id", "nobody-42"])
    with duckdb.connect(str(audit_path(paths)), read_only=True) as con:
        rows = con.execute("select role, channel, endpoint, stores, status, rows_returned from access_log").fetchall()
        assert all(t.startswith("cli:") for (t,) in con.execute("select token_id from access_log").fetchall())
    assert rows[0] == ("cli", "cli", "sql", ["*"], 200, 2)
    assert rows[1] == ("cli", "cli", "export revenue_daily", ["uk"], 200, 14)
    assert rows[2][:4] == ("cli", "cli", "gdpr-export", ["uk"]) and rows[2][4] != 200
    assert b"nobody-42" not in audit_path(paths).read_bytes()


def test_a_gdpr_export_is_audited_with_its_store_and_rows_never_the_customer(paths, capsys, monkeypatch):
    monkeypatch.setenv("PII_HMAC_KEY", "k" * 64)
    generate(paths, GeneratorConfig(days=1, stores=1, events_per_day=1000, seed=5))
    land_all(paths)
    customer = "cus-us-0000001"
    assert main(["gdpr-export", "--store", "us", "--customer-id", customer]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = sum(len(document[section]) for section in (*SECTIONS, "quarantined_rows"))
    assert rows > 0
    with duckdb.connect(str(audit_path(paths)), read_only=True) as con:
        logged = con.execute("select role, channel, endpoint, stores, status, rows_returned from access_log").fetchall()
    assert logged == [("cli", "cli", "gdpr-export", ["us"], 200, rows)]
    assert customer.encode() not in audit_path(paths).read_bytes()
