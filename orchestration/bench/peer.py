"""The peer: kpis_daily, funnel_daily and fct_sessions as a data engineer would write them in pandas,
from the same landed Parquet, following the rules of models/intermediate/storefront (docs/warehouse.md).

It pseudonymises as staging does (the same keyed HMAC of device and customer ids, truncated IPs
and user agents, orchestration/governance/pseudonyms.py), so the comparison measures engines, not
privacy; a pandas engineer hashes each distinct value once and maps it back. The marts are compared
per store and date (and step), and through the first and last visitor key of each store-day, which
the same key must give on both sides.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.dbt_project import PROJECT_DIR
from orchestration.governance.pseudonyms import pseudonym

SEEDS = PROJECT_DIR / "seeds"
MARTS = ("kpis_daily", "funnel_daily", "fct_sessions")
SESSION_TIMEOUT_MS = 30 * 60_000
BOT_MIN_EVENTS, BOT_MAX_EVENTS_PER_MINUTE, BOT_BURST_GAP_MINUTES = 50, 20, 30
CENT = Decimal("0.01")


def _read(raw: Path, source: str) -> pd.DataFrame:
    # the hive partition column (UTC date) is landing's layout, not data
    return pd.read_parquet(raw / source, engine="pyarrow").drop(columns="date").reset_index(drop=True)


def _first(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Immutable records: the copy landed first wins."""
    return frame.sort_values("_landing_order").drop_duplicates(key, keep="first")


