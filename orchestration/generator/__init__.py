"""Synthetic e-commerce data: the storefront clickstream and the back-office extracts of up to six
stores, with known model parameters and planted defects recorded in a truth file."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pyarrow as pa

from orchestration.contracts import load_contracts
from orchestration.landing.delivery import mark_delivered
from orchestration.progress import Progress
from orchestration.settings import DataPaths

from .affiliates import Affiliates
from .clickstream import Collector, StoreTraffic, visit_lengths
from .clock import DAY_MS, LocalClock, Window, iso
from .config import DirtRates, GeneratorConfig, rng_for
from .crm import ConsentLog, customer_extract, review_extract
from .customers import purchases_per_customer, simulate_customers
from .devices import COUNTRY_CODES, Devices, home_countries, make_devices
from .dirt import cell_defects, duplicate_rows, plant_cell_defects
from .event_json import EventEncoder
from .fx import fx_extract
from .geography import Geography
from .ids import backoffice_ids
from .inventory import LOT_QUARANTINE, inventory_extracts, simulate_inventory
from .loyalty import Loyalty
from .orders import CARRIERS, GATEWAYS, finish_orders, order_extracts, plan_orders
from .reference import FOREIGN_SHARE, Store, build_stores, reference_extracts
from .sessions import BOT_SHARE, Pages
from .subscriptions import Subscriptions
from .telemetry import Telemetry, telemetry_truth
from .traffic import hourly_intensity
from .writers import CSV_SLICE_ROWS, Extract, Sink

__all__ = ["DirtRates", "GeneratorConfig", "generate"]

VISITS_PER_DEVICE = 1.8  # anonymous devices return now and then
SCRAPER_EVENTS = (300, 5000)  # bounds of the scraper's daily visit, otherwise 5 % of daily events


def generate(paths: DataPaths, config: GeneratorConfig, progress: Progress | None = None) -> dict:
    """Write every extract of the window into the inbox and return the truth (also written to disk).

    `progress` moves on per store simulated, per day of clickstream and per extract exported."""
    window = Window(config.start_date, config.days)
    stores = build_stores(config, window.start_ms)
    shares = np.array([s.spec.traffic_share for s in stores])
    shares = shares / shares.sum()

    step = progress.update if progress else lambda **_: None
    if progress:  # the clickstream is written day by day, then the other extracts one by one
        progress.total = len(stores) + config.days + len(load_contracts()) - 1
    traffic, extracts = [], defaultdict(list)
    for store, share in zip(stores, shares, strict=True):
        t, store_extracts = _simulate_store(config, window, store, share)
        traffic.append(t)
        for e in store_extracts:
            extracts[e.name].append(e)
        step(advance=1, note=f"store {store.spec.store_id} simulated")

    with Sink(paths, window, load_contracts()) as sink:  # waits for the compression threads on exit
        collector = Collector(config, window, sink)
        for day in range(config.days):
            collector.write_day(traffic, day)
            step(advance=1, note=f"events of day {day + 1}")
        for t in traffic:
            extracts["consent_logs"].append(t.consent.extract(t.customer_ids))

        quarantine, duplicates = {"events": collector.truth.quarantine}, {"events": collector.truth.duplicates}
        for name in sorted(extracts):
            found, copies = _export(sink, Extract.concat(extracts.pop(name)), config)
            step(advance=1, note=name)
            if found:
                quarantine[name] = found
            if name == "payment_attempts":
                duplicates[name] = copies

    for name in load_contracts():  # every file is in place: the delivery is complete
        mark_delivered(paths.inbox_for(name))
    truth = _truth(config, window, traffic, sink, collector, quarantine, duplicates)
    paths.generator_truth.parent.mkdir(parents=True, exist_ok=True)
    paths.generator_truth.write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return truth


def _simulate_store(
    config: GeneratorConfig, window: Window, store: Store, share: float
) -> tuple[StoreTraffic, list[Extract]]:
    """One store's customers, devices, orders and stock over the whole window; the clickstream is
    written later, day by day, from the returned StoreTraffic."""
    spec = store.spec
    clock = LocalClock(spec.time_zone, window.start_ms - 2 * DAY_MS, window.end_ms + 2 * DAY_MS)
    intensity = hourly_intensity(clock, window)
    if config.peak_day_events:  # the last day's hours scaled to the peak's volume, its daily curve kept
        intensity[-24:] *= config.peak_day_events / (config.events_per_day * intensity[-24:].sum())
    day_events = config.events_per_day * share * intensity.reshape(config.days, 24).sum(axis=1)
    pages = Pages.of(store)

    # customers scale with traffic, so the share of visits that buy stays near the store's conversion
    per_visit = visit_lengths(config.seed, store, pages)
    visits = day_events.sum() / (per_visit["browse"] + BOT_SHARE * per_visit["bot"])  # human visits
    n_customers = max(1, round(spec.conversion * visits / purchases_per_customer(config, store, window, intensity)))
    rng = rng_for(config.seed, "devices", store.index)
    n_anonymous = max(100, round(visits / VISITS_PER_DEVICE))
    countries = home_countries(rng, n_anonymous, spec.country, spec.foreign, FOREIGN_SHARE)
    anonymous = make_devices(rng, countries, config.rates.clock_skew_devices)
    customers, purchases, customer_devices = simulate_customers(
        config, store, window, intensity, n_customers, n_anonymous
    )
    devices = Devices.concat([anonymous, customer_devices, _scraper_device(rng, spec.country)])

    plan = plan_orders(config, store, customers, purchases, customer_devices, n_anonymous)
    inventory = simulate_inventory(config, plan, clock, window)
    book = finish_orders(config, plan, inventory.lines, inventory.stockout)
    customer_ids = backoffice_ids("cus", store.id, np.arange(n_customers), 7)
    telemetry = Telemetry(config, book, clock, window, customer_ids)
    subscriptions = Subscriptions(config, store, window, customer_ids)
    loyalty = Loyalty(config, book, clock, window, customer_ids)
    geography = Geography.build(config, store, customers)
    affiliates = Affiliates(config, spec.store_id, store.index, window.start_ms)

    t = StoreTraffic(
        store=store,
        pages=pages,
        encoder=EventEncoder(store, pages),
        devices=devices,
        n_anonymous=n_anonymous,
        scraper=len(devices) - 1,
        intensity=intensity,
        day_events=day_events,
        scraper_events=int(np.clip(config.events_per_day // 20, *SCRAPER_EVENTS)) if store.index == 0 else 0,
        book=book,
        customer_ids=customer_ids,
        consent=ConsentLog(store, devices, config.days),
    )
    t.measure_visits(config.seed)

    def local_month(ms: np.ndarray) -> np.ndarray:
        return clock.local_ms(ms).astype("datetime64[ms]").astype("datetime64[M]")

    late_refund = window.contains(book.refund_ms) & (local_month(book.refund_ms) > local_month(plan.placed_ms))
    t.facts = {
        "currency": spec.currency,
        "time_zone": spec.time_zone,
        "bgnbd": {**spec.bgnbd, "rate_unit": "purchases per day"},
        "gamma_gamma": {**spec.gamma_gamma, "gamma": spec.gamma_gamma["gamma"] * spec.price_factor},
        "conversion_target": spec.conversion,
        "customers": n_customers,
        "orders": len(book),
        "anonymous_devices": n_anonymous,
        "stockout_cancellations": int(book.stockout.sum()),
        "orders_without_purchase_event": int(devices.ad_blocker[plan.device].sum()),
        "refunds_after_order_month": int(late_refund.sum()),
        "snapshot_mismatches": inventory.snapshot_mismatches,
        "lots": inventory.lots.truth(inventory.key, inventory.adjusted_ms, inventory.delta, window),
        "devices": telemetry.truth,
        "subscriptions": subscriptions.truth,
        "loyalty": loyalty.truth,
        "geography": geography.truth(customers, plan, window.end_ms),
        "affiliates": affiliates.truth,
    }
    extracts = [
        *order_extracts(book, customer_ids),
        customer_extract(store, customers, customer_ids),
        review_extract(book, customer_ids),
        *inventory_extracts(plan, inventory, window),
        *reference_extracts(store, window.start_ms),  # after the orders, which set the codes' max uses
        fx_extract(spec.store_id, spec.currency, window),
        *telemetry.extracts(),
        subscriptions.extract,
        loyalty.extract,
        geography.reference(window.start_ms),
        affiliates.extract,
    ]
    geography.locate(customers, plan, extracts)
    return t, extracts


def _scraper_device(rng: np.random.Generator, country: str) -> Devices:
    """A desktop Chrome that accepts the banner: nothing but its pace gives it away."""
    scraper = make_devices(rng, np.array([COUNTRY_CODES.index(country)]), 0.0)
    scraper.platform[:] = 0
    scraper.device_type[:] = 0
    scraper.user_agent[:] = 0
    scraper.analytics[:] = 0
    scraper.withdraws[:] = False
    scraper.gpc[:] = scraper.dnt[:] = False
    return scraper


def _export(sink: Sink, extract: Extract, config: GeneratorConfig) -> tuple[dict[str, int], int]:
    """Write an extract's daily files with its planted defects; returns (quarantine counts, duplicates).
    Rows are formatted a slice at a time, so memory stays flat however big a day is."""
    rows, bounds = sink.export_days(extract)
    rng = rng_for(config.seed, "dirt", extract.name)
    defects = cell_defects(config.rates).get(extract.name, [])
    found, copies = defaultdict(int), 0
    for day in sink.file_days(extract.name):
        out = sink.csv_file(extract.name, day)
        for start in range(bounds[day], bounds[day + 1], CSV_SLICE_ROWS):
            columns = sink.format(extract, rows[start : min(start + CSV_SLICE_ROWS, bounds[day + 1])])
            for label, count in plant_cell_defects(rng, columns, defects).items():
                found[label] += count
            if extract.name == "payment_attempts":
                n = len(columns["payment_attempt_id"])
                order = duplicate_rows(rng, n, config.rates.payment_duplicate_rows)
                copies += len(order) - n
                columns = {k: v.take(pa.array(order)) for k, v in columns.items()}
            out.write(columns)
        out.close()
    return dict(found), copies


def _truth(
    config: GeneratorConfig,
    window: Window,
    traffic: list[StoreTraffic],
    sink: Sink,
    collector: Collector,
    quarantine: dict,
    duplicates: dict,
) -> dict:
    ct = collector.truth
    consent = defaultdict(int)
    for t in traffic:
        for k, v in t.consent.truth().items():
            consent[k] += v
    stores = {t.store.id: t.facts for t in traffic}
    devices = telemetry_truth([s["devices"] for s in stores.values()])
    quarantine["sensor_readings"] = {"not_allowed:quality_flag": devices["quarantined_readings"]}
    duplicates |= {"sensor_readings": devices["resent_readings"], "dosage_deliveries": devices["resent_deliveries"]}
    quarantine["inventory_adjustments"] = {
        reason: sum(s["lots"][reason] for s in stores.values()) for reason in LOT_QUARANTINE
    }
    late_rows = {}
    for extract, simulated, reason in (
        ("subscription_events", "subscriptions", "not_allowed:currency"),
        ("loyalty_transactions", "loyalty", "out_of_range:points"),
    ):
        logs = [s[simulated] for s in stores.values()]
        quarantine[extract] = {reason: sum(log["quarantined"] for log in logs)}
        duplicates[extract] = sum(log["resent"] for log in logs)
        late_rows[extract] = sum(log["late"] for log in logs)
    partners = [s["affiliates"] for s in stores.values()]
    quarantine["affiliate_partners"] = {"out_of_range:commission_rate": sum(p["quarantined"] for p in partners)}
    duplicates["affiliate_partners"] = sum(p["resent"] for p in partners)
    return {
        "config": config.as_dict(),
        "window": {"start": iso(window.start_ms), "end": iso(window.end_ms), "days": window.days},
        "stores": stores,
        "customers": sum(s["customers"] for s in stores.values()),
        "orders": sum(s["orders"] for s in stores.values()),
        "events": {"unique": ct.unique_events, "written": sink.rows.get("events", 0)},
        "rows": dict(sorted(sink.rows.items())),
        "files": dict(sorted(sink.files.items())),
        "dirt": {
            "duplicates": duplicates,
            "late_events": ct.late_events,
            "late_rows": late_rows,
            "clock_skew_devices": len(ct.skewed_devices),
            "clock_skew_events": ct.skewed_events,
            "purchase_reloads": ct.reloads,
            "quarantine": {name: dict(sorted(counts.items())) for name, counts in sorted(quarantine.items())},
            "snapshot_mismatches": sum(s["snapshot_mismatches"] for s in stores.values()),
        },
        "bots": {
            "ua_pattern": {"events": sum(ct.bot_events.values()), "by_agent": dict(sorted(ct.bot_events.items()))},
            "behavioural": {"events": ct.scraper_events, "anonymous_ids": ct.scraper_ids},
        },
        "consent": dict(consent),
        "devices": devices,
        "reconciliation": {
            "orders_without_purchase_event": sum(s["orders_without_purchase_event"] for s in stores.values()),
            "purchase_events_without_order": ct.phantom_purchases,
        },
        "gateways": {g: {"success_rate": v[0], "latency_median_ms": v[1]} for g, v in GATEWAYS.items()},
        "carriers": {
            c: {"promised_days": v[0], "on_time_rate": v[1], "first_attempt_rate": v[3]} for c, v in CARRIERS.items()
        },
    }
