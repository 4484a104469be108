"""The command line: `generate` then `land` lands through Dagster and reports what it landed.

(`run` goes on to build, check and publish: tests/test_orchestration.py drives that build.)"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.contracts import load_contracts
from orchestration.dbt_project import dbt_project
from orchestration.landing import manifest
from tests.conftest import order, write_csv

SOURCES = load_contracts()
LAND_STEPS = 2 * len(SOURCES) + 1


def test_land_lands_the_generated_extracts_and_prints_the_accounting(paths, capsys):
    # Clean data: tiny dirty batches may quarantine more than their expectations allow.
    assert main(["generate", "--days", "2", "--stores", "1", "--events-per-day", "2000", "--seed", "3", "--clean"]) == 0
    # one store simulated, two days of clickstream, an extract of each other source
    steps = 1 + 2 + len(SOURCES) - 1
    assert re.fullmatch(rf"generate: {steps}/{steps} steps in [\d.]+ s", capsys.readouterr().err.splitlines()[-1])
    assert main(["land", "--date", "2026-11-02"]) == 0
    out, err = capsys.readouterr()
    # a landing step and a freshness check per source, and the ingestion health checks
    assert re.fullmatch(rf"land_all: {LAND_STEPS}/{LAND_STEPS} steps in [\d.]+ s", err.splitlines()[-1]), err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("events ", "orders "))}
    for source in ("events", "orders"):
        records = manifest.records(paths, source)
        expected = [
            len(records),
            sum(r.rows_received for r in records),
            sum(r.rows_landed for r in records),
            sum(r.rows_quarantined for r in records),
            sum(r.duplicates_dropped for r in records),
        ]
        assert [int(v.replace(",", "")) for v in rows[source]] == expected
        assert expected[2] > 0
    assert f"raw Parquet: {paths.raw}" in out


def test_bad_options_end_in_a_clear_error(paths, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--stores", "9"])
    assert exit_info.value.code == 2
    assert "stores must be between 1 and 6" in capsys.readouterr().err


def generate_one_clean_day() -> None:
    assert main(["generate", "--days", "1", "--stores", "1", "--events-per-day", "1000", "--seed", "3", "--clean"]) == 0


@pytest.mark.parametrize("command", [["land", "--date", "2026-11-01"], ["build", "--from", "2026-11-01"]])
def test_a_failed_run_ends_with_what_failed_and_where_the_details_are(paths, capsys, command):
    generate_one_clean_day()
    good = [order(order_id=f"ord-late-{i}") for i in range(20)]
    bad = [order(order_id=f"ord-bad-{i}", currency="XXX") for i in range(20)]
    write_csv(paths, "orders", "orders_bad.csv", good + bad)
    capsys.readouterr()
    assert main(command) == 1
    out, err = capsys.readouterr()
    [alert] = (paths.root / "alerts").glob("*.json")
    log = paths.root / "logs" / "runs.jsonl"
    *progress, last_progress = err.splitlines()[:-3]
    job = {"land": "land_all", "build": "build_all"}[command[0]]
    done = re.fullmatch(rf"{job}: (\d+)/(\d+) steps in [\d.]+ s", last_progress)
    # land: every step but those after the failed source: its freshness and the ingestion health checks
    expected = (str(LAND_STEPS - 2), str(LAND_STEPS))
    assert done and (command[0] == "build" or (done[1], done[2]) == expected), last_progress
    assert all(line.startswith(f"{job}: ") for line in progress)
    assert err.splitlines()[-3:] == [
        f"commerce-analytics {command[0]} failed: run {alert.stem} failed: steps raw__orders;"
        " failed checks raw/orders:batch_expectations",
        f"  the published marts are unchanged: {paths.root / 'marts.duckdb'}",
        f"  details: {alert} (alert), {log} (run log, with tracebacks)",
    ]
    assert "published" not in out and "Traceback" not in out
    assert out.splitlines()[0].split() == ["source", "extracts", "received", "landed", "quarantined", "duplicates"]
    # The details are in the run log: the failed step's error with where it was raised.
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    [failure] = [line for line in lines if line.get("event") == "STEP_FAILURE"]
    assert failure["run_id"] == alert.stem and failure["step"] == "raw__orders"
    assert "batch_expectations" in failure["error"] and 'File "' in failure["error"]


def test_an_unexpected_error_is_summarised_and_its_traceback_logged(paths, capsys, monkeypatch):
    def crash(*args):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("orchestration.generator.generate", crash)
    assert main(["generate"]) == 1
    log = paths.root / "logs" / "runs.jsonl"
    assert capsys.readouterr().err.splitlines() == [
        "commerce-analytics generate failed: RuntimeError: disk on fire",
        f"  details: {log} (run log, with the traceback; or run again with --verbose)",
    ]
    [line] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (line["level"], line["command"]) == ("ERROR", "generate")
    assert line["message"] == "RuntimeError: disk on fire\nsecond line"
    assert line["error"].startswith("Traceback (most recent call last):") and "in crash" in line["error"]
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["generate", "--verbose"])
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--verbose", "generate"])


def test_ltv_of_a_missing_file_is_one_clear_line(tmp_path, capsys):
    missing = tmp_path / "none.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["ltv", "--transactions", str(missing), "--output", str(tmp_path / "ltv.csv")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"commerce-analytics: error: cannot read {missing}: IO Error: No files found")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_land_on_a_fresh_clone_prepares_the_dbt_manifest_itself(paths, tmp_path):
    """No `make manifest` first: the command parses the dbt project when its manifest is missing."""
    generate_one_clean_day()
    aside = tmp_path / "manifest.json"
    shutil.move(dbt_project.manifest_path, aside)
    try:
        env = {**os.environ, "DATA_DIR": str(paths.root)}
        cli = Path(sys.executable).with_name("commerce-analytics")
        done = subprocess.run([cli, "land", "--date", "2026-11-01"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert dbt_project.manifest_path.exists()
    finally:
        if not dbt_project.manifest_path.exists():
            shutil.move(aside, dbt_project.manifest_path)
    [orders] = [line.split() for line in done.stdout.splitlines() if line.startswith("orders ")]
    assert int(orders[3].replace(",", "")) == sum(r.rows_landed for r in manifest.records(paths, "orders")) > 0
    assert "DagsterDbtManifestNotFoundError" not in done.stdout + done.stderr


@pytest.mark.parametrize("command", [["run"], ["build", "--from", "2026-11-01"]])
def test_the_pipeline_on_spark_refuses_the_one_command_catalog(paths, capsys, monkeypatch, command):
    """A Dagster run may start several dbt commands: the in-memory catalog lives one."""
    monkeypatch.setenv("DBT_TARGET", "spark")
    monkeypatch.setenv("SPARK_CATALOG", "in-memory")
    with pytest.raises(SystemExit) as exited:
        main(command)
    assert exited.value.code == 2
    assert "SPARK_CATALOG=in-memory: the catalog would die with the first dbt command" in capsys.readouterr().err
    assert not paths.inbox.exists()


@pytest.mark.parametrize("command", [["run"], ["build", "--from", "2026-11-01"], ["publish"]])
def test_an_unknown_dbt_target_is_refused_with_a_clear_error(paths, capsys, monkeypatch, command):
    monkeypatch.setenv("DBT_TARGET", "sparky")
    with pytest.raises(SystemExit) as exited:
        main(command)
    assert exited.value.code == 2
    assert "DBT_TARGET=sparky: not a target of profiles.yml (dev, ci, spark)" in capsys.readouterr().err
    assert not paths.inbox.exists()


def test_publish_on_spark_refuses_a_duckdb_build(paths, capsys, monkeypatch):
    from orchestration import warehouse

    warehouse.record_build(paths, "duckdb-run")
    monkeypatch.setenv("DBT_TARGET", "spark")
    with pytest.raises(SystemExit) as exited:
        main(["publish"])
    assert exited.value.code == 2
    assert "the last completed build is of DBT_TARGET=dev, not of spark" in capsys.readouterr().err
    assert not (paths.root / "marts.duckdb").exists()
