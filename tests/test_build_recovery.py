"""A build that a full disk fails leaves the published marts as they were, and the next build once
space is back passes and publishes what a build that never failed publishes. DATA_DIR sits on a
small tmpfs of its own, filled with a file to leave only a few bytes free; the order-side marts
are built (the smallest build that writes facts, tests and published copies)."""

import hashlib
import shutil
import subprocess
from datetime import date

import dagster as dg
import pytest

from orchestration import warehouse
from orchestration.dbt_project import prepare_manifest
from orchestration.generator import GeneratorConfig, generate
from orchestration.publish import published_digests, published_path
from orchestration.settings import DataPaths
from tests.conftest import build_range

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 2)
PUBLISHED = dg.AssetSelection.assets(["published", "marts"])
ORDER_MODELS = dg.AssetSelection.assets(["marts", "fct_orders"], ["marts", "revenue_daily"]).upstream()
SELECTION = dg.AssetSelection.groups("landing") | ORDER_MODELS | PUBLISHED


def _build(**dbt_config) -> dg.ExecuteInProcessResult:
    return build_range(FIRST, LAST, SELECTION, **dbt_config)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    """A 96 MiB tmpfs holding DATA_DIR, built once."""
    mount_point = tmp_path_factory.mktemp("disk")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {mounted.stderr.decode().strip()}")
    mp = pytest.MonkeyPatch()
    paths = DataPaths(mount_point / "data")
    mp.setenv("DATA_DIR", str(paths.root))
    mp.delenv("DAGSTER_HOME", raising=False)
    try:
        generate(paths, GeneratorConfig(days=2, stores=1, events_per_day=1000, seed=5))
        prepare_manifest()
        first = _build()
        assert first.success
        yield mount_point, paths, published_digests(published_path(paths))
    finally:
        mp.undo()
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)  # a killed dbt may hold a file


@pytest.mark.parametrize("free_bytes", [0, 64 * 1024, 4 * 1024 * 1024])
def test_a_build_failed_by_a_full_disk_recovers_once_space_returns(disk, free_bytes):
    mount_point, paths, digests = disk
    published = _sha256(published_path(paths))
    filler = mount_point / "filler"
    with filler.open("wb") as handle:
        handle.truncate(0)
        # tmpfs allocates on write: write zeros up to the space to leave.
        while (room := shutil.disk_usage(mount_point).free - free_bytes) > 0:
            handle.write(bytes(min(room, 8 * 1024 * 1024)))
            handle.flush()

    failed = _build(full_refresh=True)  # rewrites every selected table: the disk fills inside dbt

    assert not failed.success
    assert _sha256(published_path(paths)) == published
    assert warehouse.built_by(paths) is None  # nothing publishes a failed build

    filler.unlink()
    recovered = _build()

    assert recovered.success, [e.message for e in recovered.all_events if e.event_type_value == "STEP_FAILURE"]
    assert published_digests(published_path(paths)) == digests
    assert warehouse.built_by(paths) == recovered.run_id
