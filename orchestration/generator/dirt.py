"""Planted defects. Every dirty row gets exactly one defect, so its fate downstream is unambiguous, and
every defect is counted for the truth file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import DirtRates


def pick_exclusive(rng: np.random.Generator, eligible: np.ndarray, rates: list[float]) -> np.ndarray:
    """Per row the index of the one defect it gets, -1 for none; one uniform draw per row keeps the kinds
    mutually exclusive."""
    draw = rng.random(len(eligible))
    edges = np.cumsum(rates)
    kind = np.searchsorted(edges, draw, side="right")
    return np.where(eligible & (kind < len(rates)), kind, -1)


@dataclass(frozen=True)
class CellDefect:
    """A malformed CSV value and the quarantine reason landing must give it."""

    reason: str  # missing_required | invalid_type | not_allowed | out_of_range
    field: str
    rate: float
    corrupt: Callable[[pa.StringArray], pa.Array]

    @property
    def label(self) -> str:
        return f"{self.reason}:{self.field}"


def cell_defects(rates: DirtRates) -> dict[str, list[CellDefect]]:
    return {
        "orders": [
            CellDefect("not_allowed", "currency", rates.order_unknown_currency, lambda v: pa.repeat("XXX", len(v)))
        ],
        "order_items": [
            CellDefect(
                "out_of_range",
                "quantity",
                rates.order_item_negative_quantity,
                lambda v: pc.binary_join_element_wise("-", v, ""),
            ),
            CellDefect("invalid_type", "quantity", rates.order_item_text_quantity, lambda v: pa.repeat("two", len(v))),
        ],
        "customers": [
            CellDefect(
                "missing_required", "email", rates.customer_missing_email, lambda v: pa.nulls(len(v), pa.string())
            )
        ],
    }


def plant_cell_defects(
    rng: np.random.Generator, columns: dict[str, pa.StringArray], defects: list[CellDefect]
) -> dict[str, int]:
    """Corrupt cells in place; returns the count per `reason:field`."""
    n = len(next(iter(columns.values())))
    kind = pick_exclusive(rng, np.ones(n, dtype=bool), [d.rate for d in defects])
    counts = {}
    for k, defect in enumerate(defects):
        hit = kind == k
        counts[defect.label] = int(hit.sum())
        if hit.any():
            column = columns[defect.field]
            bad = defect.corrupt(column.filter(pa.array(hit))).cast(pa.string())
            columns[defect.field] = pc.replace_with_mask(column, pa.array(hit), bad)
    return counts


def duplicate_rows(rng: np.random.Generator, n: int, rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
    """Row order with some rows (of the `eligible` ones) sent twice in a row (same primary key, same values)."""
    again = rng.random(n) < rate
    if eligible is not None:
        again &= eligible
    return np.sort(np.r_[np.arange(n), np.flatnonzero(again)], kind="stable")
