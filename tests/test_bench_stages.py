"""Every stage of `commerce-analytics bench` on tiny data (one day of history and the incremental day,
one store, 1,000 events a day), so the benchmark cannot break silently again: each stage counts the
events the generated extracts hold (counted here from the files themselves), the landing counts
conserve rows, the pandas peer equals the published marts, and the report is complete."""

import gzip
import json
from datetime import date

import pytest

from orchestration.bench import peer, report, stages
from orchestration.landing import manifest
from orchestration.settings import DataPaths

START, NEW_DAY = date(2026, 11, 1), date(2026, 11, 2)
STAGES = [
    "generate",
    "parse_floor",
    "land",
    "build_dagster",
    "backup",
    "restore",
    "build_dbt",
    "build_dbt_peer_marts",
    "publish",
    "floor_scan",
    "peer_pandas",
    "incremental_day",
    "backup_incremental",
]
# Stages that read every landed event of the history.
OVER_THE_HISTORY = [
    "build_dagster",
    "backup",
    "restore",
    "build_dbt",
    "build_dbt_peer_marts",
    "publish",
    "floor_scan",
    "peer_pandas",
]


def _events_in(paths: DataPaths, stamp: str = "") -> int:
    """Events in the clickstream extracts (of the day stamped YYYYMMDD), read line by line."""
    total = 0
    for file in sorted(paths.inbox_for("events").glob(f"events_{stamp}*.jsonl.gz")):
        with gzip.open(file, "rt", encoding="utf-8") as lines:
            total += sum(len(json.loads(line)["events"]) for line in lines if line.strip())
    return total


def _landing(paths: DataPaths, stamp: str) -> dict[str, int]:
    records = [r for r in manifest.records(paths, "events") if stamp in r.file]
    assert records and all(r.is_conserved for r in records)
    return {
        "received": sum(r.rows_received for r in records),
        "landed": sum(r.rows_landed for r in records),
        "dropped": sum(r.rows_quarantined + r.duplicates_dropped for r in records),
    }


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as mp:
        # run_bench passes each folder to dbt itself and leaves the environment alone.
        mp.setenv("DATA_DIR", str(root / "data"))
        mp.setenv("PII_HMAC_KEY", "restored-after-the-bench")
        mp.delenv("DAGSTER_HOME", raising=False)
        result = stages.run_bench(
            root / "work", days=1, stores=1, events_per_day=1000, start_date=START, seed=3, query_repeats=3
        )
    return root / "work", report.finish(result)


def test_every_stage_ran_and_counted_the_generated_events(bench):
    work, result = bench
    generated, main = DataPaths(work / "generated"), DataPaths(work / "main")
    measured = result["stages"]
    assert list(measured) == STAGES
    assert all(stage["seconds"] > 0 and stage["peak_rss_mib"] > 0 for stage in measured.values())

    history, new_day = _landing(main, START.strftime("%Y%m%d")), _landing(main, NEW_DAY.strftime("%Y%m%d"))
    assert measured["generate"]["events"] == _events_in(generated) == history["received"] + new_day["received"]
    assert measured["parse_floor"]["events"] == _events_in(generated, START.strftime("%Y%m%d")) == history["received"]
    assert measured["land"]["events"] == history["landed"] == history["received"] - history["dropped"] > 900
    assert result["events"] == history["landed"]
    assert {name: measured[name]["events"] for name in OVER_THE_HISTORY} == dict.fromkeys(
        OVER_THE_HISTORY, history["landed"]
    )
    assert measured["incremental_day"]["events"] == measured["backup_incremental"]["events"] == new_day["landed"] > 900
    assert result["scale"] == {"days": 1, "stores": 1, "events_per_day": 1000, "seed": 3}


def test_the_peer_equals_the_published_marts(bench):
    comparison = bench[1]["peer"]
    assert set(comparison["marts"]) == set(peer.MARTS)
    for mart, outcome in comparison["marts"].items():
        assert outcome["equal"], (mart, outcome)
        assert outcome["rows"]["peer"] == outcome["rows"]["mart"] > 0
        assert all(column["equal"] for column in outcome["columns"].values())
    assert comparison["equal"]


def test_a_backup_restored_into_an_empty_folder_rebuilds_to_identical_marts(bench):
    """The plain dbt build runs on a folder restored from the backup of the Dagster-built one: every
    mart it rebuilds has the rows and content hash of the restored published copy."""
    work, result = bench
    recovery = result["recovery"]
    assert recovery["differing"] == [] and recovery["marts"] > 30 and recovery["rows"] > 1000
    main_marts, plain_marts = work / "main" / "marts.duckdb", work / "plain" / "marts.duckdb"
    assert plain_marts.stat().st_mode & 0o777 == 0o444
    # what the backup restored, and the plain build's target: nothing of Dagster's
    folders = sorted(p.name for p in (work / "plain").iterdir() if p.is_dir())
    assert folders == ["manifest", "quarantine", "raw", "target"]
    assert main_marts.exists()


def test_every_analyst_query_was_timed_on_the_published_marts(bench):
    queries = bench[1]["queries"]
    assert list(queries) == list(stages.QUERIES)
    assert all(0 < q["p50_ms"] <= q["p95_ms"] for q in queries.values())


def test_the_report_names_every_target_and_stage_and_saves_as_json(bench, tmp_path):
    result = bench[1]
    targets = {t["target"]: t for t in result["targets"]}
    assert len(targets) == 10 and targets["peer outputs equal the marts"]["met"] is True
    assert all(isinstance(t["met"], bool) for t in targets.values())
    table = report.render(result)
    assert all(f"| {stage:<20} |" in table for stage in STAGES)
    assert all(name in table for name in [*stages.QUERIES, *targets])
    saved = report.save(result, tmp_path)
    assert json.loads(saved.read_text()) == json.loads((tmp_path / "latest.json").read_text())
    assert json.loads(saved.read_text())["stages"] == result["stages"]
