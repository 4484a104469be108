"""The read API's answers: request parameters checked and scoped, panels run on one snapshot.

Errors a caller can fix are `ApiError`s with an HTTP status: 400 for a bad parameter, 401 without a
live credential, 403 for a store or panel outside the caller's grant, 404 for an unknown name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from orchestration.analyst import AnalystError, _date_column
from orchestration.governance import audit
from orchestration.serve.marts import Snapshot
from orchestration.serve.panels import ADMIN_MARTS, KPIS, PANELS, Panel
from orchestration.serve.queries import Filters, Query
from orchestration.serve.sessions import Caller

DEFAULT_DAYS = 28
MAX_DAYS = 3 * 366
COMMON_PARAMETERS = ("from", "to", "store")
EXPORT_BATCH_ROWS = 10_000


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def require_role(caller: Caller, role: str) -> None:
    if not caller.grant.allows_role(role):
        raise ApiError(403, f"the {caller.grant.role} role may not read this; it needs {role}")


def require_api_role(caller: Caller) -> None:
    """Viewers read through the dashboard; calling the API with a token takes an analyst."""
    if caller.channel == "api":
        require_role(caller, "analyst")


def _values(params: dict[str, list[str]], name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for raw in params.get(name, []) for v in raw.split(",") if v.strip()))


def _date(params: dict[str, list[str]], name: str) -> date | None:
    values = params.get(name)
    if not values:
        return None
    try:
        return date.fromisoformat(values[-1])
    except ValueError:
        raise ApiError(400, f"{name} must be a date, YYYY-MM-DD") from None


def scoped_stores(caller: Caller, requested: tuple[str, ...]) -> tuple[str, ...] | None:
    """The stores a request reads: those asked for, all within the grant; None means every store."""
    grant = caller.grant
    if outside := [s for s in requested if not grant.all_stores and s not in grant.stores]:
        raise ApiError(403, f"no access to store {', '.join(outside)}")
    if requested:
        return requested
    return None if grant.all_stores else grant.stores


def latest_date(snapshot: Snapshot, stores: tuple[str, ...] | None) -> date:
    """The last day the marts hold for these stores: the default end of a range."""
    where, params = Query("kpis_daily", date_column=None).where(Filters(date.min, date.max, stores))
    sql = 'select max("date") from kpis_daily' + (f" where {' and '.join(where)}" if where else "")
    [(last,)] = snapshot.query(sql, params)[1]
    return last or date.today()


def parse_filters(
    caller: Caller,
    snapshot: Snapshot,
    params: dict[str, list[str]],
    dimensions: tuple[str, ...],
    default_last: date | None = None,
) -> Filters:
    if unknown := sorted(set(params) - {*COMMON_PARAMETERS, *dimensions}):
        allowed = ", ".join((*COMMON_PARAMETERS, *dimensions))
        raise ApiError(400, f"unknown parameter {', '.join(unknown)}; this endpoint takes {allowed}")
    stores = scoped_stores(caller, _values(params, "store"))
    last = _date(params, "to") or default_last or latest_date(snapshot, stores)
    first = _date(params, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError(400, "from is after to")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, f"a range spans at most {MAX_DAYS} days")
    return Filters(first, last, stores, {d: v for d in dimensions if (v := _values(params, d))})


def json_value(value):
    """Money stays exact: below 10^13 a float prints a DECIMAL(…, 2) with its own digits; above, a string."""
    if isinstance(value, Decimal):
        return float(value) if abs(value) < 10**13 else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def run_query(snapshot: Snapshot, query: Query, filters: Filters) -> list[dict]:
    if query.mart not in snapshot.marts:
        raise ApiError(404, f"the published marts have no {query.mart}; publish a newer build")
    columns, rows = snapshot.query(*query.sql(filters))
    return [{c: json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def _filters_json(filters: Filters) -> dict:
    return {
        "from": filters.first.isoformat(),
        "to": filters.last.isoformat(),
        "stores": list(filters.stores) if filters.stores is not None else ["*"],
        **{name: list(values) for name, values in filters.dimensions.items()},
    }


def _change(current, previous) -> float | None:
    if current is None or previous in (None, 0):
        return None
    return float(current) / float(previous) - 1


def kpis(snapshot: Snapshot, filters: Filters) -> dict:
    """The range's KPIs beside the previous range of equal length and the relative change."""
    previous_last = filters.first - timedelta(days=1)
    previous = Filters(previous_last - timedelta(days=filters.days - 1), previous_last, filters.stores)
    [now], [then] = run_query(snapshot, KPIS, filters), run_query(snapshot, KPIS, previous)
    return {
        "previous_period": {"from": previous.first.isoformat(), "to": previous.last.isoformat()},
        "kpis": [
            {"name": name, "value": value, "previous": then[name], "change": _change(value, then[name])}
            for name, value in now.items()
        ],
    }


