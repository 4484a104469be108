"""Render the dbt source definitions of the landed Parquet from the extract contracts, so the
two can never disagree: every landed column, its type and its PII class come from one place.
One dbt source per source system (`source('oms', 'orders')`), all in the schema `raw`."""

from __future__ import annotations

from itertools import groupby

import yaml

from orchestration.contracts import Contract, load_contracts

SOURCES_FILE = "models/staging/_raw__sources.yml"
# Columns landing adds to every file, and the hive partition column: type and doc block (models/_docs.md).
LINEAGE = (
    ("_extract_id", "varchar", "extract_id"),
    ("_row_number", "bigint", "row_number"),
    ("_landed_at", "timestamptz", "landed_at"),
    ("_landing_order", "bigint", "landing_order"),
    ("date", "date", "partition_date"),
)


class _Line(dict):
    """A mapping written on one line (a column entry, as in seeds/_seeds.yml)."""


# Where every landed table is read and how fresh it must be.
LANDED = {
    "meta": {
        "raw_root": "{{ env_var('DATA_DIR', 'data') }}/raw",
        "external_location": "read_parquet('{raw_root}/{name}/date=*/part-*.parquet', hive_partitioning = true)",
    },
    "loaded_at_field": "_landed_at",
    "freshness": _Line(warn_after=_Line(count=1, period="day"), error_after=_Line(count=3, period="day")),
}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # the shared LANDED config is written out in each source
        return True


_Dumper.add_representer(_Line, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True))


def _column(name: str, data_type: str, description: str, pii: str, allowed: tuple[str, ...] | None = None) -> _Line:
    # `allowed`: the values landing admits, which the contract_values test checks again in dbt.
    meta = _Line(pii=pii, allowed=list(allowed)) if allowed else _Line(pii=pii)
    return _Line(name=name, data_type=data_type, description=description, meta=meta)


def _table(contract: Contract) -> dict:
    columns = [_column(f.name, f.sql_type.lower(), f.description, f.pii, f.allowed) for f in contract.columns]
    columns += [_column(name, data_type, f'{{{{ doc("{doc}") }}}}', "none") for name, data_type, doc in LINEAGE]
    return {
        "name": contract.name,
        "description": contract.description,
        "meta": _Line(primary_key=list(contract.primary_key)),
        "columns": columns,
    }


def _source(system: str, contracts: list[Contract]) -> dict:
    return {
        "name": system,
        "description": f"Extracts of the `{system}` system, landed as dated Parquet in $DATA_DIR/raw/<table>.",
        "schema": "raw",
        "config": LANDED,
        "tables": [_table(c) for c in contracts],
    }


def render_sources() -> str:
    by_system = groupby(
        sorted(load_contracts().values(), key=lambda c: (c.source_system, c.name)), lambda c: c.source_system
    )
    sources = [_source(system, list(contracts)) for system, contracts in by_system]
    header = "# Generated from orchestration/contracts by `make contracts`; do not edit by hand.\n"
    body = yaml.dump({"version": 2, "sources": sources}, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)
    return header + body
