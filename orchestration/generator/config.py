"""Generator settings and the seeded random streams derived from them."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field, fields
from datetime import date

import numpy as np

# Events are built in chunks of about CHUNK_EVENTS (small enough that the allocator recycles the buffers
# instead of faulting in fresh pages) and CHUNKS_PER_FILE chunks go into one JSONL.gz file.
CHUNK_EVENTS = 200_000
CHUNKS_PER_FILE = 4


@dataclass(frozen=True)
class DirtRates:
    """Share of rows (or batches, devices, sessions) that get each defect. A dirty row carries exactly one."""

    resent_batches_same_file: float = 0.003  # collector batches re-sent into the same file
    resent_batches_later_file: float = 0.002  # ... or into a later day's file
    late_batches: float = 0.003  # batches of an offline device that arrive 1-3 days late
    clock_skew_devices: float = 0.01  # devices whose clock is off by minutes to hours
    purchase_reloads: float = 0.03  # purchase sessions whose confirmation page is reloaded
    event_missing_id: float = 0.0005
    event_unknown_type: float = 0.0005
    event_bad_timestamp: float = 0.0005
    order_unknown_currency: float = 0.002
    order_item_negative_quantity: float = 0.002
    order_item_text_quantity: float = 0.001
    customer_missing_email: float = 0.002
    payment_duplicate_rows: float = 0.003
    snapshot_mismatches: float = 0.002
    # Receipts are few (a purchase order per position and lead time): rates that plant a handful.
    receipt_missing_lot: float = 0.03  # a receipt recorded without its batch/lot and expiry
    receipt_messy_lot: float = 0.03  # a hand-keyed lot, lower-cased and padded with spaces
    receipt_expiry_before_receipt: float = 0.01  # the manufacturing date keyed as the expiry
    receipt_day_first_expiry: float = 0.01  # an expiry written 31/12/2027
    sensor_error_codes: float = 0.003  # a device fault code in place of a reading's quality flag
    device_resent_rows: float = 0.003  # readings and doses a device uploads twice
    # The subscription log is small (a few rows a store and day): rates that plant a handful.
    subscription_unknown_currency: float = 0.03  # renewals of the backlog with a broken currency code
    subscription_resent_rows: float = 0.02  # log entries sent twice
    subscription_late_rows: float = 0.03  # entries a lagging sync exports two days late
    loyalty_negative_points: float = 0.005  # ledger entries with a negative point count
    loyalty_resent_rows: float = 0.01  # ledger entries sent twice
    loyalty_late_rows: float = 0.02  # ledger entries exported two days late
    affiliate_reference_dirt: float = 0.5  # share of stores whose partner export re-sends a row, mistypes a rate

    def zeroed(self) -> DirtRates:
        return DirtRates(**{f.name: 0.0 for f in fields(self)})


@dataclass(frozen=True)
class GeneratorConfig:
    days: int = 7
    start_date: date = date(2026, 11, 1)
    stores: int = 3
    events_per_day: int = 20_000
    seed: int = 42
    # A peak day: when set, the window's last day carries this many events instead of events_per_day
    # (customers, orders and devices follow the spike; the benchmark's peak-day stage).
    peak_day_events: int = 0
    clean: bool = False
    dirt: DirtRates = field(default_factory=DirtRates)

    def __post_init__(self) -> None:
        if not 1 <= self.stores <= 6:
            raise ValueError("stores must be between 1 and 6")
        if not 1 <= self.days <= 366:
            raise ValueError("days must be between 1 and 366")
        if self.events_per_day < 1000:
            raise ValueError("events_per_day must be at least 1000")
        if self.peak_day_events and self.peak_day_events < 1000:
            raise ValueError("peak_day_events must be 0 (no peak day) or at least 1000")
        if any(not 0.0 <= getattr(self.dirt, f.name) <= 0.5 for f in fields(self.dirt)):
            raise ValueError("dirt rates must be in [0, 0.5]")

    @property
    def rates(self) -> DirtRates:
        return self.dirt.zeroed() if self.clean else self.dirt

    def as_dict(self) -> dict:
        out = asdict(self)
        out["start_date"] = self.start_date.isoformat()
        out["dirt"] = asdict(self.rates)
        return out


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """An independent stream per purpose (store, day, chunk, ...), so changing one part of the data
    (e.g. the number of stores) leaves the streams of the others untouched."""
    spawn_key = tuple(k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))
