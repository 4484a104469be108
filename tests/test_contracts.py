"""The extract contracts: complete, classified, and documented as they are."""

import re
from pathlib import Path

import pytest
import yaml

from orchestration.contracts import PII_CLASSES, ContractError, dbt_sources, load_contracts, parse_contract, render

SOURCES = {
    "events", "stores", "warehouses", "products", "customers", "orders", "order_items", "payment_attempts",
    "refunds", "returns", "chargebacks", "shipments", "promotions", "discount_codes", "reviews", "consent_logs",
    "inventory_adjustments", "stock_snapshots", "fx_rates", "device_activations", "patch_applications",
    "dosage_deliveries", "sensor_readings", "firmware_updates", "adverse_events", "subscription_events",
    "loyalty_transactions", "postal_areas", "affiliate_partners",
}  # fmt: skip
# Health data of the device cloud: high, like the CRM's identity fields, and nowhere else.
HEALTH_DATA = {
    ("device_activations", "prescribed_wear_days"), ("dosage_deliveries", "scheduled_dose_mg"),
    ("dosage_deliveries", "delivered_dose_mg"), ("sensor_readings", "value"), ("adverse_events", "severity"),
}  # fmt: skip


def test_every_source_system_extract_has_a_contract():
    assert set(load_contracts()) == SOURCES


def test_every_field_carries_a_pii_class_and_high_classes_stay_in_customers_and_health_data():
    for contract in load_contracts().values():
        for field in contract.columns:
            assert field.pii in PII_CLASSES, f"{contract.name}.{field.name}"
            if field.pii in ("high", "critical"):
                allowed = contract.name == "customers" or (contract.name, field.name) in HEALTH_DATA
                assert allowed, f"{contract.name}.{field.name} is {field.pii}"


def test_a_field_without_pii_class_is_rejected_naming_it():
    raw = yaml.safe_load(Path("orchestration/contracts/refunds.yaml").read_text())
    del raw["fields"][3]["pii"]
    with pytest.raises(ContractError, match=r"refunds\.refunded_at: pii must be one of"):
        parse_contract(raw)


def test_a_field_with_an_unknown_key_is_rejected_naming_it():
    raw = yaml.safe_load(Path("orchestration/contracts/orders.yaml").read_text())
    raw["fields"][0]["nation or macro-region."] = None  # a description cut at an unquoted comma
    with pytest.raises(ContractError, match=r"orders\.\w+: unknown keys \['nation or macro-region\.'\]"):
        parse_contract(raw)


def test_the_ids_feeding_pseudonymous_keys_are_marked_and_only_medium_strings_may_be():
    marked = {(c.name, f.name) for c in load_contracts().values() for f in c.columns if f.pseudonymous_key}
    # The ids staging hashes into keys (user agents and postal codes are hashed too, but are no key):
    # a purge replaces exactly those by their key in raw, so a full refresh finds the same keys.
    hashed = set()
    for model in Path("models/staging").rglob("*.sql"):
        sql = model.read_text()
        [source] = re.findall(r"raw_source\('\w+', '(\w+)'\)", sql) or [None]
        hashed |= {(source, column) for column in re.findall(r"pseudonymize\('(\w+_id)'\)", sql)}
    assert marked == hashed
    assert {("orders", "customer_id"), ("events", "anonymous_id"), ("sensor_readings", "device_id")} <= marked
    raw = yaml.safe_load(Path("orchestration/contracts/events.yaml").read_text())
    [ip] = [f for f in raw["fields"] if f["name"] == "ip"]
    ip["pii"], ip["pseudonymous_key"] = "low", True
    with pytest.raises(ContractError, match=r"events\.ip: only a medium string field can feed a pseudonymous key"):
        parse_contract(raw)


@pytest.mark.parametrize(
    ("path", "render"),
    [(render.REFERENCE_FILE, render.render_markdown), (dbt_sources.SOURCES_FILE, dbt_sources.render_sources)],
)
def test_files_generated_from_the_contracts_are_current(path, render):
    assert Path(path).read_text() == render(), f"run `make contracts` to refresh {path}"


def test_a_not_before_rule_needs_a_date_field_and_another_field_of_the_contract():
    raw = yaml.safe_load(Path("orchestration/contracts/inventory_adjustments.yaml").read_text())
    [expiry] = [f for f in raw["fields"] if f["name"] == "expiry_date"]
    assert parse_contract(raw).field("expiry_date").not_before == "adjusted_at"
    expiry["not_before"] = "received_at"
    with pytest.raises(ContractError, match=r"inventory_adjustments\.expiry_date: not_before needs a date field"):
        parse_contract(raw)


def test_reference_data_is_exported_on_change_and_no_other_cadence_is_accepted():
    on_change = {name for name, contract in load_contracts().items() if contract.exported_on_change}
    assert on_change == {
        "stores", "warehouses", "products", "promotions", "discount_codes", "postal_areas", "affiliate_partners",
    }  # fmt: skip
    raw = yaml.safe_load(Path("orchestration/contracts/stores.yaml").read_text())
    with pytest.raises(ContractError, match=r"stores: exported must be one of \('daily', 'on_change'\)"):
        parse_contract({**raw, "exported": "weekly"})


def test_derived_columns_are_required_unless_derived_from_an_optional_field():
    contracts = load_contracts()
    derived = {(c.name, f.name): (f.required, f.pii) for c in contracts.values() for f in c.derived}
    assert derived == {
        ("events", "event_at"): (True, "none"),
        # A postal area outlives its medium-class code in the purge, and is NULL where the code is.
        ("customers", "postal_prefix"): (False, "low"),
        ("shipments", "destination_postal_prefix"): (False, "low"),
    }


def test_a_shared_value_set_is_named_once_and_admits_its_values():
    """The currencies of eight extracts and the platforms of two are one list each
    (`_value_sets.yaml`), which the fields name; a name of no set is refused, naming the field."""
    contracts = load_contracts()
    currency = {c.name: f.allowed for c in contracts.values() for f in c.fields if f.name == "currency"}
    assert set(currency) == {
        "chargebacks", "fx_rates", "orders", "payment_attempts", "products", "refunds", "stores", "subscription_events",
    }  # fmt: skip
    assert set(currency.values()) == {("USD", "EUR", "GBP", "JPY", "AUD", "BRL", "CAD", "SEK")}
    assert (
        contracts["events"].field("platform").allowed
        == contracts["orders"].field("platform").allowed
        == (
            "web",
            "ios",
            "android",
        )
    )
    raw = yaml.safe_load(Path("orchestration/contracts/orders.yaml").read_text())
    [status] = [f for f in raw["fields"] if f["name"] == "status"]
    status["allowed"] = "statuses"
    with pytest.raises(ContractError, match=r"orders\.status: allowed names no value set of _value_sets\.yaml"):
        parse_contract(raw)


def test_no_list_of_allowed_values_is_spelled_out_in_two_contracts():
    """A list two contracts share belongs in `_value_sets.yaml`: written out twice, one copy would
    be changed without the other."""
    spelled = {}
    for path in sorted(Path("orchestration/contracts").glob("*.yaml")):
        for f in yaml.safe_load(path.read_text()).get("fields", []):
            if isinstance(f.get("allowed"), list):
                spelled.setdefault(tuple(sorted(map(str, f["allowed"]))), []).append(f"{path.stem}.{f['name']}")
    assert {values: places for values, places in spelled.items() if len(places) > 1} == {}
