"""The server: routes of the API and the dashboard, authentication, secure headers and the audit.

Every route below `/api/v1/` and every page is audited once, whatever its outcome (401s included),
with the token's id, never the token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from orchestration.serve import api, openapi, pages
from orchestration.serve.access import authenticate
from orchestration.serve.audit_trail import Access, AuditWriter
from orchestration.serve.marts import NotPublished, PublishedMarts
from orchestration.serve.sessions import IDLE_SECONDS, SESSION_COOKIE, Caller, Sessions
from orchestration.settings import DataPaths

SECURE_HEADERS = {
    # Vega compiles its expressions with Function(): scripts need 'unsafe-eval', and only from this origin.
    "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class Server:
    paths: DataPaths
    marts: PublishedMarts
    sessions: Sessions
    audit: AuditWriter

    def caller(self, request: Request) -> Caller | None:
        return self.sessions.caller(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def audited(endpoint: Callable[[Server, Request, Caller, Access], Response]):
    """Authenticate, answer, and record the access with its status, rows and duration."""

    def handler(request: Request) -> Response:
        server: Server = request.app.state.server
        caller = server.caller(request)
        access = Access(
            caller.grant.token_id if caller else None,
            caller.grant.role if caller else None,
            caller.channel if caller else "api",
            request.url.path,
        )
        try:
            if caller is None:
                raise api.ApiError(401, "no live token or session: log in or send Authorization: Bearer <token>")
            response = endpoint(server, request, caller, access)
        except api.ApiError as exc:
            response = _error(exc.status, str(exc))
        except NotPublished as exc:
            response = _error(503, str(exc))
        access.status = response.status_code
        if not isinstance(response, StreamingResponse):
            server.audit.record(access)
        return response

    return handler


def panel(server: Server, request: Request, caller: Caller, access: Access) -> Response:
    panel = api.panel_by_name(request.path_params["panel"])
    snapshot = server.marts.snapshot()
    body, access.rows_returned = api.panel_answer(caller, snapshot, panel, _params(request))
    access.stores = body["filters"]["stores"]
    return JSONResponse(body, headers={"cache-control": "no-store"})


def compliance(server: Server, request: Request, caller: Caller, access: Access) -> Response:
    body, access.rows_returned = api.compliance(caller, server.paths, _params(request), server.marts.snapshot())
    access.stores = body["filters"]["stores"]
    return JSONResponse(body, headers={"cache-control": "no-store"})


def export(server: Server, request: Request, caller: Caller, access: Access) -> Response:
    mart = request.path_params["mart"]
    filters, rows = api.export_rows(caller, server.marts.snapshot(), mart, _params(request))
    access.stores = list(filters.stores) if filters.stores is not None else ["*"]
    counter = [0]

    def body() -> Iterator[str]:
        # The access is recorded when the last byte has gone, with the rows really sent.
        try:
            yield from api.csv_chunks(rows, counter)
        finally:
            access.rows_returned = counter[0]
            server.audit.record(access)

    headers = {"content-disposition": f'attachment; filename="{mart}.csv"', "cache-control": "no-store"}
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)


def me(server: Server, request: Request, caller: Caller, access: Access) -> Response:
    """Who the caller is, what they may open, and the range the dashboard starts with."""
    snapshot = server.marts.snapshot()
    stores = api.scoped_stores(caller, ())
    last = api.latest_date(snapshot, stores)
    access.stores = list(stores) if stores is not None else ["*"]
    store_list = [s for (s,) in snapshot.query("select store_id from dim_stores order by store_id")[1]]
    return JSONResponse(
        {
            "token_id": caller.grant.token_id,
            "name": caller.grant.name,
            "role": caller.grant.role,
            "stores": [s for s in store_list if caller.grant.all_stores or s in caller.grant.stores],
            "pages": [p.path for p in pages.PAGES if caller.grant.allows_role(p.role)],
            "latest_date": last.isoformat(),
            "default_days": api.DEFAULT_DAYS,
        },
        headers={"cache-control": "no-store"},
    )


def page(server: Server, request: Request, caller: Caller, access: Access) -> Response:
    access.channel = "page"
    dashboard_page = pages.PAGES_BY_PATH[request.url.path]
    if not caller.grant.allows_role(dashboard_page.role):
        return Response(pages.refused(dashboard_page), status_code=403, media_type="text/html")
    return Response(pages.render(dashboard_page), media_type="text/html", headers={"cache-control": "no-store"})


def page_or_login(request: Request) -> Response:
    """A page for a live session; without one, the login form (which comes back here)."""
    server: Server = request.app.state.server
    if server.caller(request) is None:
        server.audit.record(Access(None, None, "page", request.url.path, status=302))
        return RedirectResponse(f"/login?next={request.url.path}", status_code=302)
    return audited(page)(request)


async def login(request: Request) -> Response:
    """POST a token as JSON, get a session cookie; the token itself is never kept by the browser."""
    server: Server = request.app.state.server
    try:
        token = str((await request.json()).get("token", ""))
    except (ValueError, AttributeError):
        token = ""
    grant = authenticate(server.paths, token)
    access = Access(grant.token_id if grant else None, grant.role if grant else None, "page", "/api/v1/session")
    if grant is None:
        access.status = 401
        server.audit.record(access)
        return _error(401, "unknown or revoked token")
    server.audit.record(access)
    response = JSONResponse({"role": grant.role, "stores": list(grant.stores)})
    response.set_cookie(
        SESSION_COOKIE, server.sessions.open(grant), max_age=IDLE_SECONDS * 4, httponly=True, samesite="strict"
    )
    return response


def logout(request: Request) -> Response:
    request.app.state.server.sessions.close(request.cookies.get(SESSION_COOKIE, ""))
    response = JSONResponse({"logged_out": True})
    response.delete_cookie(SESSION_COOKIE)
    return response


def openapi_document(request: Request) -> Response:
    return JSONResponse(openapi.document())


class SecureHeaders:
    """Adds SECURE_HEADERS to every HTTP response (an ASGI middleware, so streamed ones too)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.decode().lower() not in SECURE_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURE_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def create_app(paths: DataPaths, clock: Callable[[], float] = time.monotonic) -> Starlette:
    server = Server(paths, PublishedMarts(paths), Sessions(paths, clock), AuditWriter(paths))
    routes = [
        Route("/api/v1/openapi.json", openapi_document),
        Route("/api/v1/session", login, methods=["POST"]),
        Route("/api/v1/session", logout, methods=["DELETE"]),
        Route("/api/v1/me", audited(me)),
        Route("/api/v1/compliance", audited(compliance)),
        Route("/api/v1/export/{mart}.csv", audited(export)),
        Route("/api/v1/{panel}", audited(panel)),
        Route("/login", pages.login_page),
        *(Route(p.path, page_or_login) for p in pages.PAGES),
        Route("/static/{name}", pages.static),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        server.audit.close()

    middleware = [Middleware(SecureHeaders), Middleware(GZipMiddleware, minimum_size=1024)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.server = server
    return app
