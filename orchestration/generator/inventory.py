"""Stock per product and warehouse, simulated one store-local day at a time.

Orders reserve stock when placed and only list products with free stock, so sales are limited to what
is on hand; a shipment turns its reservation into a `sale` entry. Negative entries never exceed free
stock, so on_hand >= 0 at every instant, and each end-of-day snapshot equals the previous one plus the
day's ledger entries. A purchase order arrives `lead_time_days` after stock falls below its reorder point.

Every receipt carries the manufacturing batch/lot it came from and the lot's expiry date. A lot is
named like the device cloud names a unit's lot (`<sku>-L<week since the epoch>`, the week it was made),
so a connected product's receipts share lots with the units the device cloud registers. Each product has
a shelf life (a few short-lived ones expire within weeks); a lot is made 20-60 % of its shelf life (at
most 35 days) before it arrives. Dirt on receipts, one defect a receipt: no lot recorded (lands, counted
as stock without a lot), a hand-keyed lot lower-cased and padded (lands, cleaned in staging), an expiry
before the receipt (out_of_range:expiry_date) and a day-first expiry date (invalid_type:expiry_date);
a receipt with a broken expiry is re-sent fixed under the same id, so only its first copy is
quarantined and the ledger stays whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import first_occurrence, rank_in_group
from .clock import DAY_MS, HOUR_MS, NA, LocalClock, Window
from .config import GeneratorConfig, rng_for
from .dirt import pick_exclusive
from .ids import backoffice_ids
from .orders import Lines, OrderPlan, return_quantity
from .text import date_strings, take_strings
from .writers import Extract, repeat

ADJUSTMENT_TYPES = ("receipt", "sale", "return", "shrinkage", "manual_correction")
REFERENCES = ("none", "order", "return", "purchase_order")
CANDIDATES = 8  # products a shopper weighs per line before picking the one nearest the budget
SHRINKAGE_RATE = 0.01
CORRECTION_RATE = 0.003
SHELF_LIFE_DAYS = (30, 90, 180, 365, 730)  # per product, drawn with SHELF_LIFE_SHARES
SHELF_LIFE_SHARES = (0.1, 0.15, 0.25, 0.3, 0.2)
WEEK_MS = 7 * DAY_MS
# receipt dirt, in pick order: the index a receipt's defect has in Lots.defect
LOT_DEFECTS = ("missing_lot", "messy_lot", "out_of_range:expiry_date", "invalid_type:expiry_date")
LOT_QUARANTINE = LOT_DEFECTS[2:]


@dataclass
class Lots:
    """Batch/lot and expiry of each ledger entry, aligned with the ledger's columns (receipts only)."""

    week: np.ndarray  # week since the epoch the lot was made; -1 off receipts
    expiry_day: np.ndarray  # days since the epoch; meaningful on receipts only
    defect: np.ndarray  # index into LOT_DEFECTS, -1 for a clean receipt or another entry

    def truth(self, key: np.ndarray, ms: np.ndarray, delta: np.ndarray, window: Window) -> dict:
        """Counts over the receipts the window exports: every receipt lands (a messy lot cleaned, one with
        a broken expiry through its fixed copy, whose first copy is quarantined), a receipt without a lot
        lands without one."""
        receipt = (self.week >= 0) & window.contains(ms)
        lotted = receipt & (self.defect != LOT_DEFECTS.index("missing_lot"))
        return {
            "receipts": int(receipt.sum()),
            "receipts_with_lot": int(lotted.sum()),
            "lot_units_received": int(delta[lotted].sum()),
            # the product is the key modulo the catalogue size, unknown here: lots count per position
            "position_lots": len(set(zip(key[lotted].tolist(), self.week[lotted].tolist(), strict=True))),
            **{d: int((receipt & (self.defect == i)).sum()) for i, d in enumerate(LOT_DEFECTS)},
        }


