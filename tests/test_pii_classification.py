"""Every column of every source and model carries a PII class, marts hold nothing HIGH or CRITICAL,
and staging agrees with the extract contracts. Parsed from the YAML: no dbt run needed."""

import shutil
from pathlib import Path

import yaml

from orchestration.contracts import PII_CLASSES, PII_RETENTION_DAYS, load_contracts
from orchestration.governance.classification import classification_problems, column_key_problems, contract_problems

MODELS = Path("models")


def test_every_column_is_classified_and_no_mart_column_is_high_or_critical():
    assert classification_problems(MODELS) == []


def test_staging_columns_carry_their_contract_fields_class():
    assert contract_problems(MODELS, load_contracts()) == []


def test_no_column_description_is_cut_at_a_comma_into_an_unknown_key(tmp_path):
    assert column_key_problems(MODELS, Path("seeds")) == []
    planted = tmp_path / "_planted.yml"
    planted.write_text("models:\n  - name: m\n    columns:\n      - {name: c, description: Placed, paid.}\n")
    assert column_key_problems(tmp_path) == [f"{planted}: m.c has unknown keys ['paid.']"]


def test_retention_is_defined_once_per_class():
    assert PII_CLASSES == ("none", "low", "pseudonymous", "medium", "high", "critical")
    assert PII_RETENTION_DAYS == {
        "none": None, "low": 730, "pseudonymous": 761, "medium": 90, "high": 30, "critical": 7
    }  # fmt: skip


def _edit_columns(yaml_file: Path, model: str, edit) -> None:
    spec = yaml.safe_load(yaml_file.read_text())
    [node] = [m for m in spec["models"] if m["name"] == model]
    edit(node["columns"])
    yaml_file.write_text(yaml.safe_dump(spec))


def test_the_checks_name_a_planted_unclassified_column_a_high_mart_column_and_a_disagreement(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(MODELS, models)
    staging = models / "staging" / "crm" / "_crm__models.yml"
    _edit_columns(staging, "stg_crm__customers", lambda cols: cols.append({"name": "shoe_size"}))

    def declassify_customer_id(columns):
        [column] = [c for c in columns if c["name"] == "customer_id"]
        column["meta"] = {"pii": "none"}

    _edit_columns(staging, "stg_crm__reviews", declassify_customer_id)
    marts = models / "marts" / "commerce" / "_commerce__models.yml"
    _edit_columns(marts, "fct_orders", lambda cols: cols.append({"name": "email", "meta": {"pii": "high"}}))

    problems = classification_problems(models)
    assert f"{staging}: stg_crm__customers.shoe_size has no meta.pii in {PII_CLASSES}" in problems
    assert f"{marts}: mart column fct_orders.email is high" in problems
    assert contract_problems(models, load_contracts()) == [
        "stg_crm__reviews.customer_id is none but contract field reviews.customer_id makes it pseudonymous"
    ]
