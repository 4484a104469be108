"""Great Expectations suites derived from the extract contracts, run on each landed batch.

Row rules already sent bad rows to quarantine; these are batch-level expectations on what
landed (row count, key uniqueness within the batch, value sets, null fractions, ranges),
plus the share of the extract that was quarantined. A failure blocks everything downstream.

The GE suite is the definition and the report, but the batch is not converted to pandas (for
millions of rows that cost more than parsing them): DuckDB computes, over the batch's Parquet
files, the few metrics each expectation reads (row count, null and unexpected counts, the first
unexpected values, a median), and each expectation's own GE `_validate` turns them into its
result, as GE's validator does with the metrics it computes itself. `tests/test_expectations.py`
proves the results equal GE's own pandas evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.contracts import Contract
from orchestration.landing.manifest import ManifestRecord
from orchestration.landing.profile import MONEY_FACTOR, id_column, non_zero_condition, row_condition_sql, shape_regex
from orchestration.lib.in_memory_duckdb import connect
from orchestration.lib.sql_quoting import quote_ident, quote_literal

# The trailing reference (profile.trailing_reference): medians by store and field, id shapes.
Shapes = tuple[dict[str, dict[str, float]], list[str]]
Medians = dict[str, dict[str, float]]

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# (record, partition day) -> the file holding that record's rows of that day.
PartitionFile = Callable[[ManifestRecord, str], Path]


def build_suite(contract: Contract, expect_rows: bool, shapes: Shapes, medians: Medians):
    """The suite of a batch; `shapes` is the source's trailing reference (profile.py), and
    `medians` the batch's own money medians by store, which say where a median can be checked."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    expectations = []
    add = expectations.append
    reference_medians, key_shapes = shapes
    for store, fields in sorted(medians.items()):
        for name in sorted(fields):
            reference = reference_medians.get(store, {}).get(name, 0)
            if reference > 0:  # a unit change (cents for units) moves the median by x100
                add(
                    gxe.ExpectColumnMedianToBeBetween(
                        column=name,
                        min_value=reference / MONEY_FACTOR,
                        max_value=reference * MONEY_FACTOR,
                        row_condition=f"store_id=={store!r} and {non_zero_condition(name)}",
                        condition_parser="pandas",
                    )
                )
    if key_shapes and id_column(contract):  # most ids have a shape the source's recent ids had
        add(gxe.ExpectColumnValuesToMatchRegex(column=id_column(contract), regex=shape_regex(key_shapes), mostly=0.5))
    if expect_rows:
        add(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    # A re-exported record legitimately repeats its key in later extracts of the same run, so
    # for mutable sources the key must be unique per extract; immutable keys are unique outright.
    key = list(contract.primary_key) if contract.immutable else [*contract.primary_key, "_extract_id"]
    if len(key) == 1:
        add(gxe.ExpectColumnValuesToBeUnique(column=key[0]))
    else:
        add(gxe.ExpectCompoundColumnsToBeUnique(column_list=key))
    for f in contract.columns:
        if f.required:
            add(gxe.ExpectColumnValuesToNotBeNull(column=f.name))
        elif f.max_null_fraction is not None:
            add(gxe.ExpectColumnValuesToNotBeNull(column=f.name, mostly=1 - f.max_null_fraction))
        if f.allowed:
            add(gxe.ExpectColumnValuesToBeInSet(column=f.name, value_set=list(f.allowed)))
        if f.min is not None or f.max is not None:
            add(gxe.ExpectColumnValuesToBeBetween(column=f.name, min_value=f.min, max_value=f.max))
    return gx.ExpectationSuite(name=f"{contract.name}_landed_batch", expectations=expectations)


# GE's BASIC result format lists this many unexpected values.
PARTIAL_UNEXPECTED = 20
BATCH_VIEW = "landed_batch"


def batch_view(con: duckdb.DuckDBPyConnection, files: list[Path], columns: list[str]) -> None:
    """BATCH_VIEW over the files, in their order (`_ord`), money as DOUBLE as GE's pandas frame had it.

    Files of one source differ in nullability (DuckDB writes a column as required in a file where
    it holds no NULL), so they are read by name into one schema."""
    listed = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
    source = (
        f"read_parquet({listed}, union_by_name = true, hive_partitioning = false, filename = true, "
        f"file_row_number = true)"
    )
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall())
    selected = ", ".join(
        f"CAST({quote_ident(c)} AS DOUBLE) AS {quote_ident(c)}" if types[c].startswith("DECIMAL") else quote_ident(c)
        for c in columns
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {BATCH_VIEW} AS SELECT {selected}, "
        f"list_position({listed}, filename)::BIGINT * {1 << 40} + file_row_number AS _ord FROM {source}"
    )