@dataclass
class Inventory:
    lines: Lines  # sorted by order, in line order
    stockout: np.ndarray  # per order: cancelled because an item ran out before it was reserved
    # ledger
    key: np.ndarray  # warehouse * products + product
    adjusted_ms: np.ndarray
    delta: np.ndarray
    kind: np.ndarray  # index into ADJUSTMENT_TYPES
    ref_kind: np.ndarray  # index into REFERENCES
    ref_serial: np.ndarray
    # snapshots
    snapshot_day: np.ndarray  # local days since the epoch
    snapshot_key: np.ndarray
    snapshot_on_hand: np.ndarray
    snapshot_taken_ms: np.ndarray
    snapshot_mismatches: int
    lots: Lots


class _Ledger:
    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, key, ms, delta, kind, ref_kind, ref_serial) -> None:
        n = len(key)
        if n:
            values = (key, ms, delta, kind, ref_kind, ref_serial)
            self.parts.append(tuple(np.broadcast_to(np.asarray(v, dtype=np.int64), n) for v in values))

    def columns(self) -> list[np.ndarray]:
        return [np.concatenate(c) for c in zip(*self.parts, strict=True)] if self.parts else [np.empty(0, np.int64)] * 6

    def on_hand(self, opening: np.ndarray, before_ms: int) -> np.ndarray:
        key, ms, delta, *_ = self.columns()
        return opening + np.bincount(key[ms < before_ms], delta[ms < before_ms], minlength=len(opening)).astype(
            np.int64
        )

    def on_order(self, size: int, after_ms: int) -> np.ndarray:
        key, ms, delta, kind, *_ = self.columns()
        pending = (kind == ADJUSTMENT_TYPES.index("receipt")) & (ms >= after_ms)
        return np.bincount(key[pending], delta[pending], minlength=size).astype(np.int64)


