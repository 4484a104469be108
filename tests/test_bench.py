"""The benchmark's pandas peer equals the marts on generated dirty data: the cross-check that the
benchmark compares like with like (and a second implementation of the session rules)."""

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.bench import peer
from orchestration.bench.report import judged
from orchestration.dbt_project import PROJECT_DIR
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing.land import land_all
from orchestration.settings import DataPaths

KEY = "test-bench-key"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> DataPaths:
    paths = DataPaths(tmp_path_factory.mktemp("bench"))
    generate(paths, GeneratorConfig(days=2, stores=2, events_per_day=4000, seed=11))
    land_all(paths)
    project = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(paths.root))  # the in-process dbt reads it
        mp.setenv("PII_HMAC_KEY", KEY)
        args = [
            "build",
            *project,
            "--target-path",
            str(paths.root / "target"),
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
        ]
        result = dbtRunner().invoke([*args, "--select", *(f"+{mart}" for mart in peer.MARTS), "--quiet"])
        assert result.success, result.exception
    return paths


@pytest.fixture(scope="module")
def comparison(built):
    return peer.compare(peer.compute(built.raw, KEY), built.warehouse, schema="marts")


def test_the_peer_pseudonymises_every_event_as_staging_does(built):
    """Device, customer, user agent and truncated IP keys: Python's hmac per distinct value, mapped
    back to each event, equals the SQL's hash of that event (every event, excluded ones too)."""
    ours = peer._staged_events(built.raw, KEY).set_index("event_id")
    # not read-only: the in-process dbt build may still hold the file (see peer.compare)
    with duckdb.connect(str(built.warehouse)) as con:
        theirs = (
            con.execute(
                "select event_id, anonymous_id, customer_id, user_agent_hash, ip_hash from main.int_events_classified"
            )
            .df()
            .set_index("event_id")
        )
    assert len(theirs) > 1000 and theirs.index.equals(theirs.index.unique())
    ours = ours.loc[theirs.index]
    for column, mine in {"anonymous_id": "anonymous_id", "customer_id": "user_id"}.items():
        assert ours[mine].fillna("-").tolist() == theirs[column].fillna("-").tolist(), column
    for column in ("user_agent_hash", "ip_hash"):
        assert ours[column].fillna("-").tolist() == theirs[column].fillna("-").tolist(), column
    # real values on both sides, not NULL against NULL
    assert theirs["customer_id"].notna().sum() > 0 and theirs["ip_hash"].dropna().str.len().eq(64).all()


@pytest.mark.parametrize("mart", peer.MARTS)
def test_peer_equals_the_mart_column_by_column(comparison, mart):
    result = comparison["marts"][mart]
    assert {c: v["rows_differing"] for c, v in result["columns"].items() if not v["equal"]} == {}
    assert result["rows"]["only_in_peer"] == 0
    assert result["equal"]


def test_the_comparison_covers_real_rows(comparison):
    kpis, funnel = comparison["marts"]["kpis_daily"], comparison["marts"]["funnel_daily"]
    # two stores, at least two local days each, every step of the default five-step funnel
    assert kpis["rows"]["peer"] >= 4
    assert funnel["rows"]["peer"] >= 4 * 5
    assert set(kpis["columns"]) >= {
        "sessions",
        "visitors",
        "orders",
        "gmv",
        "gmv_usd",
        "conversion_rate",
        "bounce_rate",
    }
    assert set(funnel["columns"]) == {"entrants", "reached_next"}
    # the peer hashed ids with the build's key: its visitor keys are the marts' own
    assert {"first_visitor_id", "last_visitor_id"} <= set(comparison["marts"]["fct_sessions"]["columns"])


def test_a_target_is_judged_on_the_value_the_report_prints():
    """Rounded to 3 decimals as printed: a ratio of 1.2004 shows as 1.2 and meets "<= 1.2" (it once
    showed 1.2 beside a miss); 1.2006 shows as 1.201 and misses; "at least" targets likewise."""
    assert judged(1.2004, 1.2, at_least=False) == (1.2, True)
    assert judged(1.2006, 1.2, at_least=False) == (1.201, False)
    assert judged(4.9996, 5, at_least=True) == (5.0, True)
    assert judged(4.9994, 5, at_least=True) == (4.999, False)
