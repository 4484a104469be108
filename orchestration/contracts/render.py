"""Render the extract contracts as Markdown, for the README and `commerce-analytics contracts`."""

from __future__ import annotations

from orchestration.contracts import Contract, Field, load_contracts

REFERENCE_FILE = "orchestration/contracts/README.md"


def _rule(field: Field) -> str:
    rules = []
    if field.allowed:
        rules.append("one of " + ", ".join(f"`{v}`" for v in field.allowed))
    if field.min is not None or field.max is not None:
        rules.append(f"in [{'' if field.min is None else field.min}, {'' if field.max is None else field.max}]")
    if field.pattern:
        rules.append(f"matches `{field.pattern}`")
    if field.not_before:
        rules.append(f"not before `{field.not_before}`")
    return "; ".join(rules)


def _lateness(contract: Contract) -> str:
    if contract.arrival_field:
        return (
            f" Late: `{contract.arrival_field}` more than {contract.late_after_hours} hours"
            f" after `{contract.partition_by}`."
        )
    return " Late: dated more than a day before the newest date already landed."


def _table(contract: Contract) -> list[str]:
    lines = [
        f"### `{contract.name}` ({contract.source_system}, {contract.format}, `{contract.file_pattern}`)",
        "",
        contract.description,
        "",
        f"Key: `{', '.join(contract.primary_key)}`; partitioned by the UTC date of `{contract.partition_by}`; "
        + ("immutable (re-sent copies are dropped)." if contract.immutable else "re-exported on change.")
        + _lateness(contract)
        + (" Reference data: exported when it changes, not daily." if contract.exported_on_change else ""),
        "",
        "| field | in the file | type | required | rule | PII | description |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in contract.fields:
        lines.append(
            f"| `{f.name}` | `{f.source_path}` | {f.type} | {'yes' if f.required else ''} | {_rule(f)} "
            f"| {f.pii} | {f.description} |"
        )
    for f in contract.derived:
        required = "yes" if f.required else ""
        lines.append(f"| `{f.name}` | derived | {f.type} | {required} | | {f.pii} | {f.description} |")
    return [*lines, ""]


def render_markdown() -> str:
    lines = [
        "# Extract contracts",
        "",
        "Generated from the YAML beside it by `make contracts`; do not edit by hand.",
        "",
    ]
    for contract in load_contracts().values():
        lines += _table(contract)
    return "\n".join(lines)
