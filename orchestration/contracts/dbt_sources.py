"""Render the dbt source definition of the landed Parquet from the extract contracts, so the
two can never disagree: every landed column, its type and its PII class come from one place."""

from __future__ import annotations

import yaml

from orchestration.contracts import Contract, load_contracts

SOURCES_FILE = "models/staging/_raw__sources.yml"
# Columns landing adds to every file, and the hive partition column.
LINEAGE = (
    ("_extract_id", "varchar", "Content hash (first 16 hex digits) of the extract the row came from."),
    ("_row_number", "bigint", "Position of the row among the rows read from its extract."),
    ("_landed_at", "timestamptz", "When the extract was landed (to the second; extracts landed together tie)."),
    (
        "_landing_order",
        "bigint",
        "Order of landing: the extract's landing sequence x 10^10 + the row number; re-exports keep the highest.",
    ),
    ("date", "date", "UTC date of the row's partition column (hive partition)."),
)


def _column(name: str, data_type: str, description: str, pii: str) -> dict:
    return {"name": name, "data_type": data_type, "description": description, "meta": {"pii": pii}}


def _table(contract: Contract) -> dict:
    columns = [_column(f.name, f.sql_type.lower(), f.description, f.pii) for f in contract.columns]
    columns += [_column(name, data_type, description, "none") for name, data_type, description in LINEAGE]
    return {
        "name": contract.name,
        "description": f"{contract.description} Landed from the `{contract.source_system}` system.",
        "meta": {"source_system": contract.source_system, "primary_key": list(contract.primary_key)},
        "columns": columns,
    }


def render_sources() -> str:
    source = {
        "name": "raw",
        "description": "Landed extracts: typed, date-partitioned Parquet under $DATA_DIR/raw, one folder per extract.",
        "config": {
            "meta": {
                "raw_root": "{{ env_var('DATA_DIR', 'data') }}/raw",
                "external_location": (
                    "read_parquet('{raw_root}/{name}/date=*/part-*.parquet', hive_partitioning = true)"
                ),
            },
            "loaded_at_field": "_landed_at",
            "freshness": {
                "warn_after": {"count": 1, "period": "day"},
                "error_after": {"count": 3, "period": "day"},
            },
        },
        "tables": [_table(c) for c in load_contracts().values()],
    }
    header = "# Generated from orchestration/contracts by `make contracts`; do not edit by hand.\n"
    body = yaml.safe_dump({"version": 2, "sources": [source]}, sort_keys=False, width=200, allow_unicode=True)
    return header + body
