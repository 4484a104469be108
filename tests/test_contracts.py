"""The extract contracts: complete, classified, and documented as they are."""

from pathlib import Path

import pytest
import yaml

from orchestration.contracts import PII_CLASSES, ContractError, load_contracts, parse_contract
from orchestration.contracts.render import render_markdown

SOURCES = {
    "events", "stores", "warehouses", "products", "customers", "orders", "order_items", "payment_attempts",
    "refunds", "returns", "chargebacks", "shipments", "promotions", "discount_codes", "reviews", "consent_logs",
    "inventory_adjustments", "stock_snapshots",
}  # fmt: skip


def test_every_source_system_extract_has_a_contract():
    assert set(load_contracts()) == SOURCES


def test_every_field_carries_a_pii_class_and_high_classes_stay_in_customers():
    for contract in load_contracts().values():
        for field in contract.columns:
            assert field.pii in PII_CLASSES, f"{contract.name}.{field.name}"
            if field.pii in ("high", "critical"):
                assert contract.name == "customers", f"{contract.name}.{field.name} is {field.pii}"


def test_a_field_without_pii_class_is_rejected_naming_it():
    raw = yaml.safe_load(Path("orchestration/contracts/refunds.yaml").read_text())
    del raw["fields"][3]["pii"]
    with pytest.raises(ContractError, match=r"refunds\.refunded_at: pii must be one of"):
        parse_contract(raw)


def test_the_contract_reference_in_the_repo_is_current():
    documented = Path("orchestration/contracts/README.md").read_text()
    assert documented == render_markdown(), "run `make contracts` to refresh orchestration/contracts/README.md"
