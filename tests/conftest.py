import csv
import gzip
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from orchestration import dbt_project
from orchestration.contracts import load_contracts
from orchestration.dbt_project import PRODUCTION_EXCLUDES
from orchestration.landing.delivery import SETTLE_ENV
from orchestration.settings import DataPaths

# Tests write their inbox files and land them at once, as a source following the delivery protocol
# would; the settle period has its own tests (tests/test_landing_complete_files.py).
os.environ.setdefault(SETTLE_ENV, "0")


@pytest.fixture
def paths(tmp_path, monkeypatch) -> DataPaths:
    """A DATA_DIR of the test's own."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return DataPaths.from_env()


def run_dbt(paths: DataPaths, *args: str, key: str, target: Path | None = None) -> subprocess.CompletedProcess:
    """A dbt command on `paths` with the keyed-hash `key`, in a process of its own: dbt-duckdb in the
    test's process would keep the warehouse attached, which publishing and erasing attach again.
    Its results go to `target` (default `<DATA_DIR>/target`)."""
    return dbt_project.run_dbt(paths, *args, target_path=target or paths.root / "target", env={"PII_HMAC_KEY": key})


def product_build(paths: DataPaths, *args: str, key: str, target: Path | None = None) -> subprocess.CompletedProcess:
    """`dbt build` as the product runs it, without the dbt unit tests (`PRODUCTION_EXCLUDES`): for the
    fixtures that stand in for a Dagster build's warehouse."""
    return run_dbt(paths, "build", *PRODUCTION_EXCLUDES, *args, key=key, target=target)


ORDER = {
    "order_id": "o1",
    "store_id": "us",
    "customer_id": "c1",
    "cart_id": "k1",
    "placed_at": "2026-11-01T10:00:00.000Z",
    "status": "paid",
    "currency": "USD",
    "subtotal": "100.00",
    "order_discount": "0.00",
    "shipping_amount": "5.00",
    "tax_amount": "8.00",
    "total_amount": "113.00",
    "discount_code": "",
    "platform": "web",
    "updated_at": "2026-11-01T10:00:00.000Z",
}


def order(**changes) -> dict:
    return {**ORDER, **changes}


def event(event_id: str, timestamp: str = "2026-11-01T09:00:00.000Z", **changes) -> dict:
    return {
        "event_id": event_id,
        "event_type": "page_view",
        "timestamp": timestamp,
        "session_id": "t1",
        "anonymous_id": "a1",
        "store_id": "us",
        "properties": {"url": "https://shop.example/p/1"},
        "context": {"platform": "web", "user_agent": "Mozilla/5.0", "ip": "192.0.2.10"},
        **changes,
    }


def write_csv(paths: DataPaths, source: str, name: str, rows: list[dict]) -> Path:
    target = paths.inbox_for(source) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    header = [f.name for f in load_contracts()[source].fields]
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return target


def build_range(first: date, last: date, selection, **dbt_config):
    """Build `first`..`last` of `selection` on $DATA_DIR as the CLI's `build` does (the `build_all`
    job, one run for the range), in an ephemeral Dagster instance; `dbt_config` is the
    `warehouse_models` op's run config (`full_refresh`, `lookback_days`)."""
    import dagster as dg

    from orchestration.runner import run_job

    return run_job(
        DataPaths.from_env(),
        "build_all",
        first,
        last,
        dbt_config,
        on=dg.DagsterInstance.ephemeral(),
        selection=selection,
    )


def write_batches(paths: DataPaths, name: str, batches: list[dict]) -> Path:
    """Clickstream batches; each dict may set sent_at/received_at, defaulting to no skew."""
    target = paths.inbox_for("events") / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(target, "wt") as handle:
        for i, batch in enumerate(batches):
            line = {"batch_id": f"b{i}", "sent_at": batch["sent_at"], "received_at": batch["received_at"]}
            handle.write(json.dumps({**line, "events": batch["events"]}) + "\n")
    return target


# `make test` runs the test files on two workers (pytest-xdist, `-n 2`). A file's tests stay on one
# worker, so its module fixtures are built once. The files that prepare target/dagster (the dbt
# manifest the Dagster definitions load and builds start their parse from) or move it aside share one
# worker and run one after the other, as their partial-parse checks need; so does the Spark pipeline
# file, whose publish reads that manifest (it failed with FileNotFoundError while test_cli.py had
# moved it aside on the other worker). (xdist's own `loadgroup`
# cannot group them: with pytest 9 its `xdist_group` marks no longer reach the scheduler.)
SHARED_GROUPS = {
    "dbt_manifest": {
        "test_bench_stages.py",
        "test_build_recovery.py",
        "test_cli.py",
        "test_dbt_args.py",
        "test_metric_catalogue.py",
        "test_orchestration.py",
        "test_orchestration_automation.py",
        "test_spark_pipeline.py",
    },
    # Each starts a JVM of its own: one at a time, on one worker, beside the DuckDB files.
    "spark": {"test_spark_parity.py", "test_spark_incremental.py"},
}
# The longest groups start first so the two workers finish together (CPU seconds on the 2-core machine).
LONGEST_FIRST = [
    "spark",
    "dbt_manifest",
    "test_marts_recomputed.py",
    "test_warehouse_build.py",
    "test_retention.py",
]


def _group_of(nodeid: str) -> str:
    name = Path(nodeid.split("::", 1)[0]).name
    return next((group for group, files in SHARED_GROUPS.items() if name in files), name)


def pytest_collection_modifyitems(config, items):
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_group_of(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class FileGroupScheduling(LoadScopeScheduling):
        """Whole files (or groups of files) per worker, in collection order: longest first."""

        def _split_scope(self, nodeid: str) -> str:
            return _group_of(nodeid)

    config.option.loadscopereorder = False
    return FileGroupScheduling(config, log)
