"""Data minimised after the fact: the clear identifiers of clickstream events that counted for no
one (a GPC or DNT signal, or no analytics consent in force) go from raw once no build can
reclassify them, that is once the incremental builds' lookback window has closed over their day.

The retention purge does it (`purge.py`, plan class `unconsented`): it reads which events the
last build excluded for those reasons from the warehouse's `int_events_classified` (DuckDB's or
Spark's), and sets their
device id, user id, IP and user agent to NULL in raw, and their keys and hashes to NULL in that
incremental table, which keeps the days no build reopens. Their counts stay in `dq_scorecard_daily`
and `consent_daily`, which count rows. Bots are left to the retention of their class: a bot's
classification reads its device id and user agent, and a rebuild must find the same bots.
"""

from __future__ import annotations

from datetime import date, timedelta

from orchestration.governance.warehouse_tables import warehouse_relations
from orchestration.lib.sql_quoting import quote_literal
from orchestration.settings import DataPaths, project_var

# The plan class of these values (in the plan and the audit's `pii` column).
UNCONSENTED = "unconsented"
SOURCE = "events"
REASONS = ("privacy_signal", "no_analytics_consent")
COLUMNS = ("anonymous_id", "user_id", "ip", "user_agent")
CLASSIFIED = "main.int_events_classified"
CLASSIFIED_COLUMNS = ("anonymous_id", "customer_id", "ip_hash", "user_agent_hash")
# SQL on a raw event: the last build excluded it for one of REASONS (temporary table of the connection).
IS_UNCONSENTED = "(store_id, event_id) IN (SELECT store_id, event_id FROM unconsented_events)"


def closed_before(as_of: date) -> date:
    """Raw days (UTC) no daily build after `as_of` rebuilds: the build of the day before `as_of`
    reopens `lookback_days` more, and a store-local day reaches one UTC day either side."""
    return as_of - timedelta(days=project_var("lookback_days") + 2)


def excluded_before(before: str) -> str:
    """SQL on a row of int_events_classified: excluded for one of REASONS, dated before `before` (UTC)."""
    reasons = ", ".join(quote_literal(r) for r in REASONS)
    return f"exclusion_reason IN ({reasons}) AND event_at < {quote_literal(before)}::DATE"


def keep_unconsented(con, paths: DataPaths, before: str | None) -> None:
    """Create `unconsented_events` on `con`: the events dated before `before` (UTC) the warehouse
    classified as excluded for a privacy signal or missing consent (none without a build)."""
    con.execute("CREATE TEMP TABLE unconsented_events (store_id VARCHAR, event_id VARCHAR)")
    if before is None:
        return
    with warehouse_relations(con, paths, [CLASSIFIED]) as relations:
        if CLASSIFIED in relations:
            con.execute(
                f"INSERT INTO unconsented_events SELECT store_id, event_id FROM {relations[CLASSIFIED]}"
                f" WHERE {excluded_before(before)}"
            )
