"""The dashboard's pages: one HTML shell per page, filled in the browser by `static/dashboard.js`.

The charts are Vega-Lite, drawn by the Vega bundle that the installed `vl-convert-python` package
carries: nothing is fetched from a CDN and nothing is built with Node.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response


@dataclass(frozen=True)
class Page:
    path: str
    key: str
    title: str
    role: str = "viewer"


PAGES = (
    Page("/", "overview", "Overview"),
    Page("/sales", "sales", "Sales"),
    Page("/customers", "customers", "Customers"),
    Page("/funnel", "funnel", "Funnel and traffic"),
    Page("/operations", "operations", "Operations"),
    Page("/feedback", "feedback", "Feedback"),
    Page("/quality", "quality", "Data quality", "admin"),
    Page("/compliance", "compliance", "Compliance", "admin"),
)
PAGES_BY_PATH = {p.path: p for p in PAGES}
STATIC_TYPES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css", "vega.js": "text/javascript"}
_vega_lock = threading.Lock()
_vega_bundle: list[str] = []


def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script, bundled by vl-convert once per process (~8 s)."""
    with _vega_lock:
        if not _vega_bundle:
            import vl_convert

            _vega_bundle.append(vl_convert.javascript_bundle())
        return _vega_bundle[0]


def _shell(title: str, body: str, page_key: str = "", scripts: bool = True) -> str:
    script_tags = '<script src="/static/vega.js" defer></script><script src="/static/dashboard.js" defer></script>'

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · commerce-analytics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/dashboard.css">
{script_tags if scripts else ""}
</head><body data-page="{page_key}">{body}</body></html>
"""


def render(page: Page) -> str:
    body = f"""<header><strong>commerce-analytics</strong><nav id="nav"></nav>
<span id="who"></span><button id="logout" type="button">Log out</button></header>
<form id="filters" aria-label="filters"></form>
<main><h1>{html.escape(page.title)}</h1><section id="cards" class="cards"></section>
<section id="panels" class="panels"></section></main>"""
    return _shell(page.title, body, page.key)


def refused(page: Page) -> str:
    body = f"<main><h1>{html.escape(page.title)}</h1><p class='error'>Your role may not open this page.</p></main>"
    return _shell(page.title, body, scripts=False)


def login_page(request: Request) -> Response:
    body = """<main class="login"><h1>commerce-analytics</h1>
<form id="login"><label>Access token <input id="token" type="password" autocomplete="off" required></label>
<button type="submit">Log in</button><p id="login-error" class="error" hidden></p></form></main>"""
    return HTMLResponse(_shell("Log in", body, "login"))


def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        return Response("not found", status_code=404)
    text = vega_bundle() if name == "vega.js" else files("orchestration.serve").joinpath("static", name).read_text()
    return Response(text, media_type=STATIC_TYPES[name], headers={"cache-control": "private, max-age=3600"})
