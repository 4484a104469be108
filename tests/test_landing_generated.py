"""Landing what the generator writes: every planted defect ends where it must, and nothing
is lost. The generator's truth file says exactly what it planted."""

import duckdb
import pytest

from orchestration.generator import GeneratorConfig, generate
from orchestration.landing import manifest
from orchestration.landing.land import land_all, land_source
from orchestration.lib.content_hash import content_hash


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    from orchestration.settings import DataPaths

    paths = DataPaths(tmp_path_factory.mktemp("generated"))
    truth = generate(paths, GeneratorConfig(days=3, stores=2, events_per_day=4000, seed=11))
    records = land_all(paths)
    return paths, truth, records


def events(paths, where="true"):
    glob = paths.raw_for("events") / "*" / "*.parquet"
    [(count,)] = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true) WHERE {where}"
    ).fetchall()
    return count


def test_every_file_is_landed_once_with_its_rows_accounted_for(landed):
    paths, truth, records = landed
    received = {f"inbox/{r.file}": r.rows_received for rs in records.values() for r in rs}
    # A file with the same bytes as one landed (a day without chargebacks: the header alone) is that extract again.
    repeats = truth["files"].keys() - received.keys()
    landed_hashes = {r.sha256 for rs in records.values() for r in rs}
    assert all(content_hash(paths.root / f) in landed_hashes for f in repeats)
    assert received == {f: rows for f, rows in truth["files"].items() if f not in repeats}
    for rs in records.values():
        for r in rs:
            assert r.is_conserved, r.file
            assert r.status == "landed", (r.file, r.validation_failures)


def test_each_malformed_row_is_quarantined_with_the_reason_it_was_planted_with(landed):
    _, truth, records = landed
    planted = truth["dirt"]["quarantine"]
    assert planted["events"] and planted["order_items"] and planted["orders"]
    for source, rs in records.items():
        found: dict[str, int] = {}
        for r in rs:
            for reason, count in r.quarantined_by_reason.items():
                found[reason] = found.get(reason, 0) + count
        assert found == {reason: n for reason, n in planted.get(source, {}).items() if n}, source


def test_resent_rows_are_dropped_as_duplicates(landed):
    _, truth, records = landed
    for source, rs in records.items():
        assert sum(r.duplicates_dropped for r in rs) == truth["dirt"]["duplicates"].get(source, 0), source


def test_landed_events_are_unique_and_late_events_reach_their_own_dates(landed):
    paths, truth, records = landed
    assert events(paths) == sum(r.rows_landed for r in records["events"])
    glob = paths.raw_for("events") / "*" / "*.parquet"
    [(rows, distinct)] = duckdb.sql(f"SELECT count(*), count(DISTINCT event_id) FROM '{glob}'").fetchall()
    assert rows == distinct
    assert truth["dirt"]["late_events"] > 0
    # Late: arrived at the collector more than 12 hours after it happened, exactly the planted batches.
    assert sum(r.late_rows for r in records["events"]) == truth["dirt"]["late_events"]
    # Every event sits in the partition of its skew-corrected UTC date.
    assert events(paths, "CAST(event_at AS DATE) <> date") == 0


def test_purchase_reloads_land_for_the_models_to_deduplicate(landed):
    paths, truth, _ = landed
    glob = paths.raw_for("events") / "*" / "*.parquet"
    [(extra,)] = duckdb.sql(
        f"SELECT count(*) - count(DISTINCT order_id) FROM '{glob}' WHERE event_type = 'purchase'"
    ).fetchall()
    assert extra == truth["dirt"]["purchase_reloads"]


def test_landing_everything_again_is_a_no_op(landed):
    paths, _, records = landed
    before = {s: manifest.records(paths, s) for s in records}
    assert all(land_source(paths, s) == [] for s in records)
    assert {s: manifest.records(paths, s) for s in records} == before
