"""The device cloud (source system `devices`): the catalog's connected products (its electronics
category, modelled on a wearable dosing patch) register each unit when it ships, then report patch wear,
doses, sensor readings, firmware updates and adverse events.

An installed base, activated in the 30 days before the window, reports from the window's first day;
units sold in the window join when their customer activates them after delivery. The truth repeats the
warehouse's rules (docs/sources.md) on exactly the rows that land, so the marts can be checked to the
unit: prescribed and valid patch days, successful doses, readings within bounds, anomalies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .clock import DAY_MS, HOUR_MS, MINUTE_MS, NA, LocalClock, Window
from .config import GeneratorConfig, rng_for
from .ids import backoffice_ids
from .orders import OrderBook
from .reference import CATEGORIES
from .writers import Extract, repeat

CONNECTED_CATEGORY = [c[0] for c in CATEGORIES].index("electronics")
INSTALLED_SHARE = 0.15  # customers holding a unit activated before the window
INSTALLED_DAYS = 30
FIRMWARE = ("1.4.0", "1.5.0")  # the update campaign moves the fleet from the first to the second
UPDATE_SUCCESS = 0.92
PRESCRIBED_DAYS = np.array([0, 7, 14, 28])  # 0: a unit sold without a prescription
PRESCRIBED_WEIGHTS = [0.1, 0.3, 0.3, 0.3]
VALID_WEAR_SHARE = 0.88  # patches worn a full day; the others come off after 2-12 hours
READING_EVERY_MS = 2 * HOUR_MS
DOSE_EVERY_MS = 12 * HOUR_MS
DOSE_OUTCOMES = [0.96, 0.03, 0.01]  # delivered within 3 %, partial (40-80 %), missed
QUALITY_FLAGS = ("ok", "noisy", "dropout")
QUALITY_WEIGHTS = [0.96, 0.03, 0.01]
SPIKE_SPACING = 16  # a planted spike at most every 16th good reading of a device, never in its first 12
SPIKE_SHARE = 0.3
SEVERITIES = ("mild", "moderate", "severe")
SEVERITY_WEIGHTS = [0.7, 0.25, 0.05]
ADVERSE_PER_DEVICE_DAY = (0.01, 0.1)  # an ordinary lot, a faulty one
ERROR_CODE = "E17"  # a firmware fault code in place of the quality flag: not in the contract's set

# The warehouse's rules with their dbt var defaults (dbt_project.yml), repeated here for the truth.
VALID_WEAR_HOURS = 20
DOSE_TOLERANCE = 0.05
ANOMALY_WINDOW, ANOMALY_MIN_READINGS, ANOMALY_BAND = 12, 6, 20.0


@dataclass
class Fleet:
    """Every unit of a store: the installed base first, then the units shipped in the window."""

    product: np.ndarray
    customer: np.ndarray
    line: np.ndarray  # order line index, -1 for the installed base
    shipped_ms: np.ndarray
    activated_ms: np.ndarray  # NA when not (yet) activated
    lot_week: np.ndarray
    prescribed_days: np.ndarray
    adherence: np.ndarray  # chance the patch goes on, per prescribed day
    baseline: np.ndarray  # the sensor's resting value, hundredths

    def __len__(self) -> int:
        return len(self.product)


def _fleet(rng: np.random.Generator, book: OrderBook, window: Window, n_customers: int) -> Fleet:
    plan, lines, catalog = book.plan, book.lines, book.plan.store.catalog
    connected = np.flatnonzero(catalog.category == CONNECTED_CATEGORY)
    n_base = max(10, round(INSTALLED_SHARE * n_customers)) if len(connected) else 0
    weights = catalog.popularity[connected] / catalog.popularity[connected].sum() if len(connected) else None
    base_activated = window.start_ms - rng.integers(HOUR_MS, INSTALLED_DAYS * DAY_MS, n_base)

    shipped = plan.shipped_ms[lines.order]
    sold = np.flatnonzero(np.isin(lines.product, connected) & (shipped != NA) & (shipped < window.end_ms))
    line = np.repeat(sold, lines.quantity[sold])  # one unit per item
    order = lines.order[line]
    delivered = plan.delivered_ms[order]
    activated = delivered + np.exp(rng.normal(np.log(20 * HOUR_MS), 0.8, len(line))).astype(np.int64)
    activated = np.where((delivered != NA) & (rng.random(len(line)) < 0.9) & (activated < window.end_ms), activated, NA)

    n = n_base + len(line)
    shipped = np.r_[base_activated - rng.integers(DAY_MS, 5 * DAY_MS, n_base), plan.shipped_ms[order]]
    return Fleet(
        product=np.r_[rng.choice(connected, n_base, p=weights) if n_base else [], lines.product[line]].astype(int),
        customer=np.r_[rng.integers(0, n_customers, n_base), plan.customer[order]].astype(int),
        line=np.r_[np.full(n_base, -1), line].astype(int),
        shipped_ms=shipped,
        activated_ms=np.r_[base_activated, activated],
        lot_week=(shipped - rng.integers(7 * DAY_MS, 21 * DAY_MS, n)) // (7 * DAY_MS),  # made before it ships
        prescribed_days=rng.choice(PRESCRIBED_DAYS, n, p=PRESCRIBED_WEIGHTS),
        adherence=rng.beta(8, 2, n),
        baseline=rng.integers(9_000, 14_000, n),
    )


def _slots(fleet: Fleet, window: Window, every_ms: int, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit, time) of a regular schedule from each unit's activation to the window's end."""
    k = np.arange(window.days * DAY_MS // every_ms)
    times = window.start_ms + phase[:, None] + k[None, :] * every_ms
    live = (fleet.activated_ms != NA)[:, None] & (times >= fleet.activated_ms[:, None]) & (times < window.end_ms)
    unit, slot = np.nonzero(live)
    return unit, times[unit, slot]


def _group_positions(keys: np.ndarray) -> np.ndarray:
    """Position of each row within its run of equal keys (rows sorted by key)."""
    starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(keys)])
    return np.arange(len(keys)) - np.repeat(starts, sizes)


