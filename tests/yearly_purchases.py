"""A purchase history long enough to fit LTV: the generator's own customer process
(orchestration.generator.customers, what every order of the extracts comes from) run over a year of
each store, without the clickstream around it (generating that would take minutes)."""

import pandas as pd

from orchestration.generator import GeneratorConfig
from orchestration.generator.clock import DAY_MS, LocalClock, Window
from orchestration.generator.customers import simulate_customers
from orchestration.generator.reference import build_stores
from orchestration.generator.traffic import hourly_intensity


def yearly_purchases(seed: int, stores: int, customers: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """`customers` customers of each of the first `stores` stores: one row per purchase (store_id,
    customer_id, ordered_at in UTC, amount to the cent in the store currency), and the year's end."""
    year = GeneratorConfig(days=365, stores=stores, seed=seed)
    window = Window(year.start_date, year.days)
    frames = []
    for store in build_stores(year, window.start_ms):
        clock = LocalClock(store.spec.time_zone, window.start_ms - 2 * DAY_MS, window.end_ms + 2 * DAY_MS)
        _, purchases, _ = simulate_customers(year, store, window, hourly_intensity(clock, window), customers, 0)
        frames.append(
            pd.DataFrame(
                {
                    "store_id": store.id,
                    "customer_id": purchases.customer,
                    "ordered_at": pd.to_datetime(purchases.time_ms, unit="ms", utc=True),
                    "amount": purchases.spend.round(2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), pd.Timestamp(window.end_ms, unit="ms", tz="UTC")
