"""Extract contracts: one YAML per extract, the single definition the generator writes,
landing validates against, and the README renders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

# How long each PII class is kept, in days from the record's partition date (None: indefinitely).
# The one definition of the retention policy: the purge (orchestration/governance/purge.py) applies it.
# `pseudonymous` is the keyed HMAC of a customer or device id (a field marked `pseudonymous_key`),
# the key lifetime marts are built on: kept 25 months (761 days) from that customer's or device's
# last activity, not from the row's date, so a returning customer stays the same customer.
PII_RETENTION_DAYS = {"none": None, "low": 730, "pseudonymous": 761, "medium": 90, "high": 30, "critical": 7}
PII_CLASSES = tuple(PII_RETENTION_DAYS)
FORMATS = ("csv", "jsonl_batches")
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
_SIMPLE_TYPES = {
    "string": "VARCHAR",
    # Text like a string, but never checked for card numbers: a phone number of 13-19 digits passes
    # Luhn one time in ten (orchestration/landing/rules.py).
    "phone": "VARCHAR",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
}


class ContractError(ValueError):
    """A contract file is malformed."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    pii: str
    description: str
    required: bool = False
    path: str | None = None
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    # Row-level, across fields: the value may not fall before another date or timestamp field of the
    # row, compared as dates (an expiry date before its receipt is out of range).
    not_before: str | None = None
    # Batch-level: the largest share of NULLs an optional field may have before the batch fails.
    max_null_fraction: float | None = None
    # A customer or device id: beyond raw it is a pseudonymous key (its keyed HMAC), and past its
    # class's retention the purge replaces the clear value in raw by that key instead of NULL.
    pseudonymous_key: bool = False

    @property
    def sql_type(self) -> str:
        if self.type in _SIMPLE_TYPES:
            return _SIMPLE_TYPES[self.type]
        precision, scale = _DECIMAL.match(self.type).groups()
        return f"DECIMAL({precision},{scale})"

    @property
    def is_text(self) -> bool:
        return self.sql_type == "VARCHAR"

    @property
    def source_path(self) -> str:
        """Where the value sits in the extract: a CSV column, or a dotted JSON path."""
        return self.path or self.name


@dataclass(frozen=True)
class Contract:
    name: str
    source_system: str
    description: str
    format: str
    primary_key: tuple[str, ...]
    partition_by: str
    immutable: bool
    fields: tuple[Field, ...]
    derived: tuple[Field, ...] = field(default=())
    file_pattern: str = "*.csv"
    # Batch-level: the largest share of an extract's rows that may be quarantined.
    max_quarantine_fraction: float = 0.05
    # When the source stamps each row with its arrival (a collector's clock), a row arriving
    # more than `late_after_hours` after its partition time is counted late at landing.
    arrival_field: str | None = None
    late_after_hours: int = 12
    # Reference data (stores, products, ...) is exported when it changes, not every day: one file
    # in a generated window, and a month's grace before its freshness check fails.
    exported_on_change: bool = False

    def field(self, name: str) -> Field:
        for f in (*self.fields, *self.derived):
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def columns(self) -> tuple[Field, ...]:
        """Landed columns in order: contract fields, then derived ones."""
        return (*self.fields, *self.derived)


_FIELD_KEYS = frozenset(Field.__dataclass_fields__)


def _parse_field(contract: str, raw: dict) -> Field:
    name = raw.get("name", "?")
    # A comma in an unquoted description of a flow mapping starts a new key: YAML cuts the
    # description there and the rest becomes an unknown key.
    unknown = sorted(map(str, set(raw) - _FIELD_KEYS))
    if unknown:
        raise ContractError(f"{contract}.{name}: unknown keys {unknown} (quote a description holding a comma)")
    type_ = str(raw.get("type", ""))
    if type_ not in _SIMPLE_TYPES and not _DECIMAL.match(type_):
        raise ContractError(f"{contract}.{name}: unknown type {type_!r}")
    if raw.get("pii") not in PII_CLASSES:
        raise ContractError(f"{contract}.{name}: pii must be one of {PII_CLASSES}, got {raw.get('pii')!r}")
    if not raw.get("description"):
        raise ContractError(f"{contract}.{name}: description is required")
    allowed = _allowed_values(contract, name, raw.get("allowed"))
    return Field(
        name=name,
        type=type_,
        pii=raw["pii"],
        description=raw["description"],
        required=bool(raw.get("required", False)),
        path=raw.get("path"),
        allowed=allowed,
        min=raw.get("min"),
        max=raw.get("max"),
        pattern=raw.get("pattern"),
        not_before=raw.get("not_before"),
        max_null_fraction=raw.get("max_null_fraction"),
        pseudonymous_key=_pseudonymous_key(contract, name, raw),
    )


