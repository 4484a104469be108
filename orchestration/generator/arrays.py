"""Vectorised helpers for rows grouped by a key (the rows of a group are consecutive)."""

from __future__ import annotations

import numpy as np


def first_occurrence(keys: np.ndarray) -> np.ndarray:
    """True where a key appears for the first time."""
    first = np.zeros(len(keys), dtype=bool)
    first[np.unique(keys, return_index=True)[1]] = True
    return first


def group_starts(groups: np.ndarray) -> np.ndarray:
    return np.r_[True, groups[1:] != groups[:-1]] if len(groups) else np.zeros(0, dtype=bool)


def rank_in_group(groups: np.ndarray) -> np.ndarray:
    """0-based position of each row within its group."""
    starts = np.flatnonzero(group_starts(groups))
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))


def cumsum_in_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running total of values within each group, the row itself included."""
    total = np.cumsum(values)
    starts = np.flatnonzero(group_starts(groups))
    return total - np.repeat(total[starts] - values[starts], np.diff(np.r_[starts, len(groups)]))