def _processing_order(expectations: list) -> list:
    """The expectations in the order GE's validator evaluates and reports them: grouped by column,
    in the order each column first appears, table-level and multi-column ones as one group."""
    groups: dict[str, list] = {}
    for expectation in expectations:
        groups.setdefault(getattr(expectation, "column", None) or "_nocolumn", []).append(expectation)
    return [e for group in groups.values() for e in group]


def _unexpected_condition(expectation) -> str | None:
    """SQL over BATCH_VIEW: a non-null row the column map expectation does not expect."""
    column = quote_ident(expectation.column)
    match expectation.expectation_type:
        case "expect_column_values_to_be_in_set":
            allowed = ", ".join(quote_literal(str(v)) for v in expectation.value_set)
            return f"CAST({column} AS VARCHAR) NOT IN ({allowed})"
        case "expect_column_values_to_be_between":
            # Casts are no-ops on the batch's numbers; an empty batch has text columns (validate_batch).
            bounds = [(f"CAST({column} AS DOUBLE) < {expectation.min_value}", expectation.min_value)]
            bounds.append((f"CAST({column} AS DOUBLE) > {expectation.max_value}", expectation.max_value))
            return " OR ".join(sql for sql, bound in bounds if bound is not None) or "false"
        case "expect_column_values_to_match_regex":
            return f"NOT regexp_matches(CAST({column} AS VARCHAR), {quote_literal(expectation.regex)})"
    return None


def _plan(expectation) -> tuple[dict[str, str], str | None, str | None, str | None]:
    """What DuckDB computes for an expectation: the SQL aggregate over BATCH_VIEW of each metric its
    GE `_validate` reads (`table.row_count` aside), and, for a map expectation, the name of its
    unexpected-values metric, the value to list and the condition of an unexpected row."""
    kind = expectation.expectation_type
    if kind == "expect_table_row_count_to_be_between":
        return {}, None, None, None
    if kind == "expect_column_median_to_be_between":
        # The suite's pandas condition (GE keeps it as a pass-through filter).
        condition = str(getattr(expectation.row_condition, "pass_through_filter", expectation.row_condition))
        # DuckDB's median of doubles, as pandas', is the mean of the two middle values.
        median = f"median(CAST({quote_ident(expectation.column)} AS DOUBLE)) FILTER ({row_condition_sql(condition)})"
        return {"column.median": median}, None, None, None
    if kind == "expect_compound_columns_to_be_unique":
        columns = [quote_ident(c) for c in expectation.column_list]
        key = ", ".join(columns)
        considered = " OR ".join(f"{c} IS NOT NULL" for c in columns)  # ignore_row_if all_values_are_missing
        repeated = f"SELECT {key} FROM {BATCH_VIEW} WHERE {considered} GROUP BY ALL HAVING count(*) > 1"
        unexpected = f"({considered}) AND ({key}) IN (SELECT ({key}) FROM ({repeated}))"
        metric = "compound_columns.unique"
        counts = {
            f"{metric}.filtered_row_count": f"count(*) FILTER ({considered})",
            f"{metric}.unexpected_count": f"count(*) FILTER ({unexpected})",
        }
        listed = "struct_pack(" + ", ".join(f"{c} := {c}" for c in columns) + ")"
        return counts, f"{metric}.unexpected_values", listed, unexpected
    column = quote_ident(expectation.column)
    nulls = {"column_values.nonnull.unexpected_count": f"count(*) FILTER ({column} IS NULL)"}
    if kind == "expect_column_values_to_not_be_null":
        return nulls, "column_values.nonnull.unexpected_values", None, None  # the values are all NULL
    if kind == "expect_column_values_to_be_unique":
        where = f"{column} IN (SELECT {column} FROM {BATCH_VIEW} GROUP BY 1 HAVING count(*) > 1)"
    else:
        where = _unexpected_condition(expectation)
    metric = type(expectation).map_metric
    unexpected = f"{column} IS NOT NULL AND ({where})"
    return (
        {**nulls, f"{metric}.unexpected_count": f"count(*) FILTER ({unexpected})"},
        f"{metric}.unexpected_values",
        column,
        unexpected,
    )


