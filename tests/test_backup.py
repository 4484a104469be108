"""Backups and restore on a small data folder: what is copied, incrementally by content hash, the
retention count, and a restore that brings every file back byte for byte with its mode.

That a restored folder rebuilds to identical marts is asserted on the bench's data
(tests/test_bench_stages.py), whose plain dbt build is the rebuild of a restored folder."""

import hashlib
import shutil

import duckdb
import pytest

from orchestration import backup
from orchestration.cli import main
from orchestration.defs.backup import backup_data
from orchestration.governance import audit


@pytest.fixture
def data(paths):
    """A data folder with a file of every kind a backup holds, and some it does not."""
    root = paths.root
    for relative, text in {
        "raw/orders/date=2026-11-01/part-a.parquet": "orders a",
        "raw/orders/date=2026-11-02/part-b.parquet": "orders b",
        "manifest/orders/a.json": "{}",
        "quarantine/orders/part-a.parquet": "bad rows",
        "suppression/erased_subjects.json": '{"us": []}',
        "inbox/orders/orders_1.csv": "not backed up: raw holds it",
        "logs/runs.jsonl": "not backed up",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / ".pii_hmac_key").write_text("k" * 64)
    (root / ".pii_hmac_key").chmod(0o600)
    with duckdb.connect(str(root / "marts.duckdb")) as con:
        con.execute("create table kpis_daily as select 1 as orders")
    (root / "marts.duckdb").chmod(0o444)
    (root / "warehouse.duckdb").write_text("rebuilt from raw, not backed up")
    audit.append(paths, "erasure_log", [("2026-11-03T00:00:00Z", "us", "k1", "raw", 2)])
    return paths


def _tree(root) -> dict[str, tuple[str, int]]:
    return {
        str(f.relative_to(root)): (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mode & 0o777)
        for f in sorted(root.rglob("*"))
        if f.is_file() and "locks" not in f.parts
    }


BACKED_UP = {
    ".pii_hmac_key",
    "audit.duckdb",
    "manifest/orders/a.json",
    "marts.duckdb",
    "quarantine/orders/part-a.parquet",
    "raw/orders/date=2026-11-01/part-a.parquet",
    "raw/orders/date=2026-11-02/part-b.parquet",
    "suppression/erased_subjects.json",
}


def test_a_restore_brings_back_every_backed_up_file_byte_for_byte(data, tmp_path, capsys):
    target = tmp_path / "backups"
    before = _tree(data.root)
    assert main(["backup", "--target", str(target)]) == 0
    assert capsys.readouterr().out.startswith("snapshot ")
    assert target.stat().st_mode & 0o777 == 0o700
    shutil.rmtree(data.root)
    assert main(["restore", "--from", str(target)]) == 0
    after = _tree(data.root)
    assert set(after) == BACKED_UP
    assert after == {path: before[path] for path in BACKED_UP}
    assert after["marts.duckdb"][1] == 0o444 and after[".pii_hmac_key"][1] == 0o600
    assert audit.read(data, "erasure_log")[0][2] == "k1"
    with pytest.raises(SystemExit):  # never over a folder that holds data
        main(["restore", "--from", str(target)])
    assert "already holds data" in capsys.readouterr().err


def test_backups_copy_only_new_contents_and_keep_the_last_n(data, tmp_path, monkeypatch):
    target = tmp_path / "backups"
    first = backup.backup(data, target, keep=2)
    # Every backed-up file is distinct, so each is one new object.
    assert (first.files, first.new_objects) == (8, 8)
    hashed = []
    monkeypatch.setattr(backup, "content_hash", lambda path: hashed.append(path) or "x")
    second = backup.backup(data, target, keep=2)
    assert (second.files, second.new_objects, second.new_bytes, hashed) == (8, 0, 0, [])
    monkeypatch.undo()

    (data.root / "raw/orders/date=2026-11-02/part-b.parquet").write_text("orders b, re-landed")
    (data.root / "raw/orders/date=2026-11-03/part-c.parquet").parent.mkdir()
    (data.root / "raw/orders/date=2026-11-03/part-c.parquet").write_text("orders a")  # a known content
    third = backup.backup(data, target, keep=2)
    assert (third.files, third.new_objects, third.new_bytes) == (9, 1, len("orders b, re-landed"))
    assert third.removed_snapshots == [first.snapshot_id]
    assert backup.snapshots(target) == [second.snapshot_id, third.snapshot_id]
    fourth = backup.backup(data, target, keep=1)
    assert fourth.removed_snapshots == [second.snapshot_id, third.snapshot_id]
    # The first part-b content is named by no kept snapshot any more: collected.
    assert len(list((target / "objects").glob("*/*"))) == 8


def test_the_scheduled_job_snapshots_and_a_bad_target_is_refused(data, tmp_path):
    target = tmp_path / "job-backups"
    config = {"ops": {"snapshot_data_folder": {"config": {"target": str(target), "keep": 3}}}}
    result = backup_data.execute_in_process(run_config=config)
    assert result.success and backup.snapshots(target) == [result.output_for_node("snapshot_data_folder")]
    with pytest.raises(backup.BackupError, match="inside the data folder"):
        backup.backup(data, data.root / "backups", keep=3)
    with pytest.raises(backup.BackupError, match="no backup snapshot"):
        backup.restore(tmp_path / "nothing", data)