VALUE_SETS_FILE = "_value_sets.yaml"


@cache
def value_sets() -> dict[str, tuple[str, ...]]:
    """The value sets contracts share, by name (`_value_sets.yaml`)."""
    raw = yaml.safe_load(resources.files(__package__).joinpath(VALUE_SETS_FILE).read_text())
    return {name: tuple(str(v) for v in values) for name, values in raw.items()}


def _allowed_values(contract: str, name: str, allowed) -> tuple[str, ...] | None:
    """A field's allowed values: its own list, or the shared value set it names."""
    if isinstance(allowed, str):
        if allowed not in value_sets():
            raise ContractError(f"{contract}.{name}: allowed names no value set of {VALUE_SETS_FILE}: {allowed!r}")
        return value_sets()[allowed]
    return tuple(str(v) for v in allowed) if allowed else None


def _pseudonymous_key(contract: str, name: str, raw: dict) -> bool:
    if raw.get("pseudonymous_key") and (raw["pii"], raw["type"]) != ("medium", "string"):
        raise ContractError(f"{contract}.{name}: only a medium string field can feed a pseudonymous key")
    return bool(raw.get("pseudonymous_key", False))


EXPORT_CADENCES = ("daily", "on_change")


def _exported_on_change(name: str, cadence: str) -> bool:
    if cadence not in EXPORT_CADENCES:
        raise ContractError(f"{name}: exported must be one of {EXPORT_CADENCES}")
    return cadence == "on_change"


def parse_contract(raw: dict) -> Contract:
    name = raw["name"]
    if raw.get("format") not in FORMATS:
        raise ContractError(f"{name}: format must be one of {FORMATS}")
    fields = tuple(_parse_field(name, f) for f in raw["fields"])
    # A derived column is required unless its contract says otherwise (one of an optional field).
    derived = tuple(_parse_field(name, {"required": True, **f}) for f in raw.get("derived", []))
    contract = Contract(
        name=name,
        source_system=raw["source_system"],
        description=raw["description"],
        format=raw["format"],
        primary_key=tuple(raw["primary_key"]),
        partition_by=raw["partition_by"],
        immutable=bool(raw["immutable"]),
        fields=fields,
        derived=derived,
        file_pattern=raw.get("file_pattern", "*.csv"),
        max_quarantine_fraction=raw.get("max_quarantine_fraction", 0.05),
        arrival_field=raw.get("arrival_field"),
        late_after_hours=raw.get("late_after_hours", 12),
        exported_on_change=_exported_on_change(name, raw.get("exported", "daily")),
    )
    names = [f.name for f in contract.columns]
    # Every extract is multi-tenant: landing counts and publishing split rows by store_id.
    arrival = (contract.arrival_field,) if contract.arrival_field else ()
    for key in (*contract.primary_key, contract.partition_by, *arrival, "store_id"):
        if key not in names:
            raise ContractError(f"{name}: {key!r} is not a field")
    if contract.field(contract.partition_by).type not in ("timestamp", "date"):
        raise ContractError(f"{name}: partition_by must name a timestamp or date field")
    for f in contract.fields:
        if f.not_before and (f.type, f.not_before in names) != ("date", True):
            raise ContractError(f"{name}.{f.name}: not_before needs a date field and names another field")
    return contract


@cache
def load_contracts() -> dict[str, Contract]:
    """All contracts shipped with the package, by extract name."""
    folder = resources.files(__package__)
    contracts = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml") and entry.name != VALUE_SETS_FILE:
            contract = parse_contract(yaml.safe_load(entry.read_text()))
            contracts[contract.name] = contract
    return contracts
