"""Build the warehouse day by day, incrementally, as extracts arrive (late events, consent decisions
and payments included), landed on a machine whose clock is a day behind, then a late day: store us
sends a consent withdrawal, an offline batch with a login and a sensor reading whose upload was
lost, all dated on the first day, and the other store a correction of a customer's address; then a
fourth delivery withdraws, before its events, the consent of the only device that visited two days
before the history (a day the other store has no events), so that store-day empties, and brings the
other store a late product view of a visitor who searched on the first day and did nothing else, a
funnel step that reaches back to that entry day, a line added late to a first-day order a session
bought, and a corrected publication of the other store's first-day exchange rate. A device that
reports rarely has readings two days before the history and one on the second day, and its
activation, on the first day, registers only on the late day. Prove every
mart, and the incremental intermediate models, equal a full refresh of the same data."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.bench.stages import deliver
from orchestration.contracts import load_contracts
from orchestration.dbt_project import WINDOW_START_ENV, dbt_environment
from orchestration.generator import GeneratorConfig, generate
from orchestration.governance.pseudonyms import pseudonym
from orchestration.landing import land
from orchestration.landing.land import land_all
from orchestration.settings import DataPaths
from tests.conftest import event, write_batches, write_csv

FIRST_DAY = date(2026, 11, 1)
DAYS = 2
# Landing times differ between the two builds by construction; they are bookkeeping, not data.
BOOKKEEPING = {
    "partition_landed_at", "landed_at", "consent_landed_at", "first_landed_at", "identified_landed_at",
    "inputs_landed_at",
}  # fmt: skip
# The incremental intermediate models compared besides the marts.
INTERMEDIATE = (
    "int_events_classified",
    "int_device_logins_daily",
    "int_devices_identified",
    "int_funnel_step_events",
    "int_session_funnel_steps",
    "int_visitor_funnel_steps",
    "int_searches_daily",
    "int_visitors_active_daily",
    "int_events_sessionized",
    "int_sessions_summarized",
    "int_sensor_readings_evaluated",
    "int_device_days_summarized",
)
# The day after the generated history, whose deliveries are late and store us's only.
LATE_DAY = FIRST_DAY + timedelta(days=DAYS)
# The fourth delivery's day, and the day whose only visitor it withdraws.
# (Two days before the history: its first UTC hours are the day before on store us's clock.)
WITHDRAWAL_DAY, LONE_DAY = LATE_DAY + timedelta(days=1), FIRST_DAY - timedelta(days=2)
OFFLINE_DEVICE = "a-0ff1000000000001"
SPARSE_DEVICE = "dev-us-09999999"
LONE_DEVICE = "a-1one000000000001"
KEY = "test-key-shared-by-both-builds"
# Every model downstream of an incremental one, and everything those read (dbt "@"). The other marts are tables
# rebuilt whole from the same landed data on every run, equal by construction, so building them
# four times here would only cost time.
AFFECTED = ["--select", "@int_events_sessionized", "@int_sensor_readings_evaluated"]


# Every command of a build's warehouse passes the same vars, and a daily run's window goes in the
# environment variable Dagster sets: dbt parses the project again whenever the vars change.
NO_LOOKBACK = ["--vars", "{lookback_days: 0}"]


def land_and_run(paths: DataPaths, monkeypatch, *dbt_args: str, window_start: date | None = None) -> None:
    """Land the inbox, then `dbt run` its models; with `window_start`, as a daily run of that window."""
    land_all(paths)
    monkeypatch.delenv(WINDOW_START_ENV, raising=False)
    for name, value in dbt_environment(paths, window_start).items():
        monkeypatch.setenv(name, value)
    args = ["run", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")]
    result = dbtRunner().invoke([*args, *NO_LOOKBACK, *dbt_args])
    assert result.success, [(r.node.name, r.message) for r in result.result or [] if r.status != "success"]


def generated_history(root: Path) -> DataPaths:
    """The generated days both incremental suites deliver (this one, and tests/test_spark_incremental.py)."""
    generated = DataPaths(root / "generated")
    generate(generated, GeneratorConfig(days=DAYS, start_date=FIRST_DAY, stores=2, events_per_day=3000, seed=23))
    return generated


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    generated = generated_history(root)
    incremental, full = DataPaths(root / "incremental"), DataPaths(root / "full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PII_HMAC_KEY", KEY)
        seed = ["seed", "--project-dir", ".", "--profiles-dir", ".", *NO_LOOKBACK]
        for paths in (incremental, full):
            mp.setenv("DATA_DIR", str(paths.root))
            paths.root.mkdir(parents=True)
            assert dbtRunner().invoke([*seed, "--target-path", str(paths.root / "target")]).success
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            for paths in (incremental, full):
                _deliver_sparse_readings(paths, day)
            deliver(generated, incremental, day)
            # From the second day on the landing machine's clock is a day behind, and the run rebuilds
            # no day before its window: the late events, consent and payments of the first day must
            # be found by their landing stamps, which follow the landing sequence, not the clock.
            with pytest.MonkeyPatch.context() as clock:
                if offset:
                    clock.setattr(land, "_machine_now", lambda: datetime.now(UTC) - timedelta(days=1))
                land_and_run(incremental, mp, *AFFECTED, window_start=day)
            deliver(generated, full, day)
        planted = _late_deliveries(incremental)
        for paths in (incremental, full):
            planted(paths)
        land_and_run(incremental, mp, *AFFECTED, window_start=LATE_DAY)
        planted.lone_day_sessions = _lone_day_sessions(incremental)
        for paths in (incremental, full):
            planted.withdraw(paths)
        land_and_run(incremental, mp, *AFFECTED, window_start=WITHDRAWAL_DAY)
        land_and_run(full, mp, *AFFECTED, "--full-refresh")
    return incremental, full, planted


def _sparse_readings(day: date) -> list[dict]:
    """A device that reports rarely: 8 good readings of 100 mg/dL two days before the history, sent
    with the first day's delivery, then one of 200 on the second day, whose anomaly band only those
    can fill (a run rebuilding the second day must read three days back)."""
    reading = {"device_id": SPARSE_DEVICE, "store_id": "us", "customer_id": "cus-us-0999999", "quality_flag": "ok"}
    if day == FIRST_DAY:
        return [
            {**reading, "reading_id": f"rdg-us-99000000{n:02d}", "measured_at": f"{LONE_DAY}T10:{n:02d}:00.000Z",
             "value": 100}
            for n in range(8)
        ]  # fmt: skip
    return [{**reading, "reading_id": "rdg-us-9900000099", "measured_at": f"{day}T12:00:00.000Z", "value": 200}]


def _deliver_sparse_readings(paths: DataPaths, day: date) -> None:
    write_csv(paths, "sensor_readings", f"sensor_readings_{day:%Y%m%d}_sparse.csv", _sparse_readings(day))


def _raw(paths: DataPaths, source: str) -> str:
    return f"read_parquet('{paths.raw_for(source)}/*/*.parquet', hive_partitioning = false)"


def _counted_events(history: DataPaths) -> str:
    """SQL relation of the landed events a build counts, each with its device's latest analytics
    decision: that decision granted consent before the event, no bot user agent, no GPC or DNT."""
    return f"""(
        SELECT events.*, decisions.decided_at
        FROM {_raw(history, "events")} AS events
        JOIN (
            SELECT store_id, anonymous_id, arg_max(action, recorded_at) AS action, max(recorded_at) AS decided_at
            FROM {_raw(history, "consent_logs")} WHERE purpose = 'analytics' GROUP BY ALL
        ) AS decisions USING (store_id, anonymous_id)
        WHERE decisions.action = 'granted' AND decisions.decided_at < events.event_at
            AND events.user_agent NOT ILIKE '%bot%' AND NOT coalesce(events.gpc, false)
            AND NOT coalesce(events.dnt, false)
    )"""


def _late_deliveries(history: DataPaths):
    """What store us sends on LATE_DAY, all of it about the first day, chosen from the landed history:
    the withdrawal of a device's analytics consent, recorded between two of its first-day events (the
    later ones stop counting), an offline batch of first-day events from a device never seen,
    logged in as an existing customer (its visits that day are stitched to them), and a first-day
    login of a device that visited anonymously on both days, as another customer (its visits of
    both days are re-stitched: the second day's partitions must reopen too). The other store, whose
    days nothing else reopens, re-sends a visiting customer's only address version with its postal
    code corrected to an area of another region: every session of theirs moves to that region."""
    con, counted = duckdb.connect(), _counted_events(history)
    [(device, first_at, last_at)] = con.execute(f"""
        SELECT anonymous_id, min(event_at), max(event_at)
        FROM {counted}
        WHERE store_id = 'us' AND event_at BETWEEN '{FIRST_DAY} 14:00:00+00' AND '{FIRST_DAY} 20:00:00+00'
        GROUP BY ALL HAVING count(*) >= 3 ORDER BY anonymous_id LIMIT 1
    """).fetchall()  # fmt: skip
    [(restitched, restitched_at)] = con.execute(f"""
        SELECT anonymous_id, min(event_at) FILTER (WHERE event_at < '{FIRST_DAY} 20:00:00+00')
        FROM {counted}
        WHERE store_id = 'us' AND anonymous_id <> ?
            AND event_at BETWEEN '{FIRST_DAY} 14:00:00+00' AND '{FIRST_DAY + timedelta(days=1)} 20:00:00+00'
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE event_at < '{FIRST_DAY} 20:00:00+00') >= 1
            AND count(*) FILTER (WHERE event_at >= '{FIRST_DAY + timedelta(days=1)} 14:00:00+00') >= 1
            AND count(user_id) = 0 AND count(*) < 20
        ORDER BY anonymous_id LIMIT 1
    """, [device]).fetchall()  # fmt: skip
    # A visitor of the other store who searched on the first day (a funnel entry) and never viewed a
    # product, and the context of that search, for their product view sent with the fourth delivery.
    [searcher] = con.execute(f"""
        SELECT anonymous_id, min(event_at), arg_min(platform, event_at), arg_min(user_agent, event_at),
            arg_min(ip, event_at)
        FROM {counted}
        WHERE store_id = 'uk' AND event_type = 'search'
            AND event_at BETWEEN '{FIRST_DAY} 08:00:00+00' AND '{FIRST_DAY} 20:00:00+00'
            AND anonymous_id NOT IN (
                SELECT anonymous_id FROM {_raw(history, 'events')}
                WHERE event_type = 'product_view' OR user_id IS NOT NULL OR event_at >= '{FIRST_DAY} 20:00:00+00'
            )
        GROUP BY ALL ORDER BY anonymous_id LIMIT 1
    """).fetchall()  # fmt: skip
    # A first-day order of store us that a counted session bought, with a captured payment, and its
    # GMV from the landed lines: a line added to it later raises the session's revenue. (Orders and
    # lines are re-sent on change: each counts once, in its latest version.)
    [(lined_order, placed_at, order_gmv)] = con.execute(f"""
        WITH bought AS (
            SELECT DISTINCT order_id
            FROM {counted}
            WHERE store_id = 'us' AND event_type = 'purchase' AND anonymous_id NOT IN (?, ?)
        ),
        orders AS (
            SELECT order_id, any_value(placed_at) AS placed_at, arg_max(status, updated_at) AS status
            FROM {_raw(history, 'orders')} GROUP BY order_id
        ),
        lines AS (
            SELECT order_id, arg_max(quantity * unit_price, updated_at) AS amount
            FROM {_raw(history, 'order_items')} GROUP BY order_id, order_item_id
        )
        SELECT order_id, orders.placed_at, sum(lines.amount)
        FROM orders JOIN bought USING (order_id) JOIN lines USING (order_id)
        WHERE orders.status <> 'cancelled'
            AND orders.placed_at BETWEEN '{FIRST_DAY} 14:00:00+00' AND '{FIRST_DAY} 20:00:00+00'
            AND order_id IN (SELECT order_id FROM {_raw(history, 'payment_attempts')} WHERE status = 'captured')
        GROUP BY ALL ORDER BY 1 LIMIT 1
    """, [device, restitched]).fetchall()  # fmt: skip
    [(customer, other_customer)] = con.execute(
        f"SELECT min(customer_id), max(customer_id) FROM {_raw(history, 'customers')} WHERE store_id = 'us'"
    ).fetchall()
    # The other store's customer whose only address version is corrected: a visitor with consent,
    # and an area of another region than theirs.
    [(mover, prefix, region)] = con.execute(f"""
        WITH visitors AS (
            SELECT DISTINCT store_id, user_id AS customer_id
            FROM {counted}
            WHERE store_id <> 'us' AND user_id IS NOT NULL
        ),
        addresses AS (
            SELECT store_id, customer_id, any_value(country) AS country, any_value(postal_prefix) AS postal_prefix
            FROM {_raw(history, 'customers')} GROUP BY ALL HAVING count(*) = 1
        ),
        areas AS (SELECT * FROM {_raw(history, 'postal_areas')})
        SELECT customer_id, other.postal_prefix, other.region
        FROM visitors JOIN addresses USING (store_id, customer_id)
        JOIN areas AS home USING (store_id, country, postal_prefix)
        JOIN areas AS other USING (store_id, country)
        WHERE other.region <> home.region
        ORDER BY customer_id, other.postal_prefix LIMIT 1
    """).fetchall()  # fmt: skip
    fields = [f.name for f in load_contracts()["customers"].fields]
    [version] = con.execute(
        f"SELECT {', '.join(fields)} FROM {_raw(history, 'customers')} WHERE customer_id = ?", [mover]
    ).fetchall()
    # the same version (same updated_at) re-sent with its postal code corrected
    correction = {f: v.isoformat() if isinstance(v, datetime) else v for f, v in zip(fields, version, strict=True)}
    correction |= {"postal_code": f"{prefix}42"}
    withdrawn_at = first_at + (last_at - first_at) / 2
    offline = [
        event(f"e-0ff1{i:012x}", f"{FIRST_DAY}T15:3{i}:00.000Z", anonymous_id=OFFLINE_DEVICE, user_id=customer,
              session_id="s-0ff1000000000001")
        for i in range(3)
    ] + [
        event("e-0ff2000000000001", (restitched_at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
              event_type="login", anonymous_id=restitched, user_id=other_customer, session_id="s-0ff2000000000001")
    ]  # fmt: skip
    lone = [
        event(f"e-1one{i:012x}", f"{LONE_DAY}T15:1{i}:00.000Z", anonymous_id=LONE_DEVICE, session_id="s-1one0000001")
        for i in range(3)
    ]  # fmt: skip
    decision = {"store_id": "us", "customer_id": "", "purpose": "analytics", "consent_text": "Analytics?",
                "consent_version": "2026-09"}  # fmt: skip
    decisions = [
        {**decision, "consent_event_id": "cns-us-900000001", "anonymous_id": device, "action": "withdrawn",
         "recorded_at": withdrawn_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
        {**decision, "consent_event_id": "cns-us-900000002", "anonymous_id": OFFLINE_DEVICE, "action": "granted",
         "recorded_at": f"{FIRST_DAY}T15:00:00.000Z"},
        {**decision, "consent_event_id": "cns-us-900000003", "anonymous_id": LONE_DEVICE, "action": "granted",
         "recorded_at": f"{LONE_DAY}T10:00:00.000Z"},
    ]  # fmt: skip
    # recorded before the lone device's events, landed after they were built
    withdrawal = {**decision, "consent_event_id": "cns-us-900000004", "anonymous_id": LONE_DEVICE,
                  "action": "withdrawn", "recorded_at": f"{LONE_DAY}T11:00:00.000Z"}  # fmt: skip

    # A good reading whose upload was lost on the first day, re-sent on the late day: measured before
    # the busiest device's first readings of that day, so it enters the anomaly band of the next
    # ones, and far from them, so it moves the band.
    [(late_reading,)] = con.execute(f"""
        SELECT {{
            'reading_id': 'rdg-us-9000000001', 'device_id': device_id, 'store_id': store_id,
            'customer_id': min(customer_id),
            'measured_at': strftime(min(measured_at) - INTERVAL 1 MINUTE, '%Y-%m-%dT%H:%M:%S.000Z'),
            'value': 400, 'quality_flag': 'ok'
        }}
        FROM {_raw(history, 'sensor_readings')}
        WHERE store_id = 'us' AND measured_at >= '{FIRST_DAY} 06:00:00+00' AND quality_flag = 'ok'
        GROUP BY device_id, store_id ORDER BY count(*) DESC, device_id LIMIT 1
    """).fetchall()  # fmt: skip

    # The sparse device's activation, on the first day, registered only on the late day: its days
    # before it landed (its readings two days before the history and on the second day) had no row.
    [(late_activation,)] = con.execute(f"""
        SELECT {{
            'device_id': '{SPARSE_DEVICE}', 'store_id': store_id, 'customer_id': 'cus-us-0999999',
            'order_item_id': NULL, 'product_id': product_id, 'lot_number': 'LOT-SPARSE',
            'firmware_version': firmware_version, 'prescribed_wear_days': 14,
            'shipped_at': '{FIRST_DAY - timedelta(days=7)}T09:00:00.000Z',
            'activated_at': '{FIRST_DAY}T08:00:00.000Z', 'updated_at': '{FIRST_DAY}T08:00:00.000Z'
        }}
        FROM {_raw(history, 'device_activations')}
        WHERE store_id = 'us' AND activated_at IS NOT NULL
        ORDER BY device_id LIMIT 1
    """).fetchall()  # fmt: skip

    def plant(paths: DataPaths) -> None:
        write_csv(paths, "sensor_readings", f"sensor_readings_{LATE_DAY:%Y%m%d}_late.csv", [late_reading])
        write_csv(paths, "device_activations", f"device_activations_{LATE_DAY:%Y%m%d}_late.csv", [late_activation])
        write_csv(paths, "consent_logs", f"consent_logs_{LATE_DAY:%Y%m%d}.csv", decisions)
        write_csv(paths, "customers", f"customers_{LATE_DAY:%Y%m%d}.csv", [correction])
        # sent and received on the late day: an offline device syncing what it recorded on the first
        write_batches(paths, f"events_{LATE_DAY:%Y%m%d}_9000.jsonl.gz", [{
            "sent_at": f"{LATE_DAY}T09:00:00.000Z", "received_at": f"{LATE_DAY}T09:00:01.000Z", "events": offline + lone
        }])  # fmt: skip

    placed = placed_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    late_line = {"order_item_id": "itm-us-900000001", "order_id": lined_order, "store_id": "us",
                 "product_id": "prd-us-0001", "quantity": 1, "unit_price": "10.00", "item_discount": "0.00",
                 "order_placed_at": placed, "updated_at": placed}  # fmt: skip
    corrected_rate = {"store_id": "uk", "rate_date": f"{FIRST_DAY}", "currency": "GBP",
                      "usd_per_unit": "1.30000000", "published_at": f"{WITHDRAWAL_DAY}T06:00:00.000Z"}  # fmt: skip

    def withdraw(paths: DataPaths) -> None:
        write_csv(paths, "consent_logs", f"consent_logs_{WITHDRAWAL_DAY:%Y%m%d}.csv", [withdrawal])
        write_csv(paths, "order_items", f"order_items_{WITHDRAWAL_DAY:%Y%m%d}.csv", [late_line])
        write_csv(paths, "fx_rates", f"fx_rates_{WITHDRAWAL_DAY:%Y%m%d}.csv", [corrected_rate])
        write_batches(paths, f"events_{WITHDRAWAL_DAY:%Y%m%d}_9001.jsonl.gz", [{
            # received as sent: no clock skew to correct, the view counts at the time it names
            "sent_at": f"{WITHDRAWAL_DAY}T09:00:00.000Z", "received_at": f"{WITHDRAWAL_DAY}T09:00:00.000Z",
            "events": [late_step],
        }])  # fmt: skip

    # the day after the search, in the conversion window of its entry and later than anything it did
    searcher_device, searched_at, platform, user_agent, ip = searcher
    stepped_at = searched_at + timedelta(days=1)
    late_step = event(
        "e-57e9000000000001", stepped_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", event_type="product_view",
        anonymous_id=searcher_device, store_id="uk", session_id="s-57e9000000000001",
        properties={"url": "https://shop.example/uk/p/prd-uk-0001", "product_id": "prd-uk-0001"},
        context={"platform": platform, "user_agent": user_agent, "ip": ip},
    )  # fmt: skip

    plant.searcher, plant.searched_at, plant.stepped_at = searcher_device, searched_at, stepped_at
    plant.lined_order, plant.order_gmv = lined_order, order_gmv
    plant.device, plant.withdrawn_at, plant.customer = device, withdrawn_at, customer
    plant.restitched, plant.other_customer = restitched, other_customer
    plant.mover, plant.moved_to = mover, region
    plant.late_reading = late_reading
    plant.withdraw = withdraw
    return plant


def _lone_day_sessions(paths: DataPaths) -> list[tuple]:
    """Per store, the sessions of LONE_DAY in every table that holds sessions or their counts."""
    with duckdb.connect(str(paths.warehouse)) as con:
        return con.execute(f"""
            SELECT 'fct_sessions', store_id, count(*)
                FROM marts.fct_sessions WHERE session_date = '{LONE_DAY}' GROUP BY ALL
            UNION ALL SELECT 'int_events_sessionized', store_id, count(DISTINCT session_id)
                FROM main.int_events_sessionized WHERE event_date = '{LONE_DAY}' GROUP BY ALL
            UNION ALL SELECT 'traffic_sources_daily', store_id, sum(sessions)
                FROM marts.traffic_sources_daily WHERE date = '{LONE_DAY}' GROUP BY ALL
            UNION ALL SELECT 'int_visitors_active_daily', store_id, dau
                FROM main.int_visitors_active_daily WHERE date = '{LONE_DAY}'
            UNION ALL SELECT 'int_visitors_active_daily (mau, first day)', store_id, mau
                FROM main.int_visitors_active_daily WHERE date = '{FIRST_DAY}' AND store_id = 'us'
            ORDER BY ALL
        """).fetchall()  # fmt: skip


def mart_rows(paths: DataPaths) -> dict[str, Counter]:
    """Every mart, and the incremental intermediate models, as multisets of rows, bookkeeping columns
    left out."""
    # Not read-only: dbt's in-process connection to the same file is still open.
    with duckdb.connect(str(paths.warehouse)) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name, list(column_name ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = 'marts'"
            " OR (table_schema = 'main' AND list_contains(?, table_name)) GROUP BY ALL",
            [list(INTERMEDIATE)],
        ).fetchall()
        return {
            table: Counter(
                con.execute(f"SELECT {', '.join(c for c in columns if c not in BOOKKEEPING)} FROM {table}").fetchall()
            )
            for table, columns in tables
        }


def test_every_mart_built_day_by_day_equals_a_full_refresh(warehouses):
    incremental, full = (mart_rows(paths) for paths in warehouses[:2])
    assert {"marts.fct_sessions", "marts.fct_page_views", "marts.funnel_daily", "marts.kpis_daily"} <= set(full)
    assert {f"main.{model}" for model in INTERMEDIATE} <= set(full)
    assert set(incremental) == set(full)
    differences = {
        table: (sum((incremental[table] - rows).values()), sum((rows - incremental[table]).values()))
        for table, rows in full.items()
        if incremental[table] != rows
    }
    assert differences == {}
    # The comparison means something: the event marts hold rows from every day.
    session_days = {row[2] for row in full["marts.fct_sessions"]}
    assert len(session_days) >= DAYS


def test_the_late_day_reclassified_and_restitched_the_first_day(warehouses):
    incremental, _, planted = warehouses
    with duckdb.connect(str(incremental.warehouse)) as con:
        reasons = con.execute(
            "SELECT event_at > ?, exclusion_reason, count(*) FROM main.int_events_classified"
            " WHERE anonymous_id = ? GROUP BY ALL ORDER BY ALL",
            [planted.withdrawn_at, pseudonym(planted.device, KEY)],
        ).fetchall()
        offline = con.execute(
            "SELECT event_date, customer_id, count(*) FROM main.int_events_sessionized"
            " WHERE anonymous_id = ? GROUP BY ALL",
            [pseudonym(OFFLINE_DEVICE, KEY)],
        ).fetchall()
        restitched = con.execute(
            "SELECT event_date, customer_id, count(*) > 0 FROM main.int_events_sessionized"
            " WHERE anonymous_id = ? GROUP BY ALL ORDER BY ALL",
            [pseudonym(planted.restitched, KEY)],
        ).fetchall()
    # counted up to the withdrawal, not after it
    assert [(after, reason) for after, reason, _ in reasons] == [(False, None), (True, "no_analytics_consent")]
    assert offline == [(FIRST_DAY, pseudonym(planted.customer, KEY), 3)]
    # the late login re-stitched the device's visits of both days, the second day's too
    other = pseudonym(planted.other_customer, KEY)
    assert restitched == [(FIRST_DAY, other, True), (FIRST_DAY + timedelta(days=1), other, True)]


def test_a_late_address_correction_relocated_the_sessions_it_reached(warehouses):
    incremental, _, planted = warehouses
    with duckdb.connect(str(incremental.warehouse)) as con:
        regions = con.execute(
            "SELECT region, count(*) FROM marts.fct_sessions WHERE customer_id = ? GROUP BY ALL",
            [pseudonym(planted.mover, KEY)],
        ).fetchall()
    # The window was the late day, and the customer's store delivered nothing else: only the
    # corrected address's landing reopened the days of their sessions.
    assert [region for region, _ in regions] == [planted.moved_to]


def test_a_late_withdrawal_that_empties_a_day_removes_its_rows(warehouses):
    incremental, full, planted = warehouses
    # Built on the late day: the lone visitor's one session, counted in the first day's 30-day visitors.
    assert [(table, store) for table, store, _ in planted.lone_day_sessions] == [
        ("fct_sessions", "us"),
        ("int_events_sessionized", "us"),
        ("int_visitors_active_daily", "us"),
        ("int_visitors_active_daily (mau, first day)", "us"),
        ("traffic_sources_daily", "us"),
    ]
    before = {table: count for table, _, count in planted.lone_day_sessions}
    assert before["fct_sessions"] == before["int_events_sessionized"] == before["traffic_sources_daily"] == 1
    assert before["int_visitors_active_daily"] == 1
    after, refreshed = _lone_day_sessions(incremental), _lone_day_sessions(full)
    # The withdrawal emptied the day: no table keeps a row of it, and the visitor left the first
    # day's 30-day count, as in the full refresh.
    assert [(table, store) for table, store, _ in after] == [("int_visitors_active_daily (mau, first day)", "us")]
    [(_, _, mau_after)] = after
    assert mau_after == before["int_visitors_active_daily (mau, first day)"] - 1
    assert after == refreshed


def test_a_late_step_reopened_the_entry_day_its_window_reaches(warehouses):
    """The product view sent with the fourth delivery, on the day after the visitor's only search,
    counts as the second step of the search's entry day, which only the conversion window of that
    day ties to it: the run rebuilt the entry day from a change on the next one, as the full refresh
    has it."""
    incremental, full, planted = warehouses

    def entries(paths: DataPaths) -> list[tuple]:
        with duckdb.connect(str(paths.warehouse)) as con:
            return con.execute(
                "SELECT entry_date, step_number, step_name, reached_at, next_step_reached_at"
                " FROM main.int_visitor_funnel_steps WHERE visitor_id = ? ORDER BY ALL",
                [pseudonym(planted.searcher, KEY)],
            ).fetchall()

    assert entries(incremental) == [
        (FIRST_DAY, 1, "search", planted.searched_at, planted.stepped_at),
        (FIRST_DAY, 2, "product_view", planted.stepped_at, None),
    ]
    assert entries(full) == entries(incremental)


def test_a_late_order_line_and_a_corrected_rate_reopened_the_sessions_they_reach(warehouses):
    """The fourth delivery's order line of 10.00 raised the revenue of the first-day session that
    bought its order, and the other store's first-day rate, published again at 1.30, converted the
    revenue of that day's sessions: neither names a session, but both reopened the sessions' day."""
    incremental, _, planted = warehouses
    with duckdb.connect(str(incremental.warehouse)) as con:
        [(revenue,)] = con.execute(
            "SELECT revenue FROM marts.fct_sessions WHERE session_id IN"
            " (SELECT session_id FROM main.int_session_conversions WHERE order_id = ?)",
            [planted.lined_order],
        ).fetchall()
        converted = con.execute(
            "SELECT revenue, revenue_usd FROM marts.fct_sessions"
            " WHERE store_id = 'uk' AND session_date = ? AND revenue > 0",
            [FIRST_DAY],
        ).fetchall()
    assert revenue == planted.order_gmv + Decimal("10.00")
    assert converted
    # each session here bought one order, converted once, rounded half up to the cent (to_usd)
    rate, cent = Decimal("1.30"), Decimal("0.01")
    assert [usd for _, usd in converted] == [(gbp * rate).quantize(cent, ROUND_HALF_UP) for gbp, _ in converted]


def test_a_late_reading_reopened_its_day_and_entered_the_bands_after_it(warehouses):
    """The first-day reading re-sent on the late day is in the incremental table on its day, and is
    in the band of the device's next good readings: 400 mg/dL among readings near 120 makes some of
    them anomalies (the band's mean moves by about 23, beyond device_anomaly_band's 20)."""
    incremental, _, planted = warehouses
    reading = planted.late_reading
    with duckdb.connect(str(incremental.warehouse)) as con:
        rows = con.execute(
            "SELECT reading_id, reading_date, is_anomaly FROM main.int_sensor_readings_evaluated"
            " WHERE device_id = ? AND is_within_bounds ORDER BY measured_at, reading_id",
            [pseudonym(reading["device_id"], KEY)],
        ).fetchall()
    at = [reading_id for reading_id, _, _ in rows].index(reading["reading_id"])
    assert rows[at][1] == FIRST_DAY
    assert any(is_anomaly for _, _, is_anomaly in rows[at + 1 : at + 13])


def test_a_late_activation_brought_its_device_days_from_its_first_reading(warehouses):
    """The sparse device, activated on the first day but registered only on the late day, has its
    days from its first readings on, two days before the history: 8 readings there, the activation
    day (no reading), the second day's reading; each on its prescription (14 days from the first
    day), as in the full refresh."""
    incremental, _, _ = warehouses
    with duckdb.connect(str(incremental.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT date, readings, is_active, is_activation_day, is_prescribed_day, lot_number"
            " FROM main.int_device_days_summarized WHERE device_id = ? ORDER BY date",
            [pseudonym(SPARSE_DEVICE, KEY)],
        ).fetchall()
    assert rows == [
        (LONE_DAY, 8, True, False, False, "LOT-SPARSE"),
        (FIRST_DAY, 0, False, True, False, "LOT-SPARSE"),
        (FIRST_DAY + timedelta(days=1), 1, True, False, True, "LOT-SPARSE"),
    ]


def test_a_rebuilt_day_reads_as_far_back_as_its_bands_reach(warehouses):
    """The sparse device's second-day reading, rebuilt by the second day's run, was judged against its
    8 readings of two days before the history: 200 against a band of 100, an anomaly."""
    incremental, _, _ = warehouses
    with duckdb.connect(str(incremental.warehouse)) as con:
        rows = con.execute(
            "SELECT reading_date, count(*), count(*) FILTER (WHERE is_anomaly)"
            " FROM main.int_sensor_readings_evaluated WHERE device_id = ? GROUP BY ALL ORDER BY ALL",
            [pseudonym(SPARSE_DEVICE, KEY)],
        ).fetchall()
    assert rows == [(LONE_DAY, 8, 0), (FIRST_DAY + timedelta(days=1), 1, 1)]