def _metrics(con, expectations: list) -> list[dict]:
    """The metrics of each expectation, computed in one scan of BATCH_VIEW (the first unexpected
    values, in row order, only where some row is unexpected: a passing batch lists none)."""
    plans = [_plan(e) for e in expectations]
    aggregates = ["count(*)"] + [sql for counts, *_ in plans for sql in counts.values()]
    [row] = con.execute(f"SELECT {', '.join(aggregates)} FROM {BATCH_VIEW}").fetchall()
    row_count, values = row[0], iter(row[1:])
    metrics = []
    for counts, listing, value, unexpected in plans:
        found = {"table.row_count": row_count, **{name: next(values) for name in counts}}
        if listing:
            count = found.get(listing.replace("unexpected_values", "unexpected_count"))
            found[listing] = [None] * min(count, PARTIAL_UNEXPECTED) if value is None else []
            if count and value is not None:
                [(first,)] = con.execute(
                    f"SELECT min_by({value}, _ord, {PARTIAL_UNEXPECTED}) FROM {BATCH_VIEW} WHERE {unexpected}"
                ).fetchall()
                found[listing] = first
        metrics.append(found)
    return metrics


def evaluate_suite(con: duckdb.DuckDBPyConnection, suite):
    """GE's validation result of the suite over BATCH_VIEW (result format BASIC: counts and the
    first unexpected values), each expectation judged by its own GE `_validate` on metrics DuckDB
    computed."""
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult

    expectations = _processing_order(list(suite.expectations))
    runtime = {"result_format": "BASIC"}
    results = []
    for expectation, metrics in zip(expectations, _metrics(con, expectations), strict=True):
        outcome = expectation._validate(metrics=metrics, runtime_configuration=runtime)
        results.append(
            ExpectationValidationResult(
                success=outcome["success"],
                result=outcome.get("result", {}),
                expectation_config=expectation.configuration,
            )
        )
    succeeded = sum(r.success for r in results)
    statistics = {
        "evaluated_expectations": len(results),
        "successful_expectations": succeeded,
        "unsuccessful_expectations": len(results) - succeeded,
        "success_percent": succeeded / len(results) * 100 if results else None,
    }
    return ExpectationSuiteValidationResult(
        success=succeeded == len(results), results=results, suite_name=suite.name, statistics=statistics
    )


def validate_batch(
    contract: Contract, records: list[ManifestRecord], locate: PartitionFile, reference: Shapes
) -> list[str]:
    """Failures of the batch one landing run wrote for a source (empty when it passes); `locate`
    says where a record's partition file is before it is published.

    The batch is everything the run landed, so the suite runs once per run: GE's cost is
    mostly fixed per validation, and a backfill lands many extracts in one run. A rejected
    file is no part of it: it fails on its own, and the good extracts beside it still land.
    """
    failures = []
    for record in records:
        if record.status == "rejected":
            continue
        share = record.rows_quarantined / record.rows_received if record.rows_received else 0.0
        if share > contract.max_quarantine_fraction:
            reasons = ", ".join(f"{reason}: {rows}" for reason, rows in record.quarantined_by_reason.items())
            failures.append(
                f"{record.file}: {record.rows_quarantined} of {record.rows_received} rows quarantined ({reasons}), "
                f"more than {contract.max_quarantine_fraction:.0%}"
            )
    landed = [r for r in records if r.status == "landed"]
    if not landed:
        return failures
    # An extract with rows must land some, unless all it held named erased subjects or repeated
    # rows already landed (a source re-sending an export).
    medians: Medians = {}
    for record in landed:
        for store, fields in record.medians_by_store.items():
            medians.setdefault(store, {}).update(fields)
    suite = build_suite(
        contract,
        expect_rows=any(r.rows_received - r.rows_erased_subject - r.duplicates_dropped for r in landed),
        shapes=reference,
        medians=medians,
    )
    columns = sorted({c for e in suite.expectations for c in _columns_of(e)} | {"store_id"})
    files = [locate(record, day) for record in landed for day in sorted(record.rows_by_partition)]
    with connect() as con:
        if files:
            batch_view(con, files, columns)
        else:  # nothing landed: an empty batch of the suite's columns
            empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {quote_ident(c)}" for c in columns)
            con.execute(f"CREATE TEMP VIEW {BATCH_VIEW} AS SELECT {empty}, 0::BIGINT AS _ord LIMIT 0")
        outcome = evaluate_suite(con, suite)
    for result in outcome.results:
        if not result.success:
            config = result.expectation_config
            column = config.kwargs.get("column") or config.kwargs.get("column_list")
            if condition := config.kwargs.get("row_condition"):  # GE keeps a pandas condition in a dict
                column = f"{column} where {condition.get('pass_through_filter', condition)}"
            if "unexpected_count" in result.result:
                failures.append(f"{config.type}({column}): {result.result['unexpected_count']} unexpected")
            else:
                failures.append(f"{config.type}({column}): observed {result.result.get('observed_value')}")
    return failures


def _columns_of(expectation) -> list[str]:
    if getattr(expectation, "column", None):
        return [expectation.column]
    return list(getattr(expectation, "column_list", None) or [])
