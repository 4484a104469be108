"""Rolling back a publish: the files a publish replaced are kept, and `publish --rollback` puts
the last one back atomically, byte for byte, while readers of the current one keep reading it."""

import hashlib

import duckdb
import pytest

from orchestration import warehouse
from orchestration.cli import main
from orchestration.governance.storage import republish
from orchestration.publish import kept_files, publish_marts, published_path


def _build(paths, orders: int) -> None:
    """A warehouse holding one mart whose single row says which build it is."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.kpis_daily as select 'us' as store_id, ? as orders", [orders])
    warehouse.record_build(paths, f"r{orders}")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _orders(con) -> int:
    return con.execute("select orders from kpis_daily").fetchone()[0]


def test_rollback_restores_the_previous_file_byte_for_byte_under_a_reader(paths, capsys):
    target = published_path(paths)
    _build(paths, 1)
    publish_marts(paths)
    first = _sha(target)
    _build(paths, 2)
    publish_marts(paths)
    assert len(kept_files(paths)) == 1
    reader = duckdb.connect(str(target), read_only=True)
    assert _orders(reader) == 2

    assert main(["publish", "--rollback"]) == 0
    out = capsys.readouterr().out
    assert out == f"rolled {target} back to the publish it replaced (000001.duckdb); 0 earlier kept\n"
    assert _sha(target) == first
    assert _orders(reader) == 2, "a reader keeps the file it opened"
    reader.close()
    with duckdb.connect(str(target), read_only=True) as con:
        assert _orders(con) == 1
    assert target.stat().st_mode & 0o777 == 0o444
    assert not list(paths.root.glob(".marts*"))
    with pytest.raises(SystemExit) as exit_info:  # nothing earlier is kept: a clear refusal
        main(["publish", "--rollback"])
    assert exit_info.value.code == 2
    assert _sha(target) == first


def test_only_the_configured_number_of_publishes_is_kept(paths, monkeypatch):
    monkeypatch.setenv("COMMERCE_PUBLISH_KEEP", "2")
    target = published_path(paths)
    shas = []
    for orders in range(1, 5):
        _build(paths, orders)
        publish_marts(paths)
        shas.append(_sha(target))
    assert [p.name for p in kept_files(paths)] == ["000002.duckdb", "000003.duckdb"]
    assert [_sha(p) for p in kept_files(paths)] == shas[1:3]
    main(["publish", "--rollback"])
    main(["publish", "--rollback"])
    assert _sha(target) == shas[1]
    assert kept_files(paths) == []


def test_a_republish_after_an_erasure_keeps_no_earlier_file(paths):
    _build(paths, 1)
    publish_marts(paths)
    publish_marts(paths, store="us")
    _build(paths, 2)
    republish(paths)
    assert kept_files(paths) == [] and kept_files(paths, "us") == []
