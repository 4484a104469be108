"""When people shop: an hourly intensity per store in the store's local time, with a daily curve, a
weekly curve and mild growth over the window."""

from __future__ import annotations

import numpy as np

from .clock import DAY_MS, HOUR_MS, LocalClock, Window

# share of a day's traffic per local hour: quiet nights, a lunch bump and an evening peak
HOURLY = np.array(
    [
        1.6,
        1.0,
        0.7,
        0.5,
        0.45,
        0.55,
        1.0,
        1.9,
        2.9,
        3.6,
        4.1,
        4.5,
        5.0,
        4.9,
        4.6,
        4.5,
        4.6,
        5.0,
        5.6,
        6.4,
        6.9,
        6.6,
        5.0,
        3.0,
    ]
)
WEEKDAY = np.array([0.97, 0.95, 0.96, 0.98, 1.02, 1.07, 1.12])  # Monday .. Sunday
GROWTH_PER_DAY = 0.004


def hourly_intensity(clock: LocalClock, window: Window) -> np.ndarray:
    """Relative traffic per UTC hour of the window, scaled so the mean day sums to 1."""
    hours = window.start_ms + np.arange(window.days * 24) * HOUR_MS
    local = clock.local_ms(hours)
    weekday = (local // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday
    growth = np.exp(GROWTH_PER_DAY * np.arange(len(hours)) / 24)
    weights = HOURLY[(local % DAY_MS) // HOUR_MS] * WEEKDAY[weekday] * growth
    return weights * window.days / weights.sum()


def sample_times(rng: np.random.Generator, weights: np.ndarray, first_hour_ms: int, n: int) -> np.ndarray:
    """n sorted instants drawn from a piecewise-constant hourly intensity."""
    cdf = np.cumsum(weights)
    hour = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    hour = np.minimum(hour, len(weights) - 1)
    return np.sort(first_hour_ms + hour * HOUR_MS + rng.integers(0, HOUR_MS, n))
