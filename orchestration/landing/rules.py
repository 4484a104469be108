"""Row-level contract rules as DuckDB SQL, so validation runs vectorised over the whole extract.

Every extract is first read with all values as text (`raw` relation, one column per contract
field). `quarantine_reason` names the first rule a row breaks, as `<reason>:<field>`, and
`typed_columns` casts the rows that break none.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from orchestration.contracts import Contract, Field
from orchestration.lib.sql_quoting import quote_ident, quote_literal

# Reason codes, in the order they are tried for each field.
MISSING_REQUIRED = "missing_required"
INVALID_TYPE = "invalid_type"
NOT_ALLOWED = "not_allowed"
OUT_OF_RANGE = "out_of_range"
PATTERN_MISMATCH = "pattern_mismatch"
# Payment card data is never accepted (PII class critical): a string field (not a phone field)
# carrying a card-shaped number that passes Luhn quarantines the row, whatever else it holds.
CARD_NUMBER = "card_number"
# Whole-row or whole-file failures, raised while reading rather than by a field rule.
UNPARSEABLE_ROW = "unparseable_row"
LINE_TOO_LONG = "line_too_long"
# A line of a file that could not be read against its contract; also the reason of a file that
# cannot be read or decoded at all (the decoder's message in the manifest record's detail). The
# other reasons a file is rejected whole are in readers.py: they name files, never count rows.
UNREADABLE_FILE = "unreadable_file"
# The landed batch as a whole failed its Great Expectations suite.
FAILED_EXPECTATIONS = "failed_expectations"


def _typed(field: Field) -> str:
    return f"try_cast({quote_ident(field.name)} AS {field.sql_type})"


# A run of digits, each optionally followed by one space or dash: how card numbers are written.
_DIGIT_RUN = r"\d(?:[ -]?\d)*"
_CARD_CANDIDATE = r"\d(?:[ -]?\d){12}"  # at least 13 digits: the cheap pre-filter before Luhn
# A run standing alone, not part of an identifier: digits inside `e-4289018713681862` or
# `cart-f4611665657187b7` are hex ids that happen to be all digits (and pass Luhn one time in ten).
_STANDALONE_DIGIT_RUN = rf"(?:^|[^0-9A-Za-z_-])({_DIGIT_RUN})(?:[^0-9A-Za-z_-]|$)"


# The card-like shapes: issuer (IIN) prefixes with the lengths their schemes issue. A run of digits
# of another shape is no card, whatever its checksum: a phone number dialled from the US starts
# with 0 or 1 (`001-267-941-6565`), which no scheme issues.
_CARD_SHAPES = "|".join(
    (
        r"4\d{12}(?:\d{3}|\d{6})?",  # Visa: 13, 16 or 19 digits
        r"(?:5[1-5]\d\d|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)\d{12}",  # Mastercard: 16
        r"220[0-4]\d{12,15}",  # Mir: 16-19
        r"3[47]\d{13}",  # American Express: 15
        r"3(?:0[0-5]|09|[689]\d)\d{11,16}",  # Diners Club: 14-19
        r"35(?:2[89]|[3-8]\d)\d{12,15}",  # JCB: 16-19
        r"5[06-8]\d{11,17}",  # Maestro: 13-19
        r"6\d{12,18}",  # Discover, UnionPay, Maestro, RuPay: 13-19
    )
)


def _luhn_valid(reversed_digits: str) -> str:
    """SQL: the Luhn checksum of a digit string given reversed (check digit first) is 0 mod 10."""
    digit = f"CAST({reversed_digits}[i + 1] AS INTEGER)"
    doubled = f"CASE WHEN {digit} >= 5 THEN 2 * {digit} - 9 ELSE 2 * {digit} END"
    term = f"CASE WHEN i % 2 = 0 THEN {digit} ELSE {doubled} END"
    terms = f"list_transform(range(length({reversed_digits})), lambda i: {term})"
    return f"list_sum({terms}) % 10 = 0"


def carries_card_number(column: str) -> str:
    """SQL condition: some standalone digit run in the text has a card scheme's prefix and length
    and passes the Luhn check (a PAN).

    A 16-digit order number or a long phone number passes Luhn one time in ten; requiring a card
    shape as well rejects only what could be a real card. Vectorised: list lambdas over the runs,
    evaluated only on rows the regex pre-filter keeps.
    """
    runs = f"regexp_extract_all({column}, '{_STANDALONE_DIGIT_RUN}', 1)"
    digit_runs = f"list_transform({runs}, lambda run: regexp_replace(run, '[ -]', '', 'g'))"
    is_pan = f"regexp_full_match(d, '{_CARD_SHAPES}') AND {_luhn_valid('reverse(d)')}"
    return (
        f"regexp_matches({column}, '{_CARD_CANDIDATE}') "
        f"AND list_bool_or(list_transform({digit_runs}, lambda d: {is_pan}))"
    )


def _verdict_branch(condition: str, reason: str, field: Field) -> str:
    """A CASE branch naming the broken rule and its field, '<reason>:<field>', when `condition` holds."""
    return f"WHEN {condition} THEN {quote_literal(f'{reason}:{field.name}')}"


def _card_number_reason(fields: list[Field]) -> str | None:
    """SQL expression: 'card_number:<field>' of the first text field carrying a card number, else NULL.

    One pre-filter over all the fields joined by '|' (which no digit run crosses) spares the rows
    without a 13-digit run, nearly all of them, one regex per field. The fields are then searched
    as one list by one lambda: DuckDB binds the card test once, not once per field (which cost
    more to plan than a small extract costs to land)."""
    if not fields:
        return None
    columns = [quote_ident(f.name) for f in fields]
    named = ", ".join(
        f"{{'field': {quote_literal(f.name)}, 'text': {col}}}" for col, f in zip(columns, fields, strict=True)
    )
    first = f"list_filter([{named}], lambda x: {carries_card_number('x.text')})[1].field"
    joined = f"concat_ws('|', {', '.join(columns)})"
    return f"CASE WHEN regexp_matches({joined}, '{_CARD_CANDIDATE}') THEN '{CARD_NUMBER}:' || {first} END"


def mask_card_numbers(text: str) -> str:
    """SQL: the text with every long digit run replaced, so a rejected card number is not kept in quarantine."""
    return f"regexp_replace({text}, '{_CARD_CANDIDATE}(?:[ -]?\\d)*', '[card number removed]', 'g')"


def _failures(field: Field, from_json: bool, contract: Contract) -> list[tuple[str, str]]:
    """(reason, SQL condition that is true when the row breaks it) for one field."""
    col = quote_ident(field.name)
    typed = _typed(field)
    failures = []
    if field.required:
        failures.append((MISSING_REQUIRED, f"{col} IS NULL OR trim({col}) = ''"))
    type_broken = f"{col} IS NOT NULL AND {typed} IS NULL"
    if from_json and field.is_text:
        # JSON text read as VARCHAR: an object or array (`ip` sent as {"v4": ...}) arrives as its
        # JSON text, which any cast to text accepts. `contains` first: a value without a bracket
        # is not one, and a search for a byte costs a fraction of the trimmed copy.
        brackets = f"(contains({col}, '{{') OR contains({col}, '['))"
        type_broken += f" OR ({brackets} AND left(ltrim({col}), 1) IN ('{{', '[') AND json_valid({col}))"
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
    if field.not_before:
        # a typed value before the other field's date (a broken other field fails on its own rule)
        bounds.append(f"{typed} < CAST({_typed(contract.field(field.not_before))} AS DATE)")
    if bounds:
        failures.append((OUT_OF_RANGE, " OR ".join(bounds)))
    if field.pattern:
        failures.append((PATTERN_MISMATCH, f"NOT regexp_full_match({col}, {quote_literal(field.pattern)})"))
    return failures


def quarantine_reason(contract: Contract) -> str:
    """SQL expression: NULL for a valid row, else '<reason>:<field>' of the first broken rule."""
    from_json = contract.format != "csv"
    branches = [
        _verdict_branch(condition, reason, field)
        for field in contract.fields
        for reason, condition in _failures(field, from_json, contract)
    ]
    rules = "CASE " + " ".join(branches) + " END"
    # Card numbers first: such a row must be quarantined as one (and masked) whatever else it breaks.
    # Every text field may carry one, except a phone number, which is digits by nature.
    cards = _card_number_reason([f for f in contract.fields if f.type == "string"])
    return f"coalesce({cards}, {rules})" if cards else rules


def typed_columns(contract: Contract) -> list[str]:
    """SQL select list casting each text column to its contract type."""
    return [f"{_typed(field)} AS {quote_ident(field.name)}" for field in contract.fields]


def _postal_prefix(postal_code: str) -> str:
    """The postal area of a postal code: its first three characters, spaces removed, upper case (a
    US ZIP3, the start of a UK outward code), the key of the geography reference (postal_areas).
    Derived at landing, at low class, so the retention purge that clears the medium-class code
    leaves the area: the regions of the days it purged never change."""
    return f"upper(substring(replace(trim({postal_code}), ' ', ''), 1, 3))"


# SQL of each derived column, computed from the typed ones.
_DERIVED = {
    # Snowplow's derived timestamp: trust the device for durations, the collector for the clock.
    "event_at": "collector_received_at - (device_sent_at - device_created_at)",
    "postal_prefix": _postal_prefix("postal_code"),
    "destination_postal_prefix": _postal_prefix("destination_postal_code"),
}


def derived_columns(contract: Contract) -> list[tuple[str, str]]:
    """(name, SQL over the typed columns) of each derived column."""
    return [(f.name, _DERIVED[f.name]) for f in contract.derived]


def implausible_time(contract: Contract, now: datetime, floor: date, future_tolerance: timedelta) -> str:
    """SQL condition on typed rows with their derived columns: the time the row is partitioned by
    lies after `now` plus the tolerance or before the floor (a clock set to 2030, a date typed as
    2019): such a row would land in a partition of its own and move the late-row reference."""
    at = quote_ident(contract.partition_by)
    latest = quote_literal((now + future_tolerance).isoformat())
    return f"({at} > {latest}::TIMESTAMPTZ OR {at} < {quote_literal(floor.isoformat())}::DATE)"


def partition_date(contract: Contract) -> str:
    """SQL for the UTC date a typed row is partitioned by (the session time zone is UTC)."""
    return f"CAST({quote_ident(contract.partition_by)} AS DATE)"
