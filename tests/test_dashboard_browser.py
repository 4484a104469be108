"""The dashboard in headless Chromium (the operating system's, driven by Playwright): every page as every
role, no console errors, cards equal to the API, filters in the URL, PNG and CSV downloads.

Screenshots of every page are kept in test-artifacts/dashboard/ (the README shows one of them).
"""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from orchestration.serve import access
from orchestration.serve.app import create_app
from orchestration.serve.in_thread import served_in_thread
from orchestration.serve.pages import PAGES, vega_bundle
from orchestration.settings import DataPaths
from tests.dashboard_fixture import build_marts

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path("test-artifacts/dashboard")
RANGE = "from=2026-11-01&to=2026-11-14"
ROLES = {"viewer": ["uk"], "analyst": ["*"], "admin": ["*"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    assert CHROMIUM.exists(), "the dashboard tests drive /usr/bin/chromium: make test installs it"
    paths = DataPaths(tmp_path_factory.mktemp("browser") / "data")
    build_marts(paths)
    tokens = {role: access.add(paths, role, role, stores)[1] for role, stores in ROLES.items()}
    vega_bundle()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served_in_thread(create_app(paths)) as base, sync_playwright() as playwright:
        # CI runs as root, where Chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield base, tokens, browser
        browser.close()


class Session:
    """A logged-in browser tab that collects console errors and uncaught exceptions."""

    def __init__(self, base, browser, token):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base}/login")
        self.page.fill("#token", token)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("body[data-ready=true]")

    def open(self, path):
        response = self.page.goto(self.base + path)
        if response.status == 200:
            self.page.wait_for_selector("body[data-ready=true]")
        return response.status

    def api(self, path):
        response = self.page.request.get(self.base + path)
        assert response.ok, response.text()
        return response.json()

    def card(self, name):
        return self.page.get_attribute(f"[data-kpi={name}] .value", "data-value")

    def states(self):
        return self.page.eval_on_selector_all("figure.panel", "els => els.map(e => [e.id, e.dataset.state])")


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_as_every_role(site, role):
    base, tokens, browser = site
    session = Session(base, browser, tokens[role])
    nav = session.page.eval_on_selector_all("#nav a", "els => els.map(e => e.getAttribute('href').split('?')[0])")
    assert nav == [p.path for p in PAGES if role == "admin" or p.role != "admin"]
    for page in PAGES:
        status = session.open(f"{page.path}?{RANGE}")
        if page.role == "admin" and role != "admin":
            assert status == 403, page.path
            # The refusal itself is the one resource that fails (Chromium logs its status); nothing else.
            assert session.errors and all("403" in e for e in session.errors), session.errors
            assert session.page.text_content(".error") == "Your role may not open this page."
            session.errors.clear()
            continue
        assert status == 200, page.path
        states = dict(session.states())
        assert states, page.path
        # Every chart drew or says it has no data; none failed. The fixture fills all but the audit tables.
        assert set(states.values()) <= {"ready", "empty"}, (page.path, states)
        if page.key != "compliance":
            assert set(states.values()) == {"ready"}, (page.path, states)
        session.page.screenshot(path=str(ARTIFACTS / f"{page.key}-{role}.png"), full_page=True)
    assert session.errors == []
    session.context.close()


def test_cards_equal_the_api_and_a_filter_change_updates_charts_and_url(site):
    base, tokens, browser = site
    session = Session(base, browser, tokens["analyst"])
    session.open(f"/?{RANGE}")
    everyone = session.api(f"/api/v1/kpis?{RANGE}")
    for kpi in everyone["kpis"]:
        if session.page.query_selector(f"[data-kpi={kpi['name']}]"):
            assert float(session.card(kpi["name"])) == pytest.approx(kpi["value"]), kpi["name"]
    assert session.card("orders") == "315"  # (1+...+14) * (1 + 2)
    assert session.page.get_attribute("#revenue-trend", "data-rows") == "28"

    session.page.select_option("select[name=store]", "uk")
    session.page.wait_for_selector("body[data-ready=true]")
    assert "store=uk" in session.page.url and "from=2026-11-01" in session.page.url
    uk = session.api(f"/api/v1/kpis?{RANGE}&store=uk")
    assert session.card("orders") == str(next(k["value"] for k in uk["kpis"] if k["name"] == "orders")) == "105"
    assert session.page.get_attribute("#revenue-trend", "data-rows") == "14"

    # The URL alone brings the same view back, in a fresh tab.
    shared = Session(base, browser, tokens["analyst"])
    shared.open(session.page.url.removeprefix(base))
    assert shared.card("orders") == "105"
    assert session.errors == shared.errors == []


def test_png_and_csv_downloads_are_valid_files(site, tmp_path):
    base, tokens, browser = site
    session = Session(base, browser, tokens["viewer"])
    session.open(f"/sales?{RANGE}")
    with session.page.expect_download() as png:
        session.page.click("#platform-gmv [data-download=png]")
    png_path = tmp_path / png.value.suggested_filename
    png.value.save_as(png_path)
    data = png_path.read_bytes()
    assert png.value.suggested_filename == "platform-gmv.png"
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000

    with session.page.expect_download() as download:
        session.page.click("#platform-gmv [data-download=csv]")
    csv_path = tmp_path / download.value.suggested_filename
    download.value.save_as(csv_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    api = session.api(f"/api/v1/platforms?{RANGE}")["datasets"]["by_platform"]
    assert [r["platform"] for r in rows] == [r["platform"] for r in api] == ["ios", "web"]
    assert [float(r["gmv_usd"]) for r in rows] == [r["gmv_usd"] for r in api]
    # The uk viewer sees uk only: ios is m=3, so 300 * 105 + 0.01 per day summed over 14 days.
    assert rows[0]["gmv_usd"] == "31500.14"
    assert session.errors == []


def test_empty_and_failed_panels_say_so(site):
    base, tokens, browser = site
    session = Session(base, browser, tokens["analyst"])
    session.open("/sales?from=2025-01-01&to=2025-01-31")
    states = dict(session.states())
    # Promotions are all-time; the daily panels have nothing in January 2025.
    assert states == {
        "platform-gmv": "empty",
        "platform-conversion": "empty",
        "category-ranks": "empty",
        "promotions": "ready",
    }
    assert session.page.text_content("#platform-gmv .empty") == "No data for these filters."

    session.page.route("**/api/v1/categories?*", lambda route: route.fulfill(status=500, body='{"error": "boom"}'))
    session.open(f"/sales?{RANGE}")
    assert dict(session.states())["category-ranks"] == "error"
    assert session.page.text_content("#category-ranks .error") == "Could not load categories: boom"
    assert dict(session.states())["platform-gmv"] == "ready"
