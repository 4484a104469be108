"""Unit tests of the pure helpers that shape every dbt build Dagster runs (no dbt is started: a
stand-in records what the dbt process would get; only a checkout without a manifest parses one)."""

import json
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from dagster_dbt import DbtProject

from orchestration import dbt_project as dbt_project_module
from orchestration import settings
from orchestration.dbt_project import (
    PROJECT_DIR,
    WINDOW_START_ENV,
    DbtCli,
    dbt_environment,
    ensure_manifest,
    parse_inputs_digest,
    parsed_files,
    prepare_manifest,
)
from orchestration.defs.dbt import DbtBuildConfig, DomainTranslator, build_args
from orchestration.defs.partitions import PARTITIONS_START
from orchestration.runner import partition_range, rebuild_lookback
from orchestration.settings import DataPaths

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
        (["commerce_analytics", "fx_rates_monthly"], "reference_data"),
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


def test_dbt_environment_names_the_data_folder_the_target_and_the_window(tmp_path, monkeypatch):
    monkeypatch.delenv("DBT_TARGET", raising=False)
    paths = DataPaths(tmp_path)
    assert dbt_environment(paths) == {"DATA_DIR": str(tmp_path), "DBT_TARGET": "dev"}
    assert dbt_environment(paths, date(2026, 11, 7)) == {
        "DATA_DIR": str(tmp_path),
        "DBT_TARGET": "dev",
        WINDOW_START_ENV: "2026-11-07",
    }


def test_dbt_environment_on_spark_keeps_its_catalog_across_dbt_commands(tmp_path, monkeypatch):
    """A run's dbt commands each start a JVM: the Derby metastore (hive) unless told otherwise."""
    monkeypatch.setenv("DBT_TARGET", "spark")
    monkeypatch.delenv("SPARK_CATALOG", raising=False)
    assert dbt_environment(DataPaths(tmp_path))["SPARK_CATALOG"] == "hive"
    monkeypatch.setenv("SPARK_CATALOG", "in-memory")
    assert dbt_environment(DataPaths(tmp_path))["SPARK_CATALOG"] == "in-memory"
    monkeypatch.setenv("DBT_TARGET", "nowhere")
    with pytest.raises(ValueError, match=r"DBT_TARGET=nowhere: not a target of profiles\.yml"):
        dbt_environment(DataPaths(tmp_path))


def test_the_dbt_process_gets_the_env_and_this_process_keeps_its_own(tmp_path, monkeypatch):
    """A stand-in dbt records what it was given; the window never enters os.environ."""
    monkeypatch.delenv(WINDOW_START_ENV, raising=False)
    monkeypatch.setenv("INHERITED", "yes")
    fake = tmp_path / "dbt"
    fake.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "installed: 1.11.0"; exit 0; }\n'
        'echo "$@|$DBT_WINDOW_START|$DATA_DIR|$INHERITED" > "$DATA_DIR/seen"\n'
    )
    fake.chmod(0o755)
    env = dbt_environment(DataPaths(tmp_path), date(2026, 11, 7))
    DbtCli(project_dir=PROJECT_DIR, dbt_executable=str(fake)).cli(["build"], env=env, target_path=tmp_path).wait()
    assert (tmp_path / "seen").read_text().strip() == f"build|2026-11-07|{tmp_path}|yes"
    assert WINDOW_START_ENV not in os.environ


def stand_in_parse(parses: list[str]) -> type:
    """dbt parse as prepare_manifest starts it: records the data folder, writes the files a parse does."""

    class StandInParse:
        def __init__(self, **_):
            pass

        def cli(self, args, env, target_path):
            assert args == ["parse", "--quiet"]
            parses.append(env["DATA_DIR"])
            target_path.mkdir(parents=True, exist_ok=True)
            for name in ("manifest.json", "partial_parse.msgpack"):
                (target_path / name).write_text(f"parse {len(parses)}")
            return SimpleNamespace(wait=lambda: None)

    return StandInParse


