"""Unit tests of the pure helpers that shape every dbt build Dagster runs (no dbt is started)."""

import json
import os
from datetime import date

import pytest

from orchestration.dbt_project import WINDOW_START_ENV, window_environment
from orchestration.defs.dbt import DbtBuildConfig, DomainTranslator, build_args

DATA_BUILD = ["build", "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (DbtBuildConfig(), DATA_BUILD),
        (DbtBuildConfig(full_refresh=True), [*DATA_BUILD, "--full-refresh"]),
        (
            DbtBuildConfig(lookback_days=5),
            ["build", "--vars", json.dumps({"lookback_days": 5}), *DATA_BUILD[1:]],
        ),
        (
            DbtBuildConfig(full_refresh=True, lookback_days=0),
            ["build", "--vars", '{"lookback_days": 0}', *DATA_BUILD[1:], "--full-refresh"],
        ),
    ],
    ids=["incremental", "full-refresh", "lookback", "full-refresh-lookback-0"],
)
def test_build_args(config, expected):
    assert build_args(config) == expected


def node(fqn, meta=None, columns=None):
    return {"fqn": fqn, "meta": meta or {}, "columns": columns or {}, "name": fqn[-1]}


@pytest.mark.parametrize(
    ("fqn", "group"),
    [
        (["commerce_analytics", "staging", "oms", "stg_oms__orders"], "staging_oms"),
        (["commerce_analytics", "marts", "commerce", "kpis_daily"], "marts_commerce"),
        (["commerce_analytics", "intermediate", "storefront", "deep", "int_x"], "intermediate_storefront"),
        (["commerce_analytics", "fx_rates_daily"], "reference_data"),
    ],
)
def test_groups_are_layer_and_domain_folder(fqn, group):
    assert DomainTranslator().get_group_name(node(fqn)) == group


def test_owners_by_layer_unless_the_model_names_one():
    translator = DomainTranslator()
    assert translator.get_owners(node(["p", "staging", "oms", "m"])) == ["team:data-platform"]
    assert translator.get_owners(node(["p", "marts", "commerce", "m"])) == ["team:analytics-engineering"]
    assert translator.get_owners(node(["p", "seed"])) == ["team:analytics-engineering"]
    assert translator.get_owners(node(["p", "staging", "oms", "m"], meta={"owner": "team:x"})) == ["team:x"]


def test_every_asset_carries_its_columns_pii_classes():
    columns = {"email": {"meta": {"pii": "high"}}, "note": {"meta": {}}}
    metadata = DomainTranslator().get_metadata(node(["p", "staging", "crm", "m"], columns=columns))
    assert metadata["pii_classes"] == {"email": "high", "note": "unclassified"}
    assert "pii_classes" not in DomainTranslator().get_metadata(node(["p", "seed"]))


def test_window_environment_names_the_window_and_restores_what_was_there(monkeypatch):
    monkeypatch.delenv(WINDOW_START_ENV, raising=False)
    with window_environment(date(2026, 11, 7)) as env:
        assert env == {WINDOW_START_ENV: "2026-11-07"}
        assert os.environ[WINDOW_START_ENV] == "2026-11-07"
    assert WINDOW_START_ENV not in os.environ
    monkeypatch.setenv(WINDOW_START_ENV, "2026-11-01")
    with window_environment(date(2026, 11, 7)):
        assert os.environ[WINDOW_START_ENV] == "2026-11-07"
    assert os.environ[WINDOW_START_ENV] == "2026-11-01"
