"""The generator's FX feed: the reference rates, their last after the reference ends, and one
rate per local date an amount of the window can fall on."""

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

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


def test_the_fallback_seed_holds_each_months_mean_of_the_published_rates():
    """seeds/fx_rates_monthly.csv: per currency and month of the reference, the mean of its daily
    rates to 8 decimals, half up; 8 currencies over 36 months."""
    daily: dict[tuple[str, str], list[Decimal]] = {}
    with REFERENCE_RATES.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            daily.setdefault((row["rate_date"][:7] + "-01", row["currency"]), []).append(Decimal(row["usd_per_unit"]))
    with Path("seeds/fx_rates_monthly.csv").open(newline="", encoding="utf-8") as handle:
        monthly = {(r["rate_month"], r["currency"]): Decimal(r["usd_per_unit"]) for r in csv.DictReader(handle)}
    assert len(monthly) == 8 * 36
    assert monthly == {
        key: (sum(rates) / len(rates)).quantize(Decimal("0.00000001"), ROUND_HALF_UP) for key, rates in daily.items()
    }
    assert monthly[("2026-11-01", "USD")] == 1
    assert len(daily[("2027-02-01", "GBP")]) == 28 and len(daily[("2026-10-01", "GBP")]) == 31
