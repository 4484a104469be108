"""The generator's FX feed: the fallback seed's rates, its last rate after the seed ends, and one
rate per local date an amount of the window can fall on."""

import csv
from datetime import date
from decimal import Decimal

from orchestration.generator.clock import Window
from orchestration.generator.fx import REFERENCE_RATES, fx_extract, rate


def seed_rate(currency: str, day: str) -> int:
    with REFERENCE_RATES.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["currency"] == currency and row["rate_date"] == day:
                return int(Decimal(row["usd_per_unit"]) * 10**8)
    raise KeyError(day)


def test_rates_are_the_seeds_and_its_last_after_it_ends():
    assert rate("GBP", date(2026, 10, 31)) == seed_rate("GBP", "2026-10-31") == 125683186
    assert rate("USD", date(2026, 11, 1)) == 10**8
    assert rate("JPY", date(2028, 3, 1)) == rate("JPY", date(2027, 12, 31)) == seed_rate("JPY", "2027-12-31")


def test_one_rate_from_the_day_before_the_window_to_its_last_day():
    extract = fx_extract("uk", "GBP", Window(date(2027, 12, 30), 3))
    days = [date.fromordinal(date(1970, 1, 1).toordinal() + int(d)) for d in extract.columns["rate_date"]]
    assert days == [date(2027, 12, 29), date(2027, 12, 30), date(2027, 12, 31), date(2028, 1, 1)]
    assert list(extract.columns["usd_per_unit"]) == [rate("GBP", d) for d in days]
    assert extract.columns["usd_per_unit"][-1] == extract.columns["usd_per_unit"][-2]
    # the day before the window is published with the window's first file
    window_start_ms = Window(date(2027, 12, 30), 3).start_ms
    assert extract.export_ms[0] == window_start_ms
    assert list(extract.export_ms[1:] - window_start_ms) == [6 * 3600_000 + k * 86_400_000 for k in range(3)]
