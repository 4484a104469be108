"""The stores' back-office FX feed: every day's USD rate of the store's currency.

The rates are a reference table of the source system (fx_reference_rates.csv: a seeded random walk
around late-2026 levels, 2025-01-01 to 2027-12-31), whose monthly means are the warehouse's
fallback seed (seeds/fx_rates_monthly.csv); past its last date the feed goes on at the currency's
last rate, so a window of any date has its rates delivered."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from .clock import HOUR_MS, Window, epoch_ms
from .writers import Extract

REFERENCE_RATES = Path(__file__).resolve().parent / "fx_reference_rates.csv"
SCALE = 10**8  # usd_per_unit is decimal(18,8)


@cache
def _reference() -> dict[str, dict[date, int]]:
    rates: dict[str, dict[date, int]] = {}
    with REFERENCE_RATES.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            scaled = int(Decimal(row["usd_per_unit"]) * SCALE)
            rates.setdefault(row["currency"], {})[date.fromisoformat(row["rate_date"])] = scaled
    return rates


def rate(currency: str, day: date) -> int:
    """The rate of `day` in units of 10**-8 USD: the reference's, else its last before `day`."""
    known = _reference()[currency]
    if day in known:
        return known[day]
    earlier = [d for d in known if d < day]
    return known[max(earlier)] if earlier else known[min(known)]


def fx_extract(store_id: str, currency: str, window: Window) -> Extract:
    """One rate per local date an amount of the window can fall on: the day before the window (a
    store west of UTC dates its first orders there) to its last day, each published at 06:00 UTC
    of its date (the day before the window's at the window's start)."""
    days = [window.start + timedelta(days=d) for d in range(-1, window.days)]
    published = np.array([max(epoch_ms(d) + 6 * HOUR_MS, window.start_ms) for d in days], dtype=np.int64)
    n = len(days)
    return Extract(
        "fx_rates",
        {
            "store_id": pa.array([store_id] * n),
            "rate_date": np.array([(d - date(1970, 1, 1)).days for d in days], dtype=np.int64),
            "currency": pa.array([currency] * n),
            "usd_per_unit": np.array([rate(currency, d) for d in days], dtype=np.int64),
            "published_at": published,
        },
        export_ms=published,
    )
