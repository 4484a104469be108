import csv
import gzip
import json
import os
from pathlib import Path

import pytest

from orchestration.contracts import load_contracts
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


def write_batches(paths: DataPaths, name: str, batches: list[dict]) -> Path:
    """Clickstream batches; each dict may set sent_at/received_at, defaulting to no skew."""
    target = paths.inbox_for("events") / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(target, "wt") as handle:
        for i, batch in enumerate(batches):
            line = {"batch_id": f"b{i}", "sent_at": batch["sent_at"], "received_at": batch["received_at"]}
            handle.write(json.dumps({**line, "events": batch["events"]}) + "\n")
    return target