def test_the_manifest_is_parsed_again_only_when_what_dbt_reads_changed(tmp_path, monkeypatch):
    target = tmp_path / "target"
    project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=target)
    monkeypatch.setattr(dbt_project_module, "dbt_project", project)
    parses = []
    monkeypatch.setattr(dbt_project_module, "DbtCli", stand_in_parse(parses))
    first, second = str(tmp_path / "first"), str(tmp_path / "second")

    assert prepare_manifest(DataPaths(first)) == target / "manifest.json"
    prepare_manifest(DataPaths(first))
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "another test")  # set for each test, read by no dbt file
    prepare_manifest(DataPaths(first))
    assert parses == [first]
    prepare_manifest(DataPaths(second))  # another data folder: another profile
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "true")  # any other variable dbt may read
    prepare_manifest(DataPaths(second))
    (target / "partial_parse.msgpack").unlink()  # a parse's file missing
    prepare_manifest(DataPaths(second))
    assert parses == [first, second, second, second]
    assert (target / "manifest.json").read_text() == "parse 4"
    digest = parse_inputs_digest(dbt_environment(DataPaths(second)))
    assert (target / "parse_inputs.sha256").read_text() == digest
    assert not list(tmp_path.glob("target.parsing-*"))


def test_the_digest_follows_the_files_dbt_reads_and_no_other(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    for folder in ("models", "macros", "seeds", "tests"):
        shutil.copytree(PROJECT_DIR / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(dbt_project_module, "PROJECT_DIR", project)
    monkeypatch.setattr(settings, "PROJECT_DIR", project)
    env = {"DATA_DIR": str(tmp_path / "data")}
    unchanged = parse_inputs_digest(env)

    (project / "docs").mkdir()
    (project / "docs" / "notes.md").write_text("not a folder of dbt_project.yml")
    (project / "tests" / "__pycache__").mkdir()
    (project / "tests" / "__pycache__" / "conftest.pyc").write_bytes(b"compiled")
    assert parse_inputs_digest(env) == unchanged
    model = project / "models" / "marts" / "commerce" / "kpis_daily.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    edited = parse_inputs_digest(env)
    assert edited != unchanged
    (project / "seeds" / "extra.csv").write_text("a\n1\n")
    assert parse_inputs_digest(env) not in {unchanged, edited}


def test_the_digest_reads_every_file_the_parse_read():
    manifest = json.loads(ensure_manifest().read_text())
    read = {
        os.path.normpath(resource["original_file_path"])  # hooks are read from ./dbt_project.yml
        for kind in ("nodes", "sources", "macros", "docs", "unit_tests", "exposures", "semantic_models")
        for resource in manifest[kind].values()
        if resource["package_name"] == "commerce_analytics"
    }
    digested = {str(path.relative_to(PROJECT_DIR)) for path in parsed_files()}
    assert len(read) > 200  # every model, macro, seed, test and YAML file of the project
    assert read - digested == set()


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (date(2026, 11, 30), None),  # the project's lookback reaches back to it
        (date(1900, 1, 1), (date(2026, 12, 3) - date(1900, 1, 1)).days),  # never purged: every day
        (date(2026, 12, 2), 1),  # shorter than the project's
        (date(2026, 12, 5), 0),  # after the last partition: that partition alone
    ],
    ids=["open-days", "never-purged", "yesterday", "future"],
)
def test_rebuild_lookback_rebuilds_every_day_from_since(since, expected):
    assert rebuild_lookback(since, date(2026, 12, 3), lookback_days=3) == expected


def test_partition_range_clips_to_the_partitions_that_exist():
    start = date.fromisoformat(PARTITIONS_START)
    assert partition_range(date(2026, 11, 1), date(2026, 11, 3)) == ("2026-11-01", "2026-11-03")
    # a range reaching before the first partition starts at it
    assert partition_range(start - timedelta(days=3), start + timedelta(days=1)) == (
        start.isoformat(),
        (start + timedelta(days=1)).isoformat(),
    )
    # the last partition is tomorrow (UTC): a range after it holds none
    later = datetime.now(UTC).date() + timedelta(days=5)
    with pytest.raises(ValueError, match="no daily partition between"):
        partition_range(later, later + timedelta(days=1))
