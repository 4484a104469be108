"""Value shapes an extract's landed rows have, kept in its manifest record, and the trailing
reference of the source's recent extracts that the expectations compare a new batch with: a unit
change (money sent in cents) or ids of another pattern pass every row rule, but not this.

- money: per store and decimal field, the median of the landed non-zero values (when at least
  `MIN_VALUES`); a batch's median must lie within `MONEY_FACTOR` of the median of the last
  `TRAILING_EXTRACTS` extracts' medians (x100 or /100 fails, a busy or a quiet day does not).
  Zeros carry no unit (a cent is a cent's hundredth, zero stays zero): with them, a quiet day on
  which most orders ship free has a median of 0 and would fail a shop's normal shipping;
- ids: the shape of the first key column (`ord-us-00000002` -> `x-x-9`: alphanumeric runs with a
  letter become x, digit runs 9); most of a batch's ids must have a shape seen recently.
"""

from __future__ import annotations

import re
import statistics

from orchestration.contracts import Contract
from orchestration.landing.manifest import ManifestRecord
from orchestration.lib.sql_quoting import quote_ident, quote_literal

MIN_VALUES = 5
MONEY_FACTOR = 20
TRAILING_EXTRACTS = 7
# Ids are read for their shape from this many rows of an extract: the shape is the source's habit.
SHAPE_SAMPLE_ROWS = 10_000


def money_fields(contract: Contract) -> list[str]:
    return [f.name for f in contract.fields if f.type.startswith("decimal")]


def money_medians(con, contract: Contract, table: str) -> dict[str, dict[str, float]]:
    """Store -> money field -> median of the table's non-zero values, where it has at least MIN_VALUES."""
    fields = money_fields(contract)
    if not fields:
        return {}
    medians = ", ".join(
        f"CASE WHEN count(*) FILTER ({_non_zero(f)}) >= {MIN_VALUES}"
        f" THEN (median({quote_ident(f)}) FILTER ({_non_zero(f)}))::DOUBLE END"
        for f in fields
    )
    rows = con.execute(f"SELECT store_id, {medians} FROM {table} GROUP BY 1 ORDER BY 1").fetchall()
    by_store = {store: {f: v for f, v in zip(fields, values, strict=True) if v is not None} for store, *values in rows}
    return {store: medians for store, medians in by_store.items() if medians}


def non_zero_condition(field: str) -> str:
    """The pandas row condition of a money field's non-zero values (the suite's median filter)."""
    return f"{field}!=0"


# A clause of the pandas row conditions the suite writes: `column==value` or `column!=value`.
_CLAUSE = re.compile(r"""^(\w+)\s*(==|!=)\s*('[^']*'|"[^"]*"|-?\d+(?:\.\d+)?)$""")


def row_condition_sql(condition: str) -> str:
    """SQL of a pandas row condition of `_CLAUSE`s joined by `and`, such as
    `store_id=='us' and shipping_amount!=0`; anything else is an error, never a guess."""
    clauses = []
    for clause in condition.split(" and "):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise ValueError(f"row condition {condition!r}: no SQL for {clause!r}")
        column, operator, value = match.groups()
        literal = quote_literal(value[1:-1]) if value[0] in "'\"" else value
        clauses.append(f"{quote_ident(column)} {'=' if operator == '==' else '<>'} {literal}")
    return " AND ".join(clauses)


def _non_zero(field: str) -> str:
    return row_condition_sql(non_zero_condition(field))


def _shape_sql(column: str) -> str:
    with_a_letter = "'[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*'"
    return f"regexp_replace(regexp_replace({column}, {with_a_letter}, 'x', 'g'), '[0-9]+', '9', 'g')"


def id_column(contract: Contract) -> str | None:
    """The first text column of the key: the ids whose shape is checked."""
    return next((k for k in contract.primary_key if contract.field(k).is_text), None)


def key_shapes(con, contract: Contract, table: str) -> dict[str, int]:
    if id_column(contract) is None:
        return {}
    key = quote_ident(id_column(contract))
    rows = con.execute(
        f"SELECT {_shape_sql(key)} AS shape, count(*) FROM (SELECT {key} FROM {table} LIMIT {SHAPE_SAMPLE_ROWS}) "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return dict(rows)


def shape_regex(shapes: list[str]) -> str:
    """A regular expression matching ids of any of the shapes."""

    def pattern(shape: str) -> str:
        return "".join({"x": "[A-Za-z0-9]+", "9": "[0-9]+"}.get(c, re.escape(c)) for c in shape)

    return "^(?:" + "|".join(pattern(s) for s in sorted(shapes)) + ")$"


def trailing_reference(records: list[ManifestRecord]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """From the source's landed records, oldest first: the reference median per store and money
    field over its last TRAILING_EXTRACTS extracts' medians, and the id shapes they had."""
    landed = [r for r in sorted(records, key=lambda r: r.sequence) if r.status == "landed"]
    series: dict[tuple[str, str], list[float]] = {}
    for record in landed:
        for store, medians in record.medians_by_store.items():
            for name, value in medians.items():
                series.setdefault((store, name), []).append(value)
    medians: dict[str, dict[str, float]] = {}
    for (store, name), values in series.items():
        medians.setdefault(store, {})[name] = statistics.median(values[-TRAILING_EXTRACTS:])
    shapes = sorted({s for r in landed[-TRAILING_EXTRACTS:] for s in r.key_shapes})
    return medians, shapes