def _latest(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Records re-exported on change: the latest row, the one landed last among equals, wins."""
    ordered = frame.sort_values(["updated_at", "_landing_order"], ascending=False)
    return ordered.drop_duplicates(key, keep="first")


def _epoch_ms(timestamps: pd.Series) -> np.ndarray:
    return timestamps.dt.as_unit("us").astype("int64").to_numpy() // 1000


def _local_dates(frame: pd.DataFrame, column: str, zones: pd.Series) -> pd.Series:
    dates = pd.Series(index=frame.index, dtype="object")
    for store, zone in zones.items():
        rows = frame["store_id"] == store
        dates[rows] = frame.loc[rows, column].dt.tz_convert(zone).dt.date
    return dates


def _pseudonymised(values: pd.Series, key: str) -> pd.Series:
    """stg_*'s pseudonymize(): each distinct value hashed once, NULL kept NULL."""
    distinct = values.dropna().unique()
    return values.map(dict(zip(distinct, (pseudonym(v, key) for v in distinct), strict=True)))


def _truncated_ips(ips: pd.Series) -> pd.Series:
    """macros/truncate_ip.sql: IPv4 to its /24, IPv6 to its first three groups."""
    v6 = ips.str.contains(":", regex=False, na=False)
    v4 = ~v6 & ips.str.fullmatch(r".*\..*\..*\..*", na=False)
    truncated = pd.Series(None, index=ips.index, dtype="object")
    truncated[v6] = ips[v6].str.split(":").str[:3].str.join(":") + "::"
    truncated[v4] = ips[v4].str.replace(r"\.[0-9]+$", ".0", regex=True)
    return truncated


def _seed(name: str) -> list[dict]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _orders(raw: Path, zones: pd.Series) -> pd.DataFrame:
    """int_orders_converted_to_usd, the columns the peer needs."""
    orders = _latest(_read(raw, "orders"), "order_id")
    items = _latest(_read(raw, "order_items"), "order_item_id")
    payments = _first(_read(raw, "payment_attempts"), "payment_attempt_id")
    items["line_gmv"] = [q * p for q, p in zip(items["quantity"], items["unit_price"], strict=True)]
    gmv = items.groupby("order_id")["line_gmv"].apply(lambda lines: sum(lines, Decimal(0)))
    captured = set(payments.loc[payments["status"] == "captured", "order_id"])
    orders["order_date"] = _local_dates(orders, "placed_at", zones)
    orders["gmv"] = orders["order_id"].map(gmv).apply(lambda v: Decimal(0) if pd.isna(v) else v)
    orders["is_cancelled"] = orders["status"] == "cancelled"
    orders["is_captured"] = orders["order_id"].isin(captured) & ~orders["is_cancelled"]
    rates = _fx_rates(raw)
    orders["gmv_usd"] = [
        # round(x, 2) of the exact product, half away from zero, as to_usd does
        (g * rates(d, c)).quantize(CENT, ROUND_HALF_UP)
        for g, d, c in zip(orders["gmv"], orders["order_date"], orders["currency"], strict=True)
    ]
    return orders


def _fx_rates(raw: Path):
    """int_fx_rates_daily: a store's last publication of a date's rate, the latest among stores
    (ties to the first store id), else the month's rate of the fallback seed."""
    landed = _read(raw, "fx_rates").sort_values(["published_at", "_landing_order"], ascending=False)
    landed = landed.drop_duplicates(["store_id", "rate_date"])
    landed = landed.sort_values(["published_at", "store_id"], ascending=[False, True])
    published = {
        (d, c): rate
        for d, c, rate in landed.drop_duplicates(["rate_date", "currency"])[
            ["rate_date", "currency", "usd_per_unit"]
        ].itertuples(index=False)
    }
    monthly = {(r["rate_month"], r["currency"]): Decimal(r["usd_per_unit"]) for r in _seed("fx_rates_monthly")}

    def rate(day, currency: str) -> Decimal:
        landed_rate = published.get((day, currency))
        return monthly[(day.replace(day=1).isoformat(), currency)] if landed_rate is None else landed_rate

    return rate


def _staged_events(raw: Path, key: str) -> pd.DataFrame:
    """stg_storefront__events' keys: device, customer, user agent and truncated IP pseudonymised
    (the clear user agent stays only for the bot patterns, as staging reads it)."""
    events = _first(_read(raw, "events"), "event_id")
    events["anonymous_id"] = _pseudonymised(events["anonymous_id"], key)
    events["user_id"] = _pseudonymised(events["user_id"], key)
    events["user_agent_hash"] = _pseudonymised(events["user_agent"], key)
    events["ip_hash"] = _pseudonymised(_truncated_ips(events["ip"]), key)
    return events


def _classified(raw: Path, zones: pd.Series, key: str) -> pd.DataFrame:
    """int_events_classified: events that count (bots, privacy signals, no consent and reloads out)."""
    events = _staged_events(raw, key)
    events["event_date"] = _local_dates(events, "event_at", zones)
    events["ms"] = _epoch_ms(events["event_at"])
    patterns = "|".join(f"(?:{r['pattern']})" for r in _seed("bot_user_agent_patterns"))
    is_ua_bot = events["user_agent"].str.lower().str.count(patterns) > 0
    is_behaviour_bot = _behavioural_bot_days(events)
    has_signal = events["gpc"].fillna(False).astype(bool) | events["dnt"].fillna(False).astype(bool)
    purchases = events[(events["event_type"] == "purchase") & events["order_id"].notna()]
    reloads = purchases.sort_values(["event_at", "event_id"]).duplicated(["store_id", "order_id"])
    is_reload = events.index.isin(reloads[reloads].index)
    counts = ~(is_ua_bot | is_behaviour_bot | has_signal | ~_has_consent(raw, events, key) | is_reload)
    return events[counts].copy()


def _behavioural_bot_days(events: pd.DataFrame) -> np.ndarray:
    """Events on a local day a bot burst of their device touches: a window of activity (no pause over
    BOT_BURST_GAP_MINUTES) of at least BOT_MIN_EVENTS, faster than BOT_MAX_EVENTS_PER_MINUTE."""
    ordered = events.sort_values(["store_id", "anonymous_id", "ms", "event_id"])
    seconds = ordered["ms"] // 1000
    device = ordered.groupby(["store_id", "anonymous_id"], sort=False)
    starts = device["ms"].diff().isna() | (seconds - device["ms"].shift() // 1000 > BOT_BURST_GAP_MINUTES * 60)
    ordered = ordered.assign(
        second=seconds, burst=starts.astype(int).groupby([ordered["store_id"], ordered["anonymous_id"]]).cumsum()
    )
    keys = ["store_id", "anonymous_id", "burst"]
    bursts = ordered.groupby(keys)["second"].agg(["size", "min", "max"])
    fast = bursts[
        (bursts["size"] >= BOT_MIN_EVENTS)
        & (bursts["size"] * 60 > BOT_MAX_EVENTS_PER_MINUTE * (bursts["max"] - bursts["min"]))
    ]
    in_fast = pd.MultiIndex.from_frame(ordered[keys]).isin(fast.index)
    bot_days = pd.MultiIndex.from_frame(
        ordered.loc[in_fast, ["store_id", "anonymous_id", "event_date"]].drop_duplicates()
    )
    return pd.MultiIndex.from_frame(events[["store_id", "anonymous_id", "event_date"]]).isin(bot_days)


def _has_consent(raw: Path, events: pd.DataFrame, key: str) -> np.ndarray:
    """Analytics consent in force at the event: the device's latest decision at or before it."""
    logs = _first(_read(raw, "consent_logs"), "consent_event_id")
    logs["anonymous_id"] = _pseudonymised(logs["anonymous_id"], key)
    decisions = logs[logs["purpose"] == "analytics"].sort_values(["recorded_at", "consent_event_id"])
    decisions = decisions.assign(ms=_epoch_ms(decisions["recorded_at"]), granted=decisions["action"] == "granted")
    # merge_asof takes the last decision with recorded_at <= event_at: ties go to the later id,
    # as the zero-length period of the earlier one matches nothing in SQL.
    left = events[["store_id", "anonymous_id", "ms"]].reset_index().sort_values("ms")
    joined = pd.merge_asof(
        left, decisions[["store_id", "anonymous_id", "ms", "granted"]], on="ms", by=["store_id", "anonymous_id"]
    )
    return joined.set_index("index")["granted"].reindex(events.index).fillna(False).astype(bool).to_numpy()


def _sessionized(events: pd.DataFrame) -> pd.DataFrame:
    """int_devices_identified + int_events_sessionized: stitched visitors cut into sessions."""
    identified = events[events["user_id"].notna()].sort_values(["event_at", "event_id"])
    devices = identified.drop_duplicates(["store_id", "anonymous_id"]).set_index(["store_id", "anonymous_id"])
    keys = pd.MultiIndex.from_frame(events[["store_id", "anonymous_id"]])
    stitched = devices["user_id"].reindex(keys).to_numpy()
    events["visitor_id"] = np.where(pd.isna(stitched), events["anonymous_id"], stitched)
    campaign = [events[c].str.lower().fillna("") for c in ("utm_source", "utm_medium", "utm_campaign")]
    events["campaign_key"] = campaign[0] + "/" + campaign[1] + "/" + campaign[2]
    events = events.sort_values(["store_id", "event_date", "visitor_id", "event_at", "event_id"])
    visit = ["store_id", "event_date", "visitor_id"]
    is_first = ~events.duplicated(visit)
    gap = events["ms"].diff()
    is_start = is_first | (gap > SESSION_TIMEOUT_MS) | (events["campaign_key"] != events["campaign_key"].shift())
    events["session"] = is_start.cumsum()
    return events


def compute(raw: Path, key: str) -> dict[str, pd.DataFrame]:
    """The three marts' measures per store and date (and step), from the landed Parquet, with the
    pseudonymisation key the dbt build used."""
    stores = _latest(_read(raw, "stores"), "store_id").set_index("store_id")
    zones = stores["time_zone"]
    orders = _orders(raw, zones)
    events = _sessionized(_classified(raw, zones, key))
    events["is_page_view"] = events["page_url"].notna()  # regexp_extract gives '' (not NULL) on no match

    purchases = events[(events["event_type"] == "purchase") & events["order_id"].notna()]
    captured = orders.set_index(["store_id", "order_id"])["is_captured"]
    keys = pd.MultiIndex.from_frame(purchases[["store_id", "order_id"]])
    purchases = purchases.assign(is_captured=captured.reindex(keys).fillna(False).astype(bool).to_numpy())
    conversions = purchases.drop_duplicates(["session", "order_id"])
    sessions = events.groupby("session").agg(
        store_id=("store_id", "first"),
        date=("event_date", "first"),
        visitor_id=("visitor_id", "first"),
        events=("event_id", "size"),
        page_views=("is_page_view", "sum"),
        first_ms=("ms", "min"),
        last_ms=("ms", "max"),
    )
    sessions["duration_ms"] = sessions["last_ms"] - sessions["first_ms"]
    sessions["is_bounce"] = sessions["page_views"] == 1
    sessions["orders"] = conversions[conversions["is_captured"]].groupby("session").size()
    sessions["orders"] = sessions["orders"].fillna(0).astype(int)
    sessions["is_converted"] = sessions["orders"] > 0
    return {
        "fct_sessions": _sessions_daily(sessions),
        "kpis_daily": _kpis(sessions, orders),
        "funnel_daily": _funnel(events, purchases, stores.index),
    }


def _sessions_daily(sessions: pd.DataFrame) -> pd.DataFrame:
    daily = sessions.groupby(["store_id", "date"]).agg(
        sessions=("events", "size"),
        events=("events", "sum"),
        max_events=("events", "max"),
        page_views=("page_views", "sum"),
        duration_ms=("duration_ms", "sum"),
        max_duration_ms=("duration_ms", "max"),
        bounced=("is_bounce", "sum"),
        converted=("is_converted", "sum"),
        orders=("orders", "sum"),
        first_visitor_id=("visitor_id", "min"),
        last_visitor_id=("visitor_id", "max"),
    )
    for column in ("duration_ms", "max_duration_ms"):
        daily[column.replace("_ms", "_seconds")] = [Decimal(int(ms)) / 1000 for ms in daily.pop(column)]
    return daily.reset_index()


def _kpis(sessions: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    per_day = sessions.groupby(["store_id", "date"]).agg(
        sessions=("events", "size"),
        visitors=("visitor_id", "nunique"),
        converted_sessions=("is_converted", "sum"),
        bounced_sessions=("is_bounce", "sum"),
    )
    placed = orders[~orders["is_cancelled"]].rename(columns={"order_date": "date"})
    sales = placed.groupby(["store_id", "date"]).agg(
        orders=("order_id", "size"),
        gmv=("gmv", lambda v: sum(v, Decimal(0))),
        gmv_usd=("gmv_usd", lambda v: sum(v, Decimal(0))),
    )
    kpis = per_day.join(sales, how="outer")
    for column in ("sessions", "visitors", "converted_sessions", "bounced_sessions", "orders"):
        kpis[column] = kpis[column].fillna(0).astype(int)
    for column in ("gmv", "gmv_usd"):
        kpis[column] = kpis[column].apply(lambda v: Decimal(0) if pd.isna(v) else v)
    sessions_or_null = kpis["sessions"].where(kpis["sessions"] > 0)
    kpis["conversion_rate"] = kpis["converted_sessions"] / sessions_or_null
    kpis["bounce_rate"] = kpis["bounced_sessions"] / sessions_or_null
    return kpis.reset_index()


def _funnel(events: pd.DataFrame, purchases: pd.DataFrame, stores: pd.Index) -> pd.DataFrame:
    """int_funnel_step_events + int_session_funnel_steps + funnel_daily (entrants, reached next)."""
    seed = pd.DataFrame(_seed("funnel_steps")).astype({"step_number": int})
    own = set(seed["store_id"]) - {"*"}
    steps = pd.concat(
        [seed[seed["store_id"] == (s if s in own else "*")].assign(store_id=s) for s in stores], ignore_index=True
    )
    last_step = steps.groupby("store_id")["step_number"].max()
    uncaptured = purchases.index[~purchases["is_captured"]].union(
        events.index[(events["event_type"] == "purchase") & events["order_id"].isna()]
    )
    step_events = events.drop(uncaptured).merge(steps, on=["store_id", "event_type"])
    reached, previous = [], None
    for number in sorted(steps["step_number"].unique()):
        candidates = step_events[step_events["step_number"] == number]
        if previous is not None:
            candidates = candidates.merge(previous[["session", "reached_ms"]], on="session")
            candidates = candidates[candidates["ms"] >= candidates["reached_ms"]].drop(columns="reached_ms")
        previous = candidates.groupby(["session", "store_id", "event_date", "step_name"], as_index=False)["ms"].min()
        previous = previous.rename(columns={"ms": "reached_ms"}).assign(step_number=number)
        reached.append(previous)
    reached = pd.concat(reached, ignore_index=True)
    following = reached[["session", "step_number"]].assign(step_number=reached["step_number"] - 1, has_next=True)
    reached = reached.merge(following, on=["session", "step_number"], how="left")
    daily = reached.groupby(["store_id", "event_date", "step_number", "step_name"], as_index=False).agg(
        entrants=("session", "size"), reached_next=("has_next", "count")
    )
    is_last = daily["step_number"].to_numpy() == daily["store_id"].map(last_step).to_numpy()
    daily["reached_next"] = daily["reached_next"].astype("float").mask(is_last)
    return daily.rename(columns={"event_date": "date"})


MART_SQL = {
    "kpis_daily": """select store_id, date, sessions, visitors, orders, gmv, gmv_usd, converted_sessions,
        bounced_sessions, conversion_rate, bounce_rate from kpis_daily""",
    "fct_sessions": """select store_id, session_date as date, count(*) as sessions, sum(events) as events,
        max(events) as max_events, sum(page_views) as page_views, sum(duration_seconds) as duration_seconds,
        max(duration_seconds) as max_duration_seconds, count(*) filter (is_bounce) as bounced,
        count(*) filter (is_converted) as converted, sum(orders) as orders,
        min(visitor_id) as first_visitor_id, max(visitor_id) as last_visitor_id
        from fct_sessions group by all""",
    "funnel_daily": "select store_id, date, step_number, step_name, entrants, reached_next from funnel_daily",
}
KEYS = {"kpis_daily": ["store_id", "date"], "fct_sessions": ["store_id", "date"]}
KEYS["funnel_daily"] = ["store_id", "date", "step_number", "step_name"]


def _equal(ours: pd.Series, theirs: pd.Series) -> pd.Series:
    both_missing = ours.isna() & theirs.isna()
    return both_missing | (ours == theirs).fillna(False).astype(bool)


def compare(peer: dict[str, pd.DataFrame], database: Path, schema: str = "main") -> dict:
    """Each mart's columns, peer against the marts in `database` (published: `main`; the warehouse:
    `marts`), over the union of their keys.

    A store-day only the mart has (a day with shipments but no session or order) counts as zero on
    the peer's side, as the mart's own coalesce(..., 0) does; a NULL rate must be NULL on both.
    """
    marts = {}
    # Not read-only: a dbt build in this process may still hold the file open, and DuckDB refuses a
    # second connection to it with a different configuration.
    with duckdb.connect(str(database)) as con:
        con.execute(f"set schema = '{schema}'")
        for mart, sql in MART_SQL.items():
            cursor = con.execute(sql)
            marts[mart] = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    result = {"equal": True, "marts": {}}
    for mart, theirs in marts.items():
        keys = KEYS[mart]
        ours = peer[mart]
        ours["date"] = pd.to_datetime(ours["date"]).dt.date
        theirs["date"] = pd.to_datetime(theirs["date"]).dt.date
        joined = ours.merge(theirs, on=keys, how="outer", suffixes=("_peer", "_mart"), indicator=True)
        columns = {}
        for column in (c for c in theirs.columns if c not in keys):
            mine, other = joined[f"{column}_peer"], joined[f"{column}_mart"]
            if mart == "kpis_daily" and column not in ("conversion_rate", "bounce_rate"):
                mine = mine.where(joined["_merge"] != "right_only", 0)
            mismatches = int((~_equal(mine, other)).sum())
            columns[column] = {"equal": mismatches == 0, "rows_differing": mismatches}
        rows = {"peer": len(ours), "mart": len(theirs), "only_in_mart": int((joined["_merge"] == "right_only").sum())}
        rows["only_in_peer"] = int((joined["_merge"] == "left_only").sum())
        equal = all(c["equal"] for c in columns.values()) and (mart == "kpis_daily" or rows["only_in_mart"] == 0)
        result["marts"][mart] = {"equal": equal and rows["only_in_peer"] == 0, "rows": rows, "columns": columns}
        result["equal"] &= result["marts"][mart]["equal"]
    return result
