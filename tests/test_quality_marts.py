"""The search, recommendation, consent and data-quality marts, built once on small generated data
with dirt, against values computed here from the landed Parquet, the manifest and truth.json."""

import json
from collections import Counter, defaultdict

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.contracts import load_contracts
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing import rules
from orchestration.landing.land import land_all
from orchestration.landing.manifest import records
from orchestration.privacy import hmac_key
from orchestration.settings import DataPaths

MARTS = ("search_terms_daily", "recommendation_performance_daily", "dq_scorecard_daily", "consent_daily")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("quality"))
    truth = generate(paths, GeneratorConfig(days=2, stores=2, events_per_day=2000, seed=11))
    land_all(paths)
    mp = pytest.MonkeyPatch()
    mp.setenv("DATA_DIR", str(paths.root))
    selection = ["dim_stores", *(f"+{mart}" for mart in MARTS), "dq_scorecard_daily_rows_add_up"]
    result = dbtRunner().invoke(
        [
            *("build", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(paths.root / "target")),
            *("--select", *selection, "--indirect-selection", "cautious"),
        ]
    )
    mp.undo()
    return paths, truth, result


def query(paths, sql):
    """Query the warehouse; the clickstream views pseudonymise on the fly and so need the key."""
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("SET VARIABLE pii_hmac_key = ?", [hmac_key(paths)])
        return con.execute(sql).fetchall()


def test_dbt_build_passes_with_the_unit_and_scorecard_tests(warehouse):
    _, _, result = warehouse
    failures = [(r.node.name, r.status, r.message) for r in result.result if r.status not in ("success", "pass")]
    assert result.success, failures
    names = {r.node.name for r in result.result}
    assert {
        "search_terms_normalised_with_clicks_and_positions",
        "recommendation_click_attributes_the_captured_order_that_contains_the_product",
        "consent_rates_per_local_day",
        "scorecard_rows_add_up",
        "scorecard_replays_and_rates",
        "manifest_record_split_by_store_and_reason_code",
        "dq_scorecard_daily_rows_add_up",
    } <= names


def normalised(text):
    return " ".join(text.split()).lower() or None


def test_search_terms_match_searches_and_clicks_replayed_from_the_counted_events(warehouse):
    paths, _, _ = warehouse
    events = query(
        paths,
        """
        SELECT store_id, event_date, session_id, event_number, event_type, search_query, results_count, list_position
        FROM main.int_events_sessionized
        WHERE event_type IN ('search', 'product_view') AND search_query IS NOT NULL
        ORDER BY session_id, event_number
        """,
    )
    expected = defaultdict(lambda: [0, 0, 0, 0])  # searches, zero results, clicks, position sum
    latest = {}  # (session, term) -> key of the latest search
    for store, day, session, _, kind, text, results, position in events:
        term = normalised(text)
        if kind == "search":
            key = (store, day, term)
            expected[key][0] += 1
            expected[key][1] += results == 0
            latest[session, term] = key
        elif (session, term) in latest:
            key = latest[session, term]
            expected[key][2] += 1
            expected[key][3] += position
    actual = {
        (s, d, t): [n, z, c, p]
        for s, d, t, n, z, c, p in query(
            paths,
            "SELECT store_id, date, search_term, searches, zero_result_searches, clicks, click_position_sum "
            "FROM marts.search_terms_daily",
        )
    }
    assert actual == dict(expected)
    assert sum(v[2] for v in actual.values()) > 50
    # The generator types the same query in several ways; they fold into one term.
    [(raw_queries, terms, bad)] = query(
        paths,
        f"""
        SELECT (SELECT count(DISTINCT search_query) FROM read_parquet('{paths.raw}/events/*/*.parquet')
                WHERE event_type = 'search'),
               count(DISTINCT search_term),
               count(*) FILTER (WHERE search_term <> lower(trim(search_term)) OR search_term LIKE '%  %')
        FROM marts.search_terms_daily
        """,
    )
    assert terms < raw_queries and bad == 0
    rates = query(
        paths,
        "SELECT count(*) FROM marts.search_terms_daily WHERE zero_result_rate <> zero_result_searches / searches "
        "OR mean_click_position IS DISTINCT FROM click_position_sum / nullif(positioned_clicks, 0)",
    )
    assert rates == [(0,)]


