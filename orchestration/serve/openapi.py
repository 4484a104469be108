"""The API's OpenAPI document, made from the panel catalogue; `docs/openapi.json` is a copy a test keeps equal."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.serve.panels import PANELS

DOC_FILE = Path("docs/openapi.json")
ROLE_NOTE = {"viewer": "any role (viewers through a dashboard session)", "analyst": "analyst", "admin": "admin"}


def _parameter(name: str, description: str, kind: str = "string", many: bool = False) -> dict:
    schema = {"type": "array", "items": {"type": kind}} if many else {"type": kind}
    if kind == "date":
        schema = {"type": "string", "format": "date"}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


COMMON = [
    _parameter("from", "first local date, inclusive (default: 27 days before `to`)", "date"),
    _parameter("to", "last local date, inclusive (default: the latest date published for the stores)", "date"),
    _parameter("store", "store ids, repeated or comma-separated (default: every store of the token)", many=True),
]
ERRORS = {
    "400": {"description": "a bad or unknown parameter"},
    "401": {"description": "no live token or session"},
    "403": {"description": "a store or panel outside the token's grant"},
    "503": {"description": "nothing published yet"},
}


def _dataset_schema(query) -> dict:
    names = [k.rsplit(" as ", 1)[-1] for k in query.keys] + list(query.sums) + [r.name for r in query.rates]
    names += [e.rsplit(" as ", 1)[-1] for e in query.extra]
    return {"type": "array", "items": {"type": "object", "properties": {n: {} for n in names}}}


def _panel_operation(panel) -> dict:
    if panel.name == "kpis":
        schema = {
            "type": "object",
            "properties": {
                "previous_period": {"type": "object"},
                "kpis": {
                    "type": "array",
                    "description": "value, previous (the range of equal length before) and change (value/previous - 1)",
                    "items": {"type": "object", "properties": {k: {} for k in ("name", "value", "previous", "change")}},
                },
            },
        }
    else:
        schema = {
            "type": "object",
            "properties": {
                "filters": {"type": "object"},
                "datasets": {
                    "type": "object",
                    "properties": {name: _dataset_schema(q) for name, q in panel.datasets.items()},
                },
            },
        }
    parameters = COMMON + [_parameter(d, f"only these {d} values", many=True) for d in panel.dimensions]
    return {
        "get": {
            "summary": panel.title,
            "description": f"Role: {ROLE_NOTE[panel.role]}. Marts: "
            + ", ".join(sorted({q.mart for q in panel.datasets.values()})),
            "parameters": parameters,
            "responses": {"200": {"content": {"application/json": {"schema": schema}}}, **ERRORS},
        }
    }


def document() -> dict:
    paths = {f"/api/v1/{name}": _panel_operation(panel) for name, panel in PANELS.items()}
    paths["/api/v1/compliance"] = {
        "get": {
            "summary": "Audit trail: reads per day, GDPR exports, erasures, purges",
            "description": "Role: admin. Reads $DATA_DIR/audit.duckdb.",
            "parameters": COMMON,
            "responses": {"200": {"description": "datasets access_daily, gdpr_exports, erasures, purges"}, **ERRORS},
        }
    }
    paths["/api/v1/export/{mart}.csv"] = {
        "get": {
            "summary": "Stream one published mart as CSV",
            "description": "Role: analyst (admin for data-quality and consent marts). `from`/`to` filter the"
            " mart's date column.",
            "parameters": [{"name": "mart", "in": "path", "required": True, "schema": {"type": "string"}}, *COMMON],
            "responses": {"200": {"content": {"text/csv": {}}}, "404": {"description": "no such mart"}, **ERRORS},
        }
    }
    paths["/api/v1/me"] = {
        "get": {"summary": "The caller's role, stores, pages and default range", "responses": ERRORS}
    }
    paths["/api/v1/session"] = {
        "post": {"summary": "Exchange a token for a session cookie (15 minutes idle)", "responses": ERRORS},
        "delete": {"summary": "End the session", "responses": {"200": {"description": "logged out"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "commerce-analytics read API", "version": "1"},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "security": [{"token": []}],
        "paths": paths,
    }


def render() -> str:
    return json.dumps(document(), indent=2) + "\n"
