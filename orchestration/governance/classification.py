"""Every column carries a PII class, read from the dbt YAML (`meta: {pii: ...}`), and the classes obey
the policy: no unclassified column, nothing HIGH or CRITICAL in a mart, staging agrees with its contract.

The checks parse the YAML directly (no dbt parse) and return one message per offending column, so a
failing test names what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestration.contracts import PII_CLASSES, Contract, Field

NEVER_IN_MARTS = ("high", "critical")

# Contract fields that staging publishes under another name. The class stays, but for a field marked
# `pseudonymous_key` (a customer or device id), whose keyed hash is class `pseudonymous` beyond raw;
# the keyed hash of another medium value (IP, user agent) stays medium.
STAGING_RENAMES = {
    ("events", "user_id"): "customer_id",
    ("events", "ip"): "ip_hash",
    ("events", "user_agent"): "user_agent_hash",
    ("events", "gpc"): "has_gpc_signal",
    ("events", "dnt"): "has_dnt_signal",
    ("shipments", "returned_to_origin"): "is_returned_to_origin",
}
# Contract fields staging leaves out: their values go no further than raw (a review's free text, the
# device clock of a batch, already folded into event_at).
STAGING_DROPS = {("reviews", "body"), ("events", "device_sent_at")}
_RAW_SOURCE = re.compile(r"raw_source\(\s*'\w+'\s*,\s*'(\w+)'\s*\)")


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # "model" or "source"
    yaml_file: Path
    columns: dict[str, str | None]  # column -> PII class (None when missing)

    @property
    def is_mart(self) -> bool:
        return self.kind == "model" and "marts" in self.yaml_file.parts


def _pii(column: dict) -> str | None:
    meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
    return meta.get("pii")


def documented_relations(models_dir: Path) -> dict[str, Relation]:
    """Sources (as `<system>.<table>`) and models declared in the YAML under `models_dir`."""
    relations = {}
    for yaml_file in sorted(models_dir.rglob("*.yml")):
        spec = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
        for model in spec.get("models") or []:
            columns = {c["name"]: _pii(c) for c in model.get("columns") or []}
            relations[model["name"]] = Relation(model["name"], "model", yaml_file, columns)
        for source in spec.get("sources") or []:
            for table in source.get("tables") or []:
                name = f"{source['name']}.{table['name']}"
                columns = {c["name"]: _pii(c) for c in table.get("columns") or []}
                relations[name] = Relation(name, "source", yaml_file, columns)
    return relations


# What dbt reads in a column entry. Anything else is most often the tail of an unquoted description
# holding a comma, which YAML's flow mapping `{name: x, description: a, b}` cuts at the comma.
COLUMN_KEYS = frozenset({"name", "description", "meta", "data_tests", "data_type", "config", "constraints", "quote"})


def column_key_problems(*dirs: Path) -> list[str]:
    """Column entries of the YAML under `dirs` with keys dbt does not read, naming file and column."""
    problems = []
    for yaml_file in sorted(f for d in dirs for f in d.rglob("*.yml")):
        spec = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
        nodes = [*(spec.get("models") or []), *(spec.get("seeds") or [])]
        nodes += [table for source in spec.get("sources") or [] for table in source.get("tables") or []]
        for node in nodes:
            for column in node.get("columns") or []:
                unknown = sorted(map(str, set(column) - COLUMN_KEYS))
                if unknown:
                    problems.append(f"{yaml_file}: {node['name']}.{column['name']} has unknown keys {unknown}")
    return problems


def model_files(models_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(models_dir.rglob("*")) if p.suffix in (".sql", ".py")}


def classification_problems(models_dir: Path) -> list[str]:
    """Models without YAML, columns without a valid class, and HIGH or CRITICAL mart columns."""
    relations = documented_relations(models_dir)
    problems = [
        f"{path}: model {name} has no YAML, so none of its columns is classified"
        for name, path in model_files(models_dir).items()
        if name not in relations
    ]
    for relation in relations.values():
        if relation.kind == "model" and not relation.columns:
            problems.append(f"{relation.yaml_file}: {relation.name} documents no columns")
        for column, pii in relation.columns.items():
            if pii not in PII_CLASSES:
                problems.append(f"{relation.yaml_file}: {relation.name}.{column} has no meta.pii in {PII_CLASSES}")
            elif relation.is_mart and pii in NEVER_IN_MARTS:
                problems.append(f"{relation.yaml_file}: mart column {relation.name}.{column} is {pii}")
    return problems


def staging_models_by_source(models_dir: Path) -> dict[str, str]:
    """Contract (raw table) -> the staging model reading it."""
    found = {}
    for name, path in model_files(models_dir / "staging").items():
        for table in _RAW_SOURCE.findall(path.read_text(encoding="utf-8")):
            found[table] = name
    return found


def staging_class(field: Field) -> str:
    """The class of a contract field's value beyond raw."""
    return "pseudonymous" if field.pseudonymous_key else field.pii


def contract_problems(models_dir: Path, contracts: dict[str, Contract]) -> list[str]:
    """A contract field whose staging column is missing or has another class."""
    relations = documented_relations(models_dir)
    staging = staging_models_by_source(models_dir)
    problems = []
    for contract in contracts.values():
        model = staging.get(contract.name)
        if model is None or model not in relations:
            problems.append(f"contract {contract.name}: no documented staging model reads it")
            continue
        columns = relations[model].columns
        for field in contract.columns:
            if (contract.name, field.name) in STAGING_DROPS:
                continue
            column = STAGING_RENAMES.get((contract.name, field.name), field.name)
            if column not in columns:
                problems.append(f"{model}: contract field {contract.name}.{field.name} has no column {column}")
            elif columns[column] != staging_class(field):
                problems.append(
                    f"{model}.{column} is {columns[column]} but contract field {contract.name}.{field.name}"
                    f" makes it {staging_class(field)}"
                )
    return problems


def undocumented_columns(built: dict[str, list[str]], models_dir: Path) -> list[str]:
    """Columns of built models (model -> its columns, from the warehouse) missing from the YAML, and back."""
    relations = documented_relations(models_dir)
    problems = []
    for model, columns in built.items():
        documented = relations[model].columns if model in relations else {}
        problems += [f"{model}.{c} is built but not in the YAML (unclassified)" for c in columns if c not in documented]
        problems += [f"{model}.{c} is in the YAML but not built" for c in documented if c not in columns]
    return problems
