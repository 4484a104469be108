"""Great Expectations suites derived from the extract contracts, run on each landed batch.

Row rules already sent bad rows to quarantine; these are batch-level expectations on what
landed (row count, key uniqueness within the batch, value sets, null fractions, ranges),
plus the share of the extract that was quarantined. A failure blocks everything downstream.
GE 1.x has no DuckDB datasource, so the batch is validated as a pandas frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
import pyarrow.parquet as pq

from orchestration.contracts import Contract
from orchestration.landing.manifest import ManifestRecord
from orchestration.settings import DataPaths

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass
class BatchValidation:
    extract_id: str
    success: bool
    failures: list[str] = field(default_factory=list)
    evaluated: int = 0


def build_suite(contract: Contract, expect_rows: bool):
    import great_expectations as gx
    import great_expectations.expectations as gxe

    expectations = []
    if expect_rows:
        expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    if len(contract.primary_key) == 1:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=contract.primary_key[0]))
    else:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(contract.primary_key)))
    for f in contract.columns:
        if f.required:
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=f.name))
        elif f.max_null_fraction is not None:
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=f.name, mostly=1 - f.max_null_fraction))
        if f.allowed:
            expectations.append(gxe.ExpectColumnValuesToBeInSet(column=f.name, value_set=list(f.allowed)))
        if f.min is not None or f.max is not None:
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=f.name, min_value=f.min, max_value=f.max))
    return gx.ExpectationSuite(name=f"{contract.name}_landed_batch", expectations=expectations)


@cache
def _batch_definition(source: str):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _context()
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas(f"landed_{source}").add_dataframe_asset(source)
    return asset.add_batch_definition_whole_dataframe("batch"), gx


@cache
def _context():
    import great_expectations as gx

    return gx.get_context(mode="ephemeral")


def landed_batch(paths: DataPaths, record: ManifestRecord, columns: list[str]) -> pd.DataFrame:
    """The rows one extract landed, across all the partitions it wrote."""
    files = [
        paths.raw_for(record.source) / f"date={day}" / f"part-{record.extract_id}.parquet"
        for day in sorted(record.rows_by_partition)
    ]
    if not files:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat([pq.read_table(f, columns=columns).to_pandas() for f in files], ignore_index=True)


def validate_landed(paths: DataPaths, contract: Contract, record: ManifestRecord) -> BatchValidation:
    result = BatchValidation(extract_id=record.extract_id, success=True)
    if record.rows_received and record.rows_quarantined / record.rows_received > contract.max_quarantine_fraction:
        result.failures.append(
            f"{record.rows_quarantined} of {record.rows_received} rows quarantined, "
            f"more than {contract.max_quarantine_fraction:.0%}"
        )
    suite = build_suite(contract, expect_rows=record.rows_received > 0)
    columns = sorted({c for e in suite.expectations for c in _columns_of(e)})
    batch_definition, _ = _batch_definition(contract.name)
    frame = landed_batch(paths, record, columns)
    outcome = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    result.evaluated = len(outcome.results) + 1
    for r in outcome.results:
        if not r.success:
            config = r.expectation_config
            column = config.kwargs.get("column") or config.kwargs.get("column_list")
            unexpected = r.result.get("unexpected_count", r.result.get("observed_value"))
            result.failures.append(f"{config.type}({column}): {unexpected} unexpected")
    result.success = not result.failures
    return result


def _columns_of(expectation) -> list[str]:
    if getattr(expectation, "column", None):
        return [expectation.column]
    return list(getattr(expectation, "column_list", None) or [])