def _ranked_candidates(
    rng: np.random.Generator,
    price: np.ndarray,
    warehouse: np.ndarray,
    target: np.ndarray,
    listed: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Per line, CANDIDATES products drawn by popularity among those listed in the line's warehouse,
    nearest to the target price first."""
    candidates = np.empty((len(target), CANDIDATES), dtype=np.int64)
    for w in range(listed.shape[0]):
        rows = warehouse == w
        pick = weights * listed[w]
        if pick.sum() == 0:  # everything sold out: such lines will find no stock
            pick = weights
        cdf = np.cumsum(pick)
        draws = np.searchsorted(cdf, rng.random((rows.sum(), CANDIDATES)) * cdf[-1], side="right")
        candidates[rows] = np.minimum(draws, len(price) - 1)
    distance = np.abs(np.log(price[candidates]) - np.log(np.maximum(target, 1))[:, None])
    return np.take_along_axis(candidates, np.argsort(distance, axis=1, kind="stable"), axis=1)


def _basket(rng: np.random.Generator, plan: OrderPlan, orders: np.ndarray, listed: np.ndarray) -> Lines:
    """Lines for the given orders: per line, the candidate nearest the basket budget; no product twice."""
    catalog = plan.store.catalog
    order = np.repeat(orders, plan.n_items[orders])
    m = len(order)
    qty = rng.choice([1, 2, 3], m, p=[0.8, 0.15, 0.05])
    target = plan.spend[order] / plan.n_items[order] / qty * rng.lognormal(0.0, 0.25, m)
    ranked = _ranked_candidates(rng, catalog.price, plan.warehouse[order], target, listed, catalog.popularity)
    choice = np.zeros(m, dtype=np.int64)
    for _ in range(CANDIDATES):
        product = ranked[np.arange(m), np.minimum(choice, CANDIDATES - 1)]
        duplicate = ~first_occurrence(order * len(catalog) + product) & (choice < CANDIDATES)
        if not duplicate.any():
            break
        choice[duplicate] += 1
    keep = choice < CANDIDATES
    return Lines(order[keep], ranked[np.arange(m), np.minimum(choice, CANDIDATES - 1)][keep], qty[keep])


def _book(
    rng: np.random.Generator, plan: OrderPlan, orders: np.ndarray, free: np.ndarray, listed: np.ndarray
) -> tuple[Lines, np.ndarray]:
    """A day's orders take free stock first come first served. A line whose product sold out earlier in
    the day is swapped for a similar-priced product still in stock, or dropped; an order left with no
    line is cancelled for lack of stock (and keeps the lines the shopper chose). Returns the lines and,
    per order, whether it is cancelled for lack of stock."""
    catalog = plan.store.catalog
    n_products = len(catalog)
    chosen = _basket(rng, plan, orders, listed)
    key = plan.warehouse[chosen.order] * n_products + chosen.product
    bookable = ~plan.payment_failed[chosen.order]  # failed payments never reserve stock
    fits = _fits(chosen, key, free, bookable, plan) & bookable

    # second round: the lines that found nothing try a substitute from what is left
    left = free - np.bincount(key[fits], chosen.quantity[fits], minlength=len(free))
    retry = np.flatnonzero(bookable & ~fits)
    swap = Lines(chosen.order[retry], chosen.product[retry], chosen.quantity[retry])
    in_stock = (left > 0).reshape(listed.shape) & listed
    swap.product = _ranked_candidates(
        rng, catalog.price, plan.warehouse[swap.order], catalog.price[swap.product], in_stock, catalog.popularity
    )[:, 0]
    swap_key = plan.warehouse[swap.order] * n_products + swap.product
    taken = np.isin(swap.order * n_products + swap.product, chosen.order[fits] * n_products + chosen.product[fits])
    swapped = (
        _fits(swap, swap_key, left, ~taken, plan) & ~taken & first_occurrence(swap.order * n_products + swap.product)
    )

    product = chosen.product.copy()
    product[retry[swapped]] = swap.product[swapped]
    placed = fits.copy()
    placed[retry[swapped]] = True
    local = chosen.order - orders[0]
    stockout = (np.bincount(local, placed, minlength=len(orders)) == 0) & ~plan.payment_failed[orders]
    keep = placed | ~bookable | stockout[local]
    return Lines(chosen.order[keep], product[keep], chosen.quantity[keep]), stockout


def _fits(new: Lines, key: np.ndarray, free: np.ndarray, bookable: np.ndarray, plan: OrderPlan) -> np.ndarray:
    """Whether each line still finds free stock, first come first served. Lines of orders that end up
    cancelled keep their place in the queue, which errs on the side of never overselling."""
    idx = np.flatnonzero(bookable)
    idx = idx[np.lexsort((idx, plan.placed_ms[new.order[idx]], key[idx]))]
    cum = np.cumsum(new.quantity[idx])
    group_start = np.r_[True, key[idx][1:] != key[idx][:-1]]
    before = np.maximum.accumulate(np.where(group_start, cum - new.quantity[idx], 0))
    fits = np.ones(len(new), dtype=bool)
    fits[idx] = cum - before <= free[key[idx]]
    return fits


def _add_order_entries(
    ledger: _Ledger,
    plan: OrderPlan,
    new: Lines,
    key: np.ndarray,
    take: np.ndarray,
    pos: np.ndarray,
    n_lines: np.ndarray,
) -> None:
    """Entries accepted orders will cause: a sale when shipped, stock back from RTO parcels and returns."""
    o, k, q = new.order[take], key[take], new.quantity[take]
    for ms, sign, kind, ref, rows in (
        (plan.shipped_ms[o], -1, "sale", "order", np.ones(len(o), dtype=bool)),
        (plan.rto_back_ms[o], 1, "return", "order", np.ones(len(o), dtype=bool)),
        (plan.return_received_ms[o], 1, "return", "return", pos[take] == plan.return_line_pos[o] % n_lines[take]),
    ):
        rows = rows & (ms != NA)
        units = return_quantity(q, plan.return_frac[o]) if ref == "return" else q
        ledger.add(k[rows], ms[rows], sign * units[rows], ADJUSTMENT_TYPES.index(kind), REFERENCES.index(ref), o[rows])


def simulate_inventory(config: GeneratorConfig, plan: OrderPlan, clock: LocalClock, window: Window) -> Inventory:
    store = plan.store
    catalog = store.catalog
    n_wh, n_products = len(store.spec.warehouses), len(catalog)
    size = n_wh * n_products
    rng = rng_for(config.seed, "inventory", store.index)

    # planning parameters from expected demand per warehouse and product
    popularity = catalog.popularity * catalog.active
    orders_per_day = max(len(plan), 1) / window.days
    wh_share = np.bincount(plan.warehouse, minlength=n_wh) / max(len(plan), 1)
    demand = (orders_per_day * 1.6 * 1.25 * wh_share[:, None] * (popularity / popularity.sum())[None, :]).ravel()
    lead = np.repeat([w.lead_time_days for w in store.spec.warehouses], n_products)
    reorder_point = np.ceil(demand * (lead + 2) * rng.uniform(0.4, 1.4, size)).astype(np.int64) + 1
    order_up_to = reorder_point + np.ceil(demand * rng.uniform(7, 21, size)).astype(np.int64) + 2
    opening = np.rint(demand * rng.uniform(0.5, 25, size)).astype(np.int64) + rng.integers(0, 4, size)

    # purchase orders already on their way when the window opens
    first_day = int(clock.local_day(window.start_ms))
    ledger = _Ledger()
    inbound = np.flatnonzero(opening < reorder_point)
    arrive = window.start_ms + np.rint(rng.uniform(0.1, lead[inbound]) * DAY_MS).astype(np.int64)
    ledger.add(
        inbound,
        arrive,
        order_up_to[inbound] - opening[inbound],
        0,
        REFERENCES.index("purchase_order"),
        np.arange(len(inbound)),
    )
    po_serial = len(inbound)
    last_day = int(clock.local_day(window.end_ms - 1))
    order_day = clock.local_day(plan.placed_ms)
    release = plan.release_ms
    lines: list[Lines] = []
    accepted = np.zeros(len(plan), dtype=bool)
    stockout = np.zeros(len(plan), dtype=bool)
    snapshots: list[tuple] = [(first_day - 1, opening, clock.midnight(first_day))]

    def reserved_at(ms: int) -> np.ndarray:
        if not lines:
            return np.zeros(size, np.int64)
        order = np.concatenate([x.order for x in lines])
        held = accepted[order] & (plan.placed_ms[order] < ms) & (release[order] >= ms)
        keys = plan.warehouse[order] * n_products + np.concatenate([x.product for x in lines])
        return np.bincount(keys[held], np.concatenate([x.quantity for x in lines])[held], minlength=size).astype(
            np.int64
        )

    for day in range(first_day, last_day + 1):
        start, end = clock.midnight(day), clock.midnight(day + 1)
        day_rng = rng_for(config.seed, "inventory", store.index, day)
        free = ledger.on_hand(opening, start) - reserved_at(start)
        booked = np.zeros(size, dtype=np.int64)
        today = np.flatnonzero(order_day == day)  # orders are in time order, so this is a range
        if len(today):
            listed = (free > 0).reshape(n_wh, n_products) & catalog.active & (catalog.launched_ms <= start)
            new, short = _book(day_rng, plan, today, free, listed)
            lines.append(new)
            stockout[today[short]] = True
            accepted[today[~short & ~plan.payment_failed[today]]] = True
            key = plan.warehouse[new.order] * n_products + new.product
            take = accepted[new.order]
            booked = np.bincount(key[take], new.quantity[take], minlength=size)
            n_lines = np.bincount(new.order - today[0], minlength=len(today))
            _add_order_entries(ledger, plan, new, key, take, rank_in_group(new.order), n_lines[new.order - today[0]])

        # shrinkage and manual corrections come out of stock nobody has reserved
        spare = free - booked
        lost = np.where(day_rng.random(size) < SHRINKAGE_RATE, np.minimum(day_rng.geometric(0.6, size), spare), 0)
        fix = np.where(day_rng.random(size) < CORRECTION_RATE, day_rng.choice([-3, -2, -1, 1, 2, 3], size), 0)
        fix = np.maximum(fix, -(spare - lost))
        for delta, kind in ((-lost, "shrinkage"), (fix, "manual_correction")):
            where = np.flatnonzero(delta)
            at = start + day_rng.integers(0, end - start, len(where))
            ledger.add(where, at, delta[where], ADJUSTMENT_TYPES.index(kind), 0, -1)

        # end of day: count, then reorder what fell below its reorder point
        on_hand = ledger.on_hand(opening, end)
        if end < window.end_ms:  # counts taken at the very end go out with the next export
            snapshots.append((day, on_hand, end))
        on_order = ledger.on_order(size, end)
        position = on_hand - reserved_at(end) + on_order
        reorder = np.flatnonzero((position < reorder_point) & (on_order == 0))
        if len(reorder):
            arrive = np.array([clock.midnight(int(day + d)) for d in lead[reorder]])
            arrive += day_rng.integers(8 * HOUR_MS, 14 * HOUR_MS, len(reorder))
            serials = po_serial + np.arange(len(reorder))
            po_serial += len(reorder)
            ledger.add(
                reorder,
                arrive,
                order_up_to[reorder] - position[reorder],
                0,
                REFERENCES.index("purchase_order"),
                serials,
            )

    key, ms, delta, kind, ref_kind, ref_serial = ledger.columns()
    all_lines = Lines(*(np.concatenate([getattr(x, f) for x in lines]) for f in ("order", "product", "quantity")))
    by_order = np.argsort(all_lines.order, kind="stable")
    all_lines = Lines(all_lines.order[by_order], all_lines.product[by_order], all_lines.quantity[by_order])

    snap_day = np.concatenate([np.full(size, d) for d, _, _ in snapshots])
    snap_on_hand = np.concatenate([v for _, v, _ in snapshots])
    snap_ms = np.concatenate([np.full(size, t) for _, _, t in snapshots])
    mismatched = (np.arange(len(snap_day)) >= size) & (rng.random(len(snap_day)) < config.rates.snapshot_mismatches)
    off = rng.integers(1, 6, len(snap_day)) * np.where(rng.random(len(snap_day)) < 0.5, -1, 1)
    off = np.where(snap_on_hand + off < 0, -off, off)
    snap_on_hand = np.where(mismatched, snap_on_hand + off, snap_on_hand)
    lots = _lots(rng_for(config.seed, "lots", store.index), config, n_products, key, ms, kind)
    return Inventory(
        lines=all_lines,
        stockout=stockout,
        key=key,
        adjusted_ms=ms,
        delta=delta,
        kind=kind,
        ref_kind=ref_kind,
        ref_serial=ref_serial,
        snapshot_day=snap_day,
        snapshot_key=np.tile(np.arange(size), len(snapshots)),
        snapshot_on_hand=snap_on_hand,
        snapshot_taken_ms=snap_ms,
        snapshot_mismatches=int(mismatched.sum()),
        lots=lots,
    )


def _lots(
    rng: np.random.Generator, config: GeneratorConfig, n_products: int, key: np.ndarray, ms: np.ndarray, kind
) -> Lots:
    """The lot each receipt comes from, its expiry, and the receipt's planted defect."""
    shelf_life = rng.choice(SHELF_LIFE_DAYS, n_products, p=SHELF_LIFE_SHARES)[key % n_products]
    made_ms = ms - np.rint(rng.uniform(0.2, 0.6, len(ms)) * np.minimum(shelf_life, 35) * DAY_MS).astype(np.int64)
    receipt = kind == ADJUSTMENT_TYPES.index("receipt")
    r = config.rates
    rates = [r.receipt_missing_lot, r.receipt_messy_lot, r.receipt_expiry_before_receipt, r.receipt_day_first_expiry]
    return Lots(
        week=np.where(receipt, made_ms // WEEK_MS, -1),
        expiry_day=made_ms // DAY_MS + shelf_life,
        defect=pick_exclusive(rng, receipt, rates),
    )


def _lot_columns(inventory: Inventory, order: np.ndarray, sku: pa.StringArray, n_products: int):
    """lot_number and expiry_date as CSV text (a messy lot planted), and expiry_date as first keyed:
    broken on the receipts with an expiry defect, the same as expiry_date elsewhere."""
    lots, key = inventory.lots, inventory.key[order]
    week, expiry, defect = lots.week[order], lots.expiry_day[order], lots.defect[order]
    receipt = (week >= 0) & (defect != LOT_DEFECTS.index("missing_lot"))
    rows = pa.array(receipt)
    skus = sku.take(pa.array(key[receipt] % n_products))
    lot = pc.binary_join_element_wise(skus, pa.array([f"{w:05d}" for w in week[receipt]], pa.string()), "-L")
    messy = defect[receipt] == LOT_DEFECTS.index("messy_lot")
    lot = pc.if_else(pa.array(messy), pc.binary_join_element_wise(" ", pc.utf8_lower(lot), " ", ""), lot)
    lot_number = pc.replace_with_mask(pa.nulls(len(order), pa.string()), rows, lot)
    text = date_strings(expiry)
    # an expiry before the receipt: the lot's manufacturing date keyed in its place
    early = defect == LOT_DEFECTS.index("out_of_range:expiry_date")
    keyed = date_strings(np.where(early, inventory.adjusted_ms[order] // DAY_MS - 1 - (expiry % 30), expiry))
    parts = pc.split_pattern(keyed, "-")
    flipped = pc.binary_join_element_wise(*(pc.list_element(parts, i) for i in (2, 1, 0)), "/")
    keyed = pc.if_else(pa.array(defect == LOT_DEFECTS.index("invalid_type:expiry_date")), flipped, keyed)
    nulls = pa.nulls(len(order), pa.string())
    return lot_number, pc.if_else(rows, text, nulls), pc.if_else(rows, keyed, nulls)


def _resend_fixed(columns: dict, defect: np.ndarray, keyed_expiry: pa.Array) -> tuple[dict, np.ndarray]:
    """A receipt keyed with a broken expiry goes out as keyed, then again, fixed, under the same id
    (the clerk's correction): landing quarantines the first copy and the ledger keeps the receipt.
    Returns the columns with the copies and, per row, the row it copies."""
    broken = np.flatnonzero(np.isin(defect, [LOT_DEFECTS.index(d) for d in LOT_QUARANTINE]))
    rows = np.sort(np.r_[np.arange(len(defect)), broken], kind="stable")
    first_copy = pa.array(np.r_[rows[1:] == rows[:-1], False])
    index = pa.array(rows)
    out = {k: v.take(index) if isinstance(v, pa.Array) else np.asarray(v)[rows] for k, v in columns.items()}
    out["expiry_date"] = pc.if_else(first_copy, keyed_expiry.take(index), out["expiry_date"])
    return out, rows


def inventory_extracts(plan: OrderPlan, inventory: Inventory, window: Window) -> list[Extract]:
    store = plan.store
    sid, n_products = store.id, len(store.catalog)
    order = np.lexsort((inventory.key, inventory.adjusted_ms))
    key, ms, ref_kind, ref_serial = (
        a[order] for a in (inventory.key, inventory.adjusted_ms, inventory.ref_kind, inventory.ref_serial)
    )
    lot_number, expiry_date, keyed_expiry = _lot_columns(inventory, order, store.catalog.sku, n_products)
    reference = pa.nulls(len(key), pa.string())
    for prefix, kind in (("ord", "order"), ("ret", "return"), ("po", "purchase_order")):
        rows = ref_kind == REFERENCES.index(kind)
        reference = pc.replace_with_mask(reference, pa.array(rows), backoffice_ids(prefix, sid, ref_serial[rows]))
    columns, rows = _resend_fixed(
        {
            "adjustment_id": backoffice_ids("adj", sid, np.arange(len(key)), 9),
            "store_id": repeat(sid, len(key)),
            "warehouse_id": take_strings(store.warehouse_ids, key // n_products),
            "product_id": store.catalog.product_id.take(pa.array(key % n_products)),
            "adjusted_at": ms,
            "adjustment_type": take_strings(ADJUSTMENT_TYPES, inventory.kind[order]),
            "quantity_delta": inventory.delta[order],
            "reference_id": reference,
            "lot_number": lot_number,
            "expiry_date": expiry_date,
        },
        inventory.lots.defect[order],
        keyed_expiry,
    )
    adjustments = Extract("inventory_adjustments", columns, export_ms=ms[rows])
    snap_key = inventory.snapshot_key
    snapshots = Extract(
        "stock_snapshots",
        {
            "snapshot_date": inventory.snapshot_day,
            "store_id": repeat(sid, len(snap_key)),
            "warehouse_id": take_strings(store.warehouse_ids, snap_key // n_products),
            "product_id": store.catalog.product_id.take(pa.array(snap_key % n_products)),
            "on_hand": inventory.snapshot_on_hand,
            "taken_at": inventory.snapshot_taken_ms,
        },
        export_ms=inventory.snapshot_taken_ms,
    )
    return [adjustments, snapshots]
