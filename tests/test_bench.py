"""The benchmark's pandas peer equals the marts on generated dirty data: the cross-check that the
benchmark compares like with like (and a second implementation of the session rules)."""

import pytest
from dbt.cli.main import dbtRunner

from orchestration.bench import peer
from orchestration.bench.stages import data_dir
from orchestration.dbt_project import PROJECT_DIR
from orchestration.generator import GeneratorConfig, generate
from orchestration.landing.land import land_all
from orchestration.settings import DataPaths


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    paths = DataPaths(tmp_path_factory.mktemp("bench"))
    generate(paths, GeneratorConfig(days=2, stores=2, events_per_day=4000, seed=11))
    land_all(paths)
    project = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    with pytest.MonkeyPatch.context() as mp, data_dir(paths):
        mp.setenv("PII_HMAC_KEY", "test-bench-key")
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
    return peer.compare(peer.compute(paths.raw), paths.warehouse, schema="marts")


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
