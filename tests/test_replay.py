"""Replay from quarantine: after a contract change, the quarantined rows that now pass land once,
through landing itself, and every row stays accounted for."""

import dataclasses

import duckdb
import pytest

from orchestration import replay as replay_module
from orchestration.cli import main
from orchestration.contracts import load_contracts
from orchestration.defs.replay import replay_quarantine
from orchestration.landing import manifest
from orchestration.landing.delivery import SETTLE_ENV
from orchestration.landing.land import land_source
from orchestration.replay import ledgers, replay
from tests.conftest import order, write_csv

# Every id has the one shape of the source's ids ("x"): a replayed row is checked against it.
GOOD = [order(order_id=f"o{i}", customer_id=f"c{i}") for i in range(40)]
CHF = order(order_id="ochf", currency="CHF", total_amount="99.00")
BROKEN = order(order_id="obroken", total_amount="abc")


@pytest.fixture
def quarantined(paths):
    """40 orders landed, one quarantined for its currency and one for its amount (4.8 %, under the 5 % gate)."""
    write_csv(paths, "orders", "orders_1.csv", [*GOOD, CHF, BROKEN])
    [record] = land_source(paths, "orders")
    assert (record.rows_landed, record.quarantined_by_reason) == (
        40,
        {"invalid_type:total_amount": 1, "not_allowed:currency": 1},
    )
    return paths


@pytest.fixture
def chf_allowed(monkeypatch):
    contracts = load_contracts()
    orders = contracts["orders"]
    fields = tuple(
        dataclasses.replace(f, allowed=(*f.allowed, "CHF")) if f.name == "currency" else f for f in orders.fields
    )
    monkeypatch.setitem(contracts, "orders", dataclasses.replace(orders, fields=fields))


def _landed(paths, order_id: str) -> list[tuple]:
    files = str(paths.raw_for("orders") / "*" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute(
            f"select _extract_id, total_amount from read_parquet('{files}') where order_id = ?", [order_id]
        ).fetchall()


def test_replay_after_a_contract_fix_lands_the_row_once_and_conserves_rows(
    quarantined, chf_allowed, capsys, monkeypatch
):
    paths = quarantined
    monkeypatch.setenv(SETTLE_ENV, "600")  # the replay extract is delivered by the marker, not by waiting
    config = {"ops": {"replay_quarantined": {"config": {"source": "orders", "dry_run": True}}}}
    dry = replay_quarantine.execute_in_process(run_config=config).output_for_node("replay_quarantined")
    assert (dry["chosen"], dry["passing"], dry["still_failing"]) == (2, 1, {"invalid_type:total_amount": 1})
    assert not ledgers(paths, "orders") and len(manifest.records(paths, "orders")) == 1, "a dry run writes nothing"

    assert main(["replay", "--source", "orders", "--reason", "not_allowed"]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 quarantined rows pass now" in out and "landed 1" in out
    [ledger] = ledgers(paths, "orders")
    original = manifest.records(paths, "orders")
    replayed = next(r for r in original if r.file.startswith("orders/replay-"))
    assert replayed.sha256 == ledger["sha256"]
    assert [row[1:] for row in ledger["rows"]] == [[41, "not_allowed:currency"]]
    assert (replayed.rows_received, replayed.rows_landed, replayed.rows_quarantined) == (1, 1, 0)
    assert _landed(paths, "ochf") == [(replayed.extract_id, 99)]

    again = replay(paths, "orders")  # the same row again, and everything else quarantined
    assert (again.already_replayed, again.chosen, again.passing, again.record) == (1, 1, 0, None)
    assert len(manifest.records(paths, "orders")) == 2 and len(ledgers(paths, "orders")) == 1
    assert len(_landed(paths, "ochf")) == 1
    # Rows conserved: 42 received = 40 + 2 quarantined; 1 of those replayed = 1 landed; 1 left in quarantine.
    records = manifest.records(paths, "orders")
    assert sum(r.rows_received for r in records) == 43 and sum(r.rows_landed for r in records) == 41
    assert all(r.is_conserved for r in records)


def test_a_replay_that_died_before_landing_is_landed_once_by_the_next(quarantined, chf_allowed, monkeypatch):
    paths = quarantined

    def crash(*args):
        raise OSError("killed")

    monkeypatch.setattr(replay_module, "land_source", crash)
    with pytest.raises(OSError):
        replay(paths, "orders")
    [ledger] = ledgers(paths, "orders")
    (paths.inbox / ledger["file"]).unlink()  # died before the file was in place
    monkeypatch.undo()
    contracts = load_contracts()  # undo removed the contract fix too: apply it again
    orders = contracts["orders"]
    currency = dataclasses.replace(orders.field("currency"), allowed=(*orders.field("currency").allowed, "CHF"))
    fields = tuple(currency if f.name == "currency" else f for f in orders.fields)
    monkeypatch.setitem(contracts, "orders", dataclasses.replace(orders, fields=fields))

    result = replay(paths, "orders")
    assert (result.already_replayed, result.passing) == (1, 0)
    assert (paths.inbox / ledger["file"]).exists()
    assert manifest.read_record(paths, "orders", ledger["sha256"]).rows_landed == 1
    assert len(_landed(paths, "ochf")) == 1
