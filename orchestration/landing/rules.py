"""Row-level contract rules as DuckDB SQL, so validation runs vectorised over the whole extract.

Every extract is first read with all values as text (`raw` relation, one column per contract
field). `quarantine_reason` names the first rule a row breaks, as `<reason>:<field>`, and
`typed_columns` casts the rows that break none.
"""

from __future__ import annotations

from orchestration.contracts import Contract, Field

# Reason codes, in the order they are tried for each field.
MISSING_REQUIRED = "missing_required"
INVALID_TYPE = "invalid_type"
NOT_ALLOWED = "not_allowed"
OUT_OF_RANGE = "out_of_range"
PATTERN_MISMATCH = "pattern_mismatch"
# Whole-row or whole-file failures, raised while reading rather than by a field rule.
UNPARSEABLE_ROW = "unparseable_row"
UNREADABLE_FILE = "unreadable_file"
# The landed batch as a whole failed its Great Expectations suite.
FAILED_EXPECTATIONS = "failed_expectations"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _typed(field: Field) -> str:
    return f"try_cast({quote_ident(field.name)} AS {field.sql_type})"


def _failures(field: Field) -> list[tuple[str, str]]:
    """(reason, SQL condition that is true when the row breaks it) for one field."""
    col = quote_ident(field.name)
    typed = _typed(field)
    failures = []
    if field.required:
        failures.append((MISSING_REQUIRED, f"{col} IS NULL OR trim({col}) = ''"))
    type_broken = f"{col} IS NOT NULL AND {typed} IS NULL"
    if field.type.startswith("decimal"):
        # A cast would round extra digits away; money must arrive exact to its scale.
        scale = int(field.sql_type.rstrip(")").split(",")[1])
        digits = "" if scale == 0 else rf"(\.\d{{0,{scale}}})?"
        type_broken += f" OR NOT regexp_full_match(trim({col}), '^-?\\d+{digits}$')"
    failures.append((INVALID_TYPE, f"{col} IS NOT NULL AND ({type_broken})"))
    if field.allowed:
        values = ", ".join(quote_literal(v) for v in field.allowed)
        failures.append((NOT_ALLOWED, f"{typed} NOT IN ({values})"))
    bounds = []
    if field.min is not None:
        bounds.append(f"{typed} < {field.min}")
    if field.max is not None:
        bounds.append(f"{typed} > {field.max}")
    if bounds:
        failures.append((OUT_OF_RANGE, " OR ".join(bounds)))
    if field.pattern:
        failures.append((PATTERN_MISMATCH, f"NOT regexp_full_match({col}, {quote_literal(field.pattern)})"))
    return failures


def quarantine_reason(contract: Contract) -> str:
    """SQL expression: NULL for a valid row, else '<reason>:<field>' of the first broken rule."""
    branches = [
        f"WHEN {condition} THEN {quote_literal(f'{reason}:{field.name}')}"
        for field in contract.fields
        for reason, condition in _failures(field)
    ]
    return "CASE " + " ".join(branches) + " END"


def typed_columns(contract: Contract) -> list[str]:
    """SQL select list casting each text column to its contract type."""
    return [f"{_typed(field)} AS {quote_ident(field.name)}" for field in contract.fields]


def derived_columns(contract: Contract) -> list[str]:
    """SQL for derived columns, computed from the typed ones."""
    formulas = {
        # Snowplow's derived timestamp: trust the device for durations, the collector for the clock.
        "event_at": "collector_received_at - (device_sent_at - device_created_at)",
    }
    return [f"{formulas[f.name]} AS {quote_ident(f.name)}" for f in contract.derived]


def partition_date(contract: Contract) -> str:
    """SQL for the UTC date a typed row is partitioned by (the session time zone is UTC)."""
    return f"CAST({quote_ident(contract.partition_by)} AS DATE)"