def anomalies(unit: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The warehouse's rule on good readings sorted by unit and time: a reading further than the band
    from the mean of the unit's previous ANOMALY_WINDOW good readings, once there are enough of them."""
    position = _group_positions(unit)
    count = np.minimum(position, ANOMALY_WINDOW)
    total = np.r_[0, np.cumsum(value, dtype=np.float64)]
    i = np.arange(len(value))
    mean = (total[i] - total[i - count]) / np.maximum(count, 1)
    return (count >= ANOMALY_MIN_READINGS) & (np.abs(value - mean) > ANOMALY_BAND * 100)


class Telemetry:
    """One store's device cloud over the window: its extracts and what they must add up to."""

    def __init__(
        self,
        config: GeneratorConfig,
        book: OrderBook,
        clock: LocalClock,
        window: Window,
        customer_ids: pa.StringArray,
    ) -> None:
        self.store = book.plan.store
        self.clock = clock
        self.window = window
        self.customer_ids = customer_ids
        rates = config.rates
        rng = rng_for(config.seed, "telemetry", self.store.index)
        self.fleet = fleet = _fleet(rng, book, window, len(customer_ids))
        catalog = self.store.catalog
        self.line_ids = backoffice_ids("itm", self.store.id, np.arange(len(book.lines)), 9)
        self.device_ids = backoffice_ids("dev", self.store.id, np.arange(len(fleet)))
        self.lot_numbers = pa.array(
            [f"{catalog.sku[p].as_py()}-L{w:05d}" for p, w in zip(fleet.product, fleet.lot_week, strict=True)],
            pa.string(),
        )
        faulty = (fleet.product * 31 + fleet.lot_week) % 10 == 0
        self.truth: dict = {"units": len(fleet), "faulty_lot_units": int(faulty.sum())}

        self._readings(rng, rates.sensor_error_codes, rates.device_resent_rows)
        self._doses(rng, rates.device_resent_rows)
        self._patches(rng)
        self._firmware(rng)
        self._adverse_events(rng, faulty)
        self._device_days()

    # --- readings ---------------------------------------------------------------------------------
    def _readings(self, rng: np.random.Generator, error_rate: float, resent_rate: float) -> None:
        fleet = self.fleet
        unit, at = _slots(fleet, self.window, READING_EVERY_MS, rng.integers(0, READING_EVERY_MS, len(fleet)))
        n = len(unit)
        quality = rng.choice(len(QUALITY_FLAGS), n, p=QUALITY_WEIGHTS)
        value = fleet.baseline[unit] + rng.integers(-500, 501, n)  # +-5 units of noise
        value = np.where(quality == 1, value + rng.integers(-3_000, 3_001, n), value)
        good = np.flatnonzero(quality == 0)  # rows are sorted by unit, then time
        position = _group_positions(unit[good])
        phase = rng.integers(0, SPIKE_SPACING, len(fleet))[unit[good]]
        planted = (position >= ANOMALY_WINDOW) & (position % SPIKE_SPACING == phase)
        spike = good[planted & (rng.random(len(good)) < SPIKE_SHARE)]
        value[spike] += rng.integers(5_000, 9_001, len(spike))
        plain = np.ones(n, bool)
        plain[spike] = False
        error = plain & (rng.random(n) < error_rate)  # quarantined at landing: never a spike
        flags = pa.array(np.where(error, ERROR_CODE, np.array(QUALITY_FLAGS)[quality]), pa.string())

        order = np.r_[np.arange(n), np.flatnonzero(~error & (rng.random(n) < resent_rate))]
        order.sort(kind="stable")  # a re-sent row right after its first copy, same values
        self.readings = self._extract(
            "sensor_readings",
            order,
            unit,
            {
                "reading_id": backoffice_ids("rdg", self.store.id, np.arange(n), 10),
                "device_id": None,
                "store_id": None,
                "customer_id": None,
                "measured_at": at,
                "value": value,
                "quality_flag": flags,
            },
            at,
        )
        landed = ~error
        ok = landed & (quality == 0)
        self.truth |= {
            "readings": int(landed.sum()),
            "readings_within_bounds": int(ok.sum()),
            "anomalies": int(anomalies(unit[ok], value[ok]).sum()),
            "planted_spikes": len(spike),
            "quarantined_readings": int(error.sum()),
            "resent_readings": len(order) - n,
        }
        self._reading_rows = (unit[landed], at[landed])

    # --- doses ------------------------------------------------------------------------------------
    def _doses(self, rng: np.random.Generator, resent_rate: float) -> None:
        fleet = self.fleet
        unit, due = _slots(fleet, self.window, DOSE_EVERY_MS, rng.integers(0, DOSE_EVERY_MS, len(fleet)))
        n = len(unit)
        scheduled = rng.choice([500, 1_000], len(fleet))[unit]  # milligrams in thousandths
        outcome = rng.choice(3, n, p=DOSE_OUTCOMES)
        share = np.where(outcome == 0, rng.uniform(0.97, 1.03, n), rng.uniform(0.4, 0.8, n))
        delivered_dose = np.where(outcome == 2, NA, np.rint(scheduled * share).astype(np.int64))
        delivered_at = np.where(outcome == 2, NA, due + rng.integers(0, 5 * MINUTE_MS, n))
        order = np.r_[np.arange(n), np.flatnonzero(rng.random(n) < resent_rate)]
        order.sort(kind="stable")
        self.doses = self._extract(
            "dosage_deliveries",
            order,
            unit,
            {
                "delivery_id": backoffice_ids("dos", self.store.id, np.arange(n), 10),
                "device_id": None,
                "store_id": None,
                "customer_id": None,
                "scheduled_at": due,
                "delivered_at": delivered_at,
                "scheduled_dose_mg": scheduled,
                "delivered_dose_mg": delivered_dose,
            },
            due,
        )
        success = (outcome != 2) & (np.abs(delivered_dose - scheduled) <= DOSE_TOLERANCE * scheduled)
        self.truth |= {
            "scheduled_deliveries": n,
            "successful_deliveries": int(success.sum()),
            "resent_deliveries": len(order) - n,
        }
        self._dose_rows = (unit, due)

    # --- patches ----------------------------------------------------------------------------------
    def _patches(self, rng: np.random.Generator) -> None:
        """A patch each prescribed local day, in the morning (or just after activation), if the patient
        keeps to the prescription that day."""
        fleet, clock, window = self.fleet, self.clock, self.window
        worn = np.flatnonzero((fleet.activated_ms != NA) & (fleet.prescribed_days > 0))
        unit = np.repeat(worn, fleet.prescribed_days[worn])
        day = clock.local_day(fleet.activated_ms[unit]) + _group_positions(unit)
        morning = day * DAY_MS + rng.integers(6 * HOUR_MS, 10 * HOUR_MS, len(unit))
        applied = np.maximum(morning - clock.offset(morning), fleet.activated_ms[unit] + 10 * MINUTE_MS)
        on = (applied >= window.start_ms) & (applied < window.end_ms) & (rng.random(len(unit)) < fleet.adherence[unit])
        unit, applied = unit[on], applied[on]
        n = len(unit)
        full = rng.random(n) < VALID_WEAR_SHARE
        wear = np.where(full, rng.integers(21 * HOUR_MS, 25 * HOUR_MS, n), rng.integers(2 * HOUR_MS, 12 * HOUR_MS, n))
        removed = applied + wear
        off = removed < window.end_ms
        # a version when it goes on, another when it comes off (only the last of a day is exported)
        rows = np.r_[np.arange(n), np.flatnonzero(off)]
        updated = np.r_[applied, removed[off]]
        self.patches = Extract(
            "patch_applications",
            {
                "application_id": backoffice_ids("pat", self.store.id, rows, 9),
                "device_id": self.device_ids.take(pa.array(unit[rows])),
                "store_id": repeat(self.store.id, len(rows)),
                "customer_id": self.customer_ids.take(pa.array(self.fleet.customer[unit[rows]])),
                "applied_at": applied[rows],
                "removed_at": np.r_[np.full(n, NA), removed[off]],
                "updated_at": updated,
            },
            export_ms=updated,
            key=(self.store.index << 40) + rows,
        )
        valid = off & (wear >= VALID_WEAR_HOURS * HOUR_MS)
        self._patch_rows = (unit, applied, valid)

    # --- firmware ---------------------------------------------------------------------------------
    def _firmware(self, rng: np.random.Generator) -> None:
        """The campaign starts mid-window; units activated before it update within 12 hours, most
        successfully; units activated later come with the new firmware."""
        fleet, window = self.fleet, self.window
        campaign = window.start_ms + (window.days // 2) * DAY_MS + 9 * HOUR_MS
        activated = fleet.activated_ms != NA
        self.firmware = np.where(activated & (fleet.activated_ms >= campaign), 1, 0)
        unit = np.flatnonzero(activated & (fleet.activated_ms < campaign))
        at = campaign + rng.integers(0, 12 * HOUR_MS, len(unit))
        unit, at = unit[at < window.end_ms], at[at < window.end_ms]
        ok = rng.random(len(unit)) < UPDATE_SUCCESS
        n = len(unit)
        self.updates = Extract(
            "firmware_updates",
            {
                "update_id": backoffice_ids("fwu", self.store.id, np.arange(n)),
                "device_id": self.device_ids.take(pa.array(unit)),
                "store_id": repeat(self.store.id, n),
                "customer_id": self.customer_ids.take(pa.array(fleet.customer[unit])),
                "from_version": repeat(FIRMWARE[0], n),
                "to_version": repeat(FIRMWARE[1], n),
                "status": pa.array(np.where(ok, "succeeded", "failed"), pa.string()),
                "completed_at": at,
            },
            export_ms=at,
        )
        self.truth |= {"firmware_updates": n, "failed_firmware_updates": int((~ok).sum())}

    # --- adverse events ---------------------------------------------------------------------------
    def _adverse_events(self, rng: np.random.Generator, faulty: np.ndarray) -> None:
        fleet, window = self.fleet, self.window
        day_start = window.start_ms + np.arange(window.days) * DAY_MS
        live = (fleet.activated_ms != NA)[:, None] & (fleet.activated_ms[:, None] < day_start[None, :] + DAY_MS)
        unit, day = np.nonzero(live)
        chance = np.where(faulty[unit], ADVERSE_PER_DEVICE_DAY[1], ADVERSE_PER_DEVICE_DAY[0])
        hit = rng.random(len(unit)) < chance
        unit, day = unit[hit], day[hit]
        start = np.maximum(day_start[day], fleet.activated_ms[unit])  # the day of activation starts then
        n = len(unit)
        reported = start + (rng.random(n) * (day_start[day] + DAY_MS - start)).astype(np.int64)
        severity = rng.choice(len(SEVERITIES), n, p=SEVERITY_WEIGHTS)
        self.adverse = Extract(
            "adverse_events",
            {
                "adverse_event_id": backoffice_ids("ade", self.store.id, np.arange(n)),
                "device_id": self.device_ids.take(pa.array(unit)),
                "store_id": repeat(self.store.id, n),
                "customer_id": self.customer_ids.take(pa.array(fleet.customer[unit])),
                "product_id": self.store.catalog.product_id.take(pa.array(fleet.product[unit])),
                "lot_number": self.lot_numbers.take(pa.array(unit)),
                "severity": pa.array(np.array(SEVERITIES)[severity], pa.string()),
                "reported_at": reported,
            },
            export_ms=reported,
        )
        self.truth["adverse_events"] = {s: int((severity == i).sum()) for i, s in enumerate(SEVERITIES)}

    # --- the registry -----------------------------------------------------------------------------
    def registry(self) -> Extract:
        """A row per unit when it ships (the installed base once, as activated) and again on activation."""
        fleet, window = self.fleet, self.window
        base = fleet.line < 0
        in_window = ~base & (fleet.activated_ms != NA)
        unit = np.r_[np.arange(len(fleet)), np.flatnonzero(in_window)]
        second = np.r_[np.zeros(len(fleet), bool), np.ones(in_window.sum(), bool)]
        activated = np.where(second | base[unit], fleet.activated_ms[unit], NA)
        updated = np.where(activated != NA, activated, fleet.shipped_ms[unit])
        return Extract(
            "device_activations",
            {
                "device_id": self.device_ids.take(pa.array(unit)),
                "store_id": repeat(self.store.id, len(unit)),
                "customer_id": self.customer_ids.take(pa.array(fleet.customer[unit])),
                "order_item_id": self.line_ids.take(pa.array(fleet.line[unit], mask=fleet.line[unit] < 0)),
                "product_id": self.store.catalog.product_id.take(pa.array(fleet.product[unit])),
                "lot_number": self.lot_numbers.take(pa.array(unit)),
                "firmware_version": pa.array(np.array(FIRMWARE)[self.firmware[unit]], pa.string()),
                "prescribed_wear_days": fleet.prescribed_days[unit],
                "shipped_at": fleet.shipped_ms[unit],
                "activated_at": activated,
                "updated_at": updated,
            },
            export_ms=np.maximum(updated, window.start_ms),
            key=(self.store.index << 40) + unit,
        )

    def extracts(self) -> list[Extract]:
        return [self.registry(), self.patches, self.doses, self.readings, self.updates, self.adverse]

    # --- helpers ----------------------------------------------------------------------------------
    def _extract(self, name: str, order: np.ndarray, unit: np.ndarray, columns: dict, at: np.ndarray) -> Extract:
        """An immutable log extract in `order` (re-sent rows included); the unit's columns filled in."""
        u = unit[order]
        filled = {
            "device_id": self.device_ids.take(pa.array(u)),
            "store_id": repeat(self.store.id, len(u)),
            "customer_id": self.customer_ids.take(pa.array(self.fleet.customer[u])),
        }
        return Extract(
            name,
            {
                c: filled[c] if v is None else (v.take(pa.array(order)) if isinstance(v, pa.Array) else v[order])
                for c, v in columns.items()
            },
            export_ms=at[order],
        )

    def _device_days(self) -> None:
        """Device-days with telemetry (readings, doses, patches) in the store's local calendar, and the
        adherence inputs counted on them: prescribed days, and those with a valid patch applied."""
        fleet, clock = self.fleet, self.clock
        p_unit, p_applied, p_valid = self._patch_rows
        unit = np.r_[self._reading_rows[0], self._dose_rows[0], p_unit]
        day = clock.local_day(np.r_[self._reading_rows[1], self._dose_rows[1], p_applied])
        active = np.unique(np.c_[unit, day], axis=0)
        first = clock.local_day(np.where(fleet.activated_ms == NA, 0, fleet.activated_ms))[active[:, 0]]
        since = active[:, 1] - first
        prescribed = (since >= 0) & (since < fleet.prescribed_days[active[:, 0]])
        valid_days = np.unique(np.c_[p_unit[p_valid], clock.local_day(p_applied[p_valid])], axis=0)
        keys = active[:, 0] * 100_000 + active[:, 1]
        has_valid = np.isin(keys, valid_days[:, 0] * 100_000 + valid_days[:, 1])
        self.truth |= {
            "active_device_days": len(active),
            "prescribed_days": int(prescribed.sum()),
            "valid_patch_days": int((prescribed & has_valid).sum()),
        }


def telemetry_truth(parts: list[dict]) -> dict:
    """The stores' truths added up (adverse events by severity)."""
    total: dict = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                inner = total.setdefault(key, {})
                for k, v in value.items():
                    inner[k] = inner.get(k, 0) + v
            else:
                total[key] = total.get(key, 0) + value
    return total
