"""Issue 17's budgets, measured on published marts over HTTP: each API endpoint, a month's CSV export
of kpis_daily_by_segment, and the Overview page's first paint and readiness in headless Chromium.

The server runs in this process on a free port with a token made for the measurement; the browser
is the operating system's Chromium through Playwright (a dev dependency): without either, the
browser figures are reported as not measured.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from orchestration.settings import DataPaths

CHROMIUM = Path("/usr/bin/chromium")


def _p50_p95(runs: list[float]) -> dict:
    cut = statistics.quantiles(runs, n=20, method="inclusive") if len(runs) > 1 else runs * 19
    return {"p50_ms": round(statistics.median(runs), 2), "p95_ms": round(cut[18], 2), "runs": len(runs)}


def _timed_get(url: str, token: str) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000, body


def _browser_timings(base: str, token: str, repeats: int) -> dict | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    paint, ready = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-ready=true]")
        for _ in range(repeats):
            page.goto(f"{base}/", wait_until="commit")
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            paint.append(
                page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null") or 0
            )
            # Interactive: every chart drawn and the filters live (the page sets data-ready then).
            ready.append(page.evaluate("performance.now()"))
        browser.close()
    return {"first_paint": _p50_p95(paint), "interactive": _p50_p95(ready)}


def serve_timings(paths: DataPaths, repeats: int) -> dict:
    from orchestration.serve import access
    from orchestration.serve.app import create_app
    from orchestration.serve.in_thread import served_in_thread
    from orchestration.serve.pages import vega_bundle
    from orchestration.serve.panels import PANELS

    grant, token = access.add(paths, "bench", "admin", ["*"])
    vega_bundle()
    try:
        with served_in_thread(create_app(paths)) as base:
            endpoints = {}
            for name in [*PANELS, "compliance"]:
                _timed_get(f"{base}/api/v1/{name}", token)  # the first opens the snapshot
                endpoints[name] = _p50_p95([_timed_get(f"{base}/api/v1/{name}", token)[0] for _ in range(repeats)])
            last = date.fromisoformat(json.loads(_timed_get(f"{base}/api/v1/me", token)[1])["latest_date"])
            month = f"from={last - timedelta(days=29)}&to={last}"
            exports = [_timed_get(f"{base}/api/v1/export/kpis_daily_by_segment.csv?{month}", token) for _ in range(5)]
            export = _p50_p95([ms for ms, _ in exports]) | {"bytes": len(exports[0][1])}
            browser = _browser_timings(base, token, min(repeats, 10))
    finally:
        access.revoke(paths, grant.token_id)
    return {"endpoints": endpoints, "export_month_segments": export, "browser": browser}


def targets(serve: dict) -> list[tuple[str, float | None, float, str]]:
    worst = max(q["p95_ms"] for q in serve["endpoints"].values())
    browser = serve["browser"]
    return [
        ("API p95 <= 100 ms (worst endpoint)", worst, 100, "ms"),
        ("CSV month of kpis_daily_by_segment p95 <= 1.5 s", serve["export_month_segments"]["p95_ms"], 1500, "ms"),
        ("dashboard first paint p95 <= 2.5 s", browser and browser["first_paint"]["p95_ms"], 2500, "ms"),
        ("dashboard interactive p95 <= 3 s", browser and browser["interactive"]["p95_ms"], 3000, "ms"),
    ]


def render(serve: dict) -> str:
    lines = [f"| {'API endpoint':<16} | {'p50 ms':>8} | {'p95 ms':>8} |", f"|{'-' * 18}|{'-' * 10}|{'-' * 10}|"]
    lines += [f"| {n:<16} | {q['p50_ms']:>8.2f} | {q['p95_ms']:>8.2f} |" for n, q in serve["endpoints"].items()]
    export = serve["export_month_segments"]
    lines.append(
        f"\nCSV export, a month of kpis_daily_by_segment: {export['bytes']:,} bytes, p50 {export['p50_ms']} ms"
    )
    lines += [
        "",
        f"| {'target (issue 17)':<48} | {'measured':>12} | {'met':>4} |",
        f"|{'-' * 50}|{'-' * 14}|{'-' * 6}|",
    ]
    for name, value, limit, unit in targets(serve):
        measured = "not measured" if value is None else f"{value:,.1f} {unit}"
        met = "-" if value is None else ("yes" if value <= limit else "NO")
        lines.append(f"| {name:<48} | {measured:>12} | {met:>4} |")
    return "\n".join(lines)