def test_recommendations_count_impressions_clicks_and_attribute_orders_that_contain_the_clicked_product(warehouse):
    paths, _, _ = warehouse
    counted = Counter(
        {
            (s, d, p, kind): n
            for s, d, p, kind, n in query(
                paths,
                """
                SELECT store_id, event_date, recommendation_placement, event_type, count(*)
                FROM main.int_events_sessionized
                WHERE event_type IN ('recommendation_impression', 'recommendation_click')
                GROUP BY ALL
                """,
            )
        }
    )
    mart = query(
        paths,
        "SELECT store_id, date, recommendation_placement, impressions, clicks, recommendation_ctr, "
        "attributed_orders, attributed_revenue FROM marts.recommendation_performance_daily",
    )
    assert len(mart) == len({k[:3] for k in counted})
    for store, day, placement, impressions, clicks, ctr, _, _ in mart:
        assert impressions == counted[store, day, placement, "recommendation_impression"]
        assert clicks == counted[store, day, placement, "recommendation_click"]
        assert ctr == (clicks / impressions if impressions else None)
    # Attribution replayed: clicks before the purchase, products from the landed order lines.
    clicks = query(
        paths,
        """
        SELECT session_id, event_number, recommendation_placement, product_id, event_date
        FROM main.int_events_sessionized WHERE event_type = 'recommendation_click'
        """,
    )
    purchases = query(
        paths,
        """
        SELECT e.session_id, e.order_id, min(e.event_number), any_value(c.gmv)
        FROM main.int_events_sessionized AS e
        JOIN main.int_session_conversions AS c USING (session_id, order_id)
        WHERE e.event_type = 'purchase' AND c.is_captured
        GROUP BY ALL
        """,
    )
    lines = defaultdict(set)
    for order, product in duckdb.sql(
        f"SELECT order_id, product_id FROM read_parquet('{paths.raw}/order_items/*/*.parquet')"
    ).fetchall():
        lines[order].add(product)
    attributed = {}
    for session, order, bought_at, gmv in purchases:
        for click_session, number, placement, product, day in clicks:
            if click_session == session and number < bought_at and product in lines[order]:
                key = (placement, order)
                attributed[key] = (min(day, attributed[key][0]) if key in attributed else day, gmv)
    per_placement = defaultdict(lambda: [0, 0])
    for (placement, _), (_, gmv) in attributed.items():
        per_placement[placement][0] += 1
        per_placement[placement][1] += gmv
    actual = defaultdict(lambda: [0, 0])
    for _, _, placement, _, _, _, orders, revenue in mart:
        actual[placement][0] += orders
        actual[placement][1] += revenue
    assert {p: v for p, v in actual.items() if v[0]} == dict(per_placement)


def test_scorecard_landing_counts_equal_the_manifest_and_the_planted_dirt(warehouse):
    paths, truth, _ = warehouse
    codes = [
        value
        for name, value in vars(rules).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    ]
    columns = [c for (c,) in query(paths, "SELECT column_name FROM (DESCRIBE marts.dq_scorecard_daily)")]
    assert sorted(c.removeprefix("quarantined_") for c in columns if c.startswith("quarantined_")) == sorted(codes)
    sums = ", ".join(
        f"sum({c})" for c in ["extracts", "rows_received", "rows_landed", "rows_quarantined", "duplicates_dropped"]
    )
    by_reason = ", ".join(f"sum(quarantined_{code})" for code in codes)
    scorecard = {
        source: values
        for source, *values in query(
            paths, f"SELECT source, {sums}, sum(late_rows), {by_reason} FROM marts.dq_scorecard_daily GROUP BY 1"
        )
    }
    for source in load_contracts():
        manifest = records(paths, source)
        reasons = Counter()
        for record in manifest:
            reasons.update({reason.split(":")[0]: n for reason, n in record.quarantined_by_reason.items()})
        expected = [
            # an extract counts once for each store whose rows it brought; one with no rows, nowhere
            sum(len(r.counts_by_store) for r in manifest),
            sum(r.rows_received for r in manifest),
            sum(r.rows_landed for r in manifest),
            sum(r.rows_quarantined for r in manifest),
            sum(r.duplicates_dropped for r in manifest),
            sum(r.late_rows for r in manifest),
            *(reasons[code] for code in codes),
        ]
        assert scorecard.get(source, [0] * len(expected)) == expected, source
        assert expected[1] == truth["rows"][source], source
        planted = truth["dirt"]["quarantine"].get(source, {})
        found = Counter()
        for record in manifest:
            found.update(record.quarantined_by_reason)
        assert dict(found) == {k: v for k, v in planted.items() if v}, source
    assert scorecard["events"][4] == truth["dirt"]["duplicates"]["events"]
    assert scorecard["events"][5] == truth["dirt"]["late_events"]
    # Each store's landing counts are the manifest's counts for that store.
    expected_by_store = defaultdict(lambda: [0, 0])
    for source in load_contracts():
        for record in records(paths, source):
            for store, counts in record.counts_by_store.items():
                expected_by_store[(source, store)][0] += counts["received"]
                expected_by_store[(source, store)][1] += counts["duplicates"]
    per_store = query(
        paths,
        "SELECT source, store_id, sum(rows_received), sum(duplicates_dropped) FROM marts.dq_scorecard_daily "
        "GROUP BY ALL HAVING sum(rows_received) > 0",
    )
    assert {(source, store): [received, duplicates] for source, store, received, duplicates in per_store} == dict(
        expected_by_store
    )
    assert {store for _, store, _, _ in per_store} == set(truth["stores"])
    # Each manifest record the scorecard reads is one file of the manifest folder.
    files = {p.stem for p in paths.manifest.glob("*/*.json")}
    assert {r.sha256 for source in load_contracts() for r in records(paths, source)} == files
    [sample] = [json.loads(p.read_text()) for p in sorted(paths.manifest.glob("events/*.json"))[:1]]
    assert sample["rows_received"] > 0


