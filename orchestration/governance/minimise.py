"""Data minimised at landing: what a landed column holds is no more than the warehouse needs.

An IP address is written to raw truncated to its network, IPv4 to its /24 (`192.0.2.10` ->
`192.0.2.0`), IPv6 to its /48 (its first three groups, `2001:db8:1::`), anything else NULL: the
full address never reaches a Parquet file. Staging coarsens it the same way (macros/truncate_ip.sql),
which leaves a truncated address as it is and covers files landed before this rule.
"""

from __future__ import annotations

from orchestration.contracts import Contract, Field
from orchestration.lib.sql_quoting import quote_ident

# Fields holding a client's IP address: (extract, field).
IP_ADDRESSES = {("events", "ip")}


def truncated_ip(column: str) -> str:
    """SQL (DuckDB): the network of the address in `column` (quoted)."""
    ipv4 = r"'[0-9]{1,3}(\.[0-9]{1,3}){3}'"
    return f"""CASE
        WHEN {column} LIKE '%:%' THEN array_to_string(list_slice(string_split({column}, ':'), 1, 3), ':') || '::'
        WHEN regexp_full_match({column}, {ipv4}) THEN regexp_replace({column}, '\\.[0-9]+$', '.0')
    END"""


def landed_column(contract: Contract, field: Field) -> str:
    """SQL select item writing `field` to raw, minimised where a rule applies."""
    column = quote_ident(field.name)
    if (contract.name, field.name) in IP_ADDRESSES:
        return f"{truncated_ip(column)} AS {column}"
    return column
