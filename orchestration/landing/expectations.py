"""Great Expectations suites derived from the extract contracts, run on each landed batch.

Row rules already sent bad rows to quarantine; these are batch-level expectations on what
landed (row count, key uniqueness within the batch, value sets, null fractions, ranges),
plus the share of the extract that was quarantined. A failure blocks everything downstream.
GE 1.x has no DuckDB datasource, so the batch is validated as a pandas frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.contracts import Contract
from orchestration.landing.manifest import ManifestRecord
from orchestration.landing.profile import MONEY_FACTOR, id_column, shape_regex

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
                        row_condition=f"store_id=={store!r}",
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


@cache
def _batch_definition(source: str):
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _context()
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas(f"landed_{source}").add_dataframe_asset(source)
    return asset.add_batch_definition_whole_dataframe("batch")


@cache
def _context():
    import great_expectations as gx

    return gx.get_context(mode="ephemeral")


def landed_batch(records: list[ManifestRecord], columns: list[str], locate: PartitionFile) -> pd.DataFrame:
    """The rows some extracts landed, across all the partitions they wrote."""
    files = [locate(record, day) for record in records for day in sorted(record.rows_by_partition)]
    if not files:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    # Files of one source differ in nullability (DuckDB writes a column as required in a file where
    # it holds no NULL), so the tables are unified to one schema.
    table = pa.concat_tables([pq.read_table(f, columns=columns) for f in files], promote_options="permissive")
    # Money as floats: pandas takes no median of Decimal objects, and the checks need no cent.
    as_float = [pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
    return table.cast(pa.schema(as_float)).to_pandas()


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
    frame = landed_batch(landed, columns, locate)
    batch = _batch_definition(contract.name).get_batch(batch_parameters={"dataframe": frame})
    # BASIC still counts unexpected rows; the default SUMMARY also lists their values, which
    # costs as much again and is not reported.
    outcome = batch.validate(suite, result_format="BASIC")
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