def panel_answer(caller: Caller, snapshot: Snapshot, panel: Panel, params: dict[str, list[str]]) -> tuple[dict, int]:
    """The panel's JSON document and the number of rows it carries."""
    require_api_role(caller)
    require_role(caller, panel.role)
    filters = parse_filters(caller, snapshot, params, panel.dimensions)
    body: dict = {"panel": panel.name, "filters": _filters_json(filters)}
    if panel.name == "kpis":
        body |= kpis(snapshot, filters)
        return body, len(body["kpis"])
    datasets = {name: run_query(snapshot, query, filters) for name, query in panel.datasets.items()}
    return body | {"datasets": datasets}, sum(len(rows) for rows in datasets.values())


def panel_by_name(name: str) -> Panel:
    if name not in PANELS:
        raise ApiError(404, f"no panel {name!r}; panels: {', '.join(PANELS)}")
    return PANELS[name]


def export_rows(
    caller: Caller, snapshot: Snapshot, mart: str, params: dict[str, list[str]]
) -> tuple[Filters, Iterator[list]]:
    """A mart's rows for `/api/v1/export/<mart>.csv`, checked before the first byte is sent."""
    require_role(caller, "analyst")
    if mart not in snapshot.marts:
        raise ApiError(404, f"no mart {mart!r}")
    if mart in ADMIN_MARTS:
        require_role(caller, "admin")
    filters = parse_filters(caller, snapshot, params, ())
    columns = dict(snapshot.columns(mart))
    try:
        date_column = _date_column(columns, mart)  # the CLI export's choice of calendar column
    except AnalystError:
        date_column = None
    if date_column is None and ({"from", "to"} & set(params)):
        raise ApiError(400, f"{mart} has no date column to filter with from/to")
    query = Query(
        mart,
        keys=("*",),
        date_column=f'"{date_column}"' if date_column and {"from", "to"} & set(params) else None,
        # A mart without stores (the calendar) holds no tenant's rows; every grant reads it whole.
        is_store_scoped="store_id" in columns,
    )
    sql, sql_params = query.sql(filters)
    return filters, _stream(snapshot, sql, sql_params)


def _stream(snapshot: Snapshot, sql: str, params: list) -> Iterator[list]:
    with snapshot.cursor() as cursor:
        cursor.execute(sql, params)
        yield [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(EXPORT_BATCH_ROWS):
            yield from batch


def csv_chunks(rows: Iterator[list], counter: list[int]) -> Iterator[str]:
    """CSV text in chunks of a batch; `counter[0]` ends as the data rows sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for i, row in enumerate(rows):
        writer.writerow(["" if v is None else v for v in row])
        counter[0] = i
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def compliance(caller: Caller, paths, params: dict[str, list[str]], snapshot: Snapshot) -> tuple[dict, int]:
    """The admins' view of the audit trail: reads per day, erasures, purges and GDPR exports."""
    require_api_role(caller)
    require_role(caller, "admin")
    # The audit trail runs on the clock, not on the marts' calendar: its range ends today by default.
    filters = parse_filters(caller, snapshot, params, (), default_last=datetime.now(UTC).date())
    scope = list(filters.stores) if filters.stores is not None else None
    in_range = "cast(accessed_at as date) between ? and ?"
    stores_ok = "(? is null or list_has_all(?::varchar[], stores))"
    reads = [filters.first, filters.last, scope, scope]
    queries = {
        "access_daily": (
            "select cast(accessed_at as date) as date, channel, role, count(*) as requests,"
            " count(*) filter (where status >= 400) as refused, sum(rows_returned) as rows_returned"
            f" from access_log where {in_range} and {stores_ok} group by all order by date, channel, role",
            reads,
            "access_log",
        ),
        "gdpr_exports": (
            "select accessed_at, token_id, stores, status, rows_returned from access_log"
            f" where endpoint = 'gdpr-export' and {in_range} and {stores_ok} order by accessed_at desc limit 100",
            reads,
            "access_log",
        ),
        "erasures": (
            "select erased_at, store_id, count(*) as places, sum(rows_removed) as rows_removed from erasure_log"
            " where cast(erased_at as date) between ? and ? and (? is null or list_contains(?::varchar[], store_id))"
            " group by all order by erased_at desc limit 100",
            reads,
            "erasure_log",
        ),
        "purges": (
            "select purged_at, as_of, count(distinct target) as targets, sum(rows_purged) as values_purged"
            " from purge_log where cast(purged_at as date) between ? and ? group by all order by purged_at desc"
            " limit 100",
            reads[:2],
            "purge_log",
        ),
    }
    answers = audit.query(paths, {name: (table, sql, params) for name, (sql, params, table) in queries.items()})
    datasets = {
        name: [{c: json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        for name, (columns, rows) in answers.items()
    }
    body = {"panel": "compliance", "filters": _filters_json(filters), "datasets": datasets}
    return body, sum(len(rows) for rows in datasets.values())