def test_scorecard_findings_equal_the_planted_bots_reloads_gaps_and_miscounts(warehouse):
    paths, truth, _ = warehouse
    [(ua, behaviour, reloads, without_order, without_event, mismatches, null_store_findings)] = query(
        paths,
        """
        SELECT sum(bot_user_agent_events), sum(bot_behaviour_events), sum(duplicate_purchase_events),
               sum(purchase_events_without_order), sum(orders_without_purchase_event), sum(stock_count_mismatches),
               count(*) FILTER (WHERE store_id IS NULL)
        FROM marts.dq_scorecard_daily
        """,
    )
    assert ua == truth["bots"]["ua_pattern"]["events"]
    assert behaviour == truth["bots"]["behavioural"]["events"]
    assert reloads == truth["dirt"]["purchase_reloads"]
    assert without_order == truth["reconciliation"]["purchase_events_without_order"]
    assert without_event == truth["reconciliation"]["orders_without_purchase_event"]
    assert mismatches == truth["dirt"]["snapshot_mismatches"]
    assert null_store_findings == 0


def test_consent_decisions_equal_truth_and_every_landed_event_is_in_one_bucket(warehouse):
    paths, truth, _ = warehouse
    [(granted_decisions, denied_decisions, withdrawn_decisions, privacy, no_consent)] = query(
        paths,
        "SELECT sum(granted_decisions), sum(denied_decisions), sum(withdrawn_decisions), sum(privacy_signal_events), "
        "sum(no_analytics_consent_events) FROM marts.consent_daily",
    )
    assert (granted_decisions, denied_decisions, withdrawn_decisions) == (
        truth["consent"]["analytics_granted"],
        truth["consent"]["analytics_denied"],
        truth["consent"]["withdrawn"],
    )
    # Bots never send GPC or DNT, so every landed event with a signal is a privacy exclusion.
    [(signalled, landed, gpc_devices, dnt_devices)] = duckdb.sql(
        f"""
        SELECT count(*) FILTER (WHERE gpc OR dnt), count(*),
               count(DISTINCT anonymous_id) FILTER (WHERE gpc), count(DISTINCT anonymous_id) FILTER (WHERE dnt)
        FROM read_parquet('{paths.raw}/events/*/*.parquet')
        """
    ).fetchall()
    assert privacy == signalled > 0
    assert (gpc_devices, dnt_devices) == (truth["consent"]["gpc"], truth["consent"]["dnt"])
    [(bots, reloads)] = query(
        paths,
        "SELECT sum(bot_user_agent_events + bot_behaviour_events), sum(duplicate_purchase_events) "
        "FROM marts.dq_scorecard_daily",
    )
    [(counted,)] = query(paths, "SELECT count(*) FROM main.int_events_sessionized")
    assert bots + privacy + no_consent + reloads + counted == landed
    # Rates from the additive columns, NULL on a zero denominator.
    [(wrong,)] = query(
        paths,
        """
        SELECT count(*) FROM marts.consent_daily
        WHERE accept_rate IS DISTINCT FROM granted_decisions / nullif(granted_decisions + denied_decisions, 0)
           OR withdraw_rate IS DISTINCT FROM withdrawn_decisions / nullif(granted_to_date, 0)
           OR granted_to_date <> (SELECT sum(c.granted_decisions) FROM marts.consent_daily AS c
                                 WHERE c.store_id = consent_daily.store_id AND c.date <= consent_daily.date)
        """,
    )
    assert wrong == 0


def test_scorecard_duplicate_and_late_rates_come_from_its_additive_columns(warehouse):
    paths, _, _ = warehouse
    [(wrong, duplicate_days, replayed)] = query(
        paths,
        """
        SELECT count(*) FILTER (WHERE duplicate_rate IS DISTINCT FROM duplicates_dropped / nullif(rows_received, 0)
                                   OR late_rate IS DISTINCT FROM late_rows / nullif(rows_landed, 0)),
               count(*) FILTER (WHERE duplicate_rate > 0), sum(rows_replayed)
        FROM marts.dq_scorecard_daily
        """,
    )
    # The generator's re-sent batches show; nothing was replayed.
    assert (wrong, replayed) == (0, 0) and duplicate_days > 0
