"""The order management and logistics side of every purchase: payment attempts, fulfilment, delivery,
returns, refunds, chargebacks and reviews.

`plan_orders` draws everything that does not depend on which products are bought; the inventory
simulation then picks the items (limited by stock) and `finish_orders` prices them and builds the rows."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pyarrow as pa

from .clock import DAY_MS, HOUR_MS, MINUTE_MS, NA, NEVER, SECOND_MS
from .config import GeneratorConfig, rng_for
from .customers import Customers, Purchases
from .devices import COUNTRY_CODES, PLATFORMS, Devices
from .ids import CART, backoffice_ids, tracker_ids
from .reference import INTERNATIONAL, Store, round_money
from .text import take_strings
from .writers import Extract, repeat

# success rate per attempt, median latency (ms), latency sigma, methods with weights, gives a risk score
GATEWAYS = {
    "stripe": (0.96, 320, 0.35, {"card": 0.8, "wallet": 0.2}, True),
    "adyen": (0.93, 430, 0.45, {"card": 0.7, "wallet": 0.15, "bank_transfer": 0.15}, True),
    "paypal": (0.90, 850, 0.5, {"paypal": 1.0}, False),
    "klarna": (0.85, 1300, 0.55, {"bnpl": 1.0}, True),
}
GATEWAY_NAMES = tuple(GATEWAYS)
METHODS = ("card", "wallet", "paypal", "bnpl", "bank_transfer")
DECLINE_CODES = (
    "insufficient_funds",
    "do_not_honor",
    "expired_card",
    "fraud_suspected",
    "authentication_failed",
    "processing_error",
)
DECLINE_WEIGHTS = np.array([0.3, 0.25, 0.1, 0.08, 0.17, 0.1])
RETRY_AFTER_FAILURE = (0.75, 0.5)  # chance of a second, third attempt

# promised days, on-time rate, transit sigma, first-attempt delivery rate
CARRIERS = {
    "ups": (3, 0.92, 0.30, 0.90),
    "fedex": (3, 0.94, 0.25, 0.92),
    "dhl": (4, 0.86, 0.35, 0.87),
    "royal_mail": (2, 0.82, 0.40, 0.85),
    "yamato": (1, 0.97, 0.20, 0.95),
    "auspost": (4, 0.78, 0.45, 0.83),
    "correios": (7, 0.65, 0.55, 0.75),
}
CARRIER_NAMES = tuple(CARRIERS)
LATER_ATTEMPT_SUCCESS = (0.7, 0.6)  # second and third delivery attempts

RETURN_REASONS = ("wrong_size", "damaged", "not_as_described", "changed_mind", "late")
RETURN_WEIGHTS = np.array([0.3, 0.12, 0.18, 0.35, 0.05])
RETURN_STATUSES = ("requested", "received", "rejected")
REFUND_REASONS = ("returned", "damaged", "late_delivery", "goodwill", "cancelled")
CHARGEBACK_REASONS = ("fraudulent", "product_not_received", "not_as_described", "duplicate", "credit_not_processed")
CHARGEBACK_WEIGHTS = np.array([0.45, 0.2, 0.15, 0.08, 0.12])
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled")

CUSTOMER_CANCEL_RATE = 0.02
RETURN_RATE = 0.09
DAMAGED_REFUND_RATE = 0.015
LATE_REFUND_RATE = 0.2
GOODWILL_REFUND_RATE = 0.007
CHARGEBACK_RATE = 0.006
REVIEW_RATE = 0.12
CODE_USE_RATE = 0.14
ITEM_DISCOUNT_RATE = 0.08
LINES_PER_ORDER_CAP = 4


def _lognormal_ms(
    rng: np.random.Generator, median_ms: float | np.ndarray, sigma: float | np.ndarray, n: int
) -> np.ndarray:
    return np.rint(median_ms * rng.lognormal(0.0, sigma, n)).astype(np.int64)


def _when(mask: np.ndarray, ms: np.ndarray) -> np.ndarray:
    return np.where(mask, ms, NA)


@dataclass
class Lines:
    """Order lines, grouped by order."""

    order: np.ndarray
    product: np.ndarray
    quantity: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


@dataclass
class OrderPlan:
    """Per order, everything that does not depend on the items."""

    store: Store
    placed_ms: np.ndarray
    customer: np.ndarray
    device: np.ndarray
    first_on_device: np.ndarray
    platform: np.ndarray
    warehouse: np.ndarray
    dest_country: np.ndarray
    dest_region: np.ndarray
    n_items: np.ndarray
    spend: np.ndarray  # Gamma-Gamma target for the basket, hundredths
    # payment attempts: (n, 3) matrices, attempt k exists where attempt_ms[:, k] != NA
    gateway: np.ndarray
    method: np.ndarray
    attempt_ms: np.ndarray
    attempt_ok: np.ndarray
    latency_ms: np.ndarray
    decline: np.ndarray
    risk: np.ndarray
    paid_ms: np.ndarray
    payment_failed: np.ndarray
    cancel_ms: np.ndarray  # customer cancellation or failed payment
    shipped_ms: np.ndarray
    carrier: np.ndarray
    eta_ms: np.ndarray
    delivery_attempt_ms: np.ndarray  # (n, 3)
    delivery_attempts: np.ndarray
    delivered_ms: np.ndarray
    rto_ms: np.ndarray
    rto_back_ms: np.ndarray  # parcel back in the warehouse
    return_requested_ms: np.ndarray
    return_status: np.ndarray
    return_resolved_ms: np.ndarray
    return_line_pos: np.ndarray
    return_frac: np.ndarray
    return_reason: np.ndarray
    refund_draw: np.ndarray  # (n, 4) uniforms deciding damaged / late / goodwill refunds and their size
    chargeback_opened_ms: np.ndarray
    chargeback_resolved_ms: np.ndarray
    chargeback_won: np.ndarray
    chargeback_reason: np.ndarray
    review_ms: np.ndarray
    review_line_pos: np.ndarray
    review_noise: np.ndarray
    reload: np.ndarray  # the purchase confirmation page is reloaded (dirt)

    def __len__(self) -> int:
        return len(self.placed_ms)

    @property
    def release_ms(self) -> np.ndarray:
        """When reserved stock leaves the books: shipped, or cancelled before shipping."""
        out = np.where(self.shipped_ms != NA, self.shipped_ms, self.cancel_ms)
        return np.where(out == NA, NEVER, out)

    @property
    def return_received_ms(self) -> np.ndarray:
        return _when(self.return_status == 1, self.return_resolved_ms)


def return_quantity(line_qty: np.ndarray, frac: np.ndarray) -> np.ndarray:
    return np.minimum(1 + np.floor(frac * line_qty).astype(np.int64), line_qty)


def plan_orders(
    config: GeneratorConfig,
    store: Store,
    customers: Customers,
    purchases: Purchases,
    devices: Devices,
    first_device: int,
) -> OrderPlan:
    rng = rng_for(config.seed, "orders", store.index)
    spec = store.spec
    n = len(purchases)
    who = purchases.customer
    country = customers.country[who]
    region = customers.region[who]
    domestic = region < len(spec.regions)

    # fulfilment warehouse: the one serving the region, sometimes another one
    region_names = [r for r, _ in spec.regions] + [INTERNATIONAL]
    serving = np.array([next((w for w, wh in enumerate(spec.warehouses) if r in wh.serves), 0) for r in region_names])
    warehouse = serving[region]
    if len(spec.warehouses) > 1:
        other = rng.random(n) < 0.15
        warehouse = np.where(other, (warehouse + 1) % len(spec.warehouses), warehouse)

    # payments
    gateway_names = [g for g, _ in spec.gateways]
    gateway = np.array([GATEWAY_NAMES.index(g) for g in gateway_names])[
        rng.choice(len(gateway_names), n, p=[w for _, w in spec.gateways])
    ]
    method = np.empty(n, dtype=np.int64)
    success = np.array([GATEWAYS[g][0] for g in GATEWAY_NAMES])[gateway]
    for g, (_, _, _, methods, _) in enumerate(GATEWAYS.values()):
        rows = gateway == g
        method[rows] = np.array([METHODS.index(m) for m in methods])[
            rng.choice(len(methods), rows.sum(), p=list(methods.values()))
        ]
    median = np.array([GATEWAYS[g][1] for g in GATEWAY_NAMES])[gateway]
    sigma = np.array([GATEWAYS[g][2] for g in GATEWAY_NAMES])[gateway]
    latency = np.stack([_lognormal_ms(rng, median, sigma, n) for _ in range(3)], axis=1)
    ok = rng.random((n, 3)) < success[:, None]
    exists = np.ones((n, 3), dtype=bool)
    for k, retry in enumerate(RETRY_AFTER_FAILURE, start=1):
        exists[:, k] = exists[:, k - 1] & ~ok[:, k - 1] & (rng.random(n) < retry)
    ok &= exists
    gaps = rng.integers(20 * SECOND_MS, 6 * MINUTE_MS, (n, 3))
    gaps[:, 0] = rng.integers(SECOND_MS, 5 * SECOND_MS, n)
    attempt_ms = purchases.time_ms[:, None] + np.cumsum(gaps + np.c_[np.zeros(n, np.int64), latency[:, :2]], axis=1)
    attempt_ms = np.where(exists, attempt_ms, NA)
    paid_k = np.argmax(ok, axis=1)
    paid = ok.any(axis=1)
    paid_ms = _when(paid, attempt_ms[np.arange(n), paid_k] + latency[np.arange(n), paid_k])
    decline = np.where(exists & ~ok, rng.choice(len(DECLINE_CODES), (n, 3), p=DECLINE_WEIGHTS), -1)
    fraud = decline == DECLINE_CODES.index("fraud_suspected")
    risk = np.where(fraud, rng.integers(80, 100, (n, 3)), np.rint(rng.beta(2, 12, (n, 3)) * 100)).astype(np.int64)
    gives_risk = np.array([GATEWAYS[g][4] for g in GATEWAY_NAMES])[gateway]
    risk = np.where(gives_risk[:, None], risk, NA)
    last_attempt = np.max(np.where(exists, attempt_ms, 0), axis=1)

    # cancellation, fulfilment and delivery
    handling = np.clip(_lognormal_ms(rng, 20 * HOUR_MS, 0.5, n), 2 * HOUR_MS, 4 * DAY_MS)
    customer_cancel = paid & (rng.random(n) < CUSTOMER_CANCEL_RATE)
    cancel_ms = np.where(
        customer_cancel,
        paid_ms + np.rint(handling * rng.uniform(0.1, 0.9, n)).astype(np.int64),
        _when(~paid, last_attempt + rng.integers(5 * MINUTE_MS, 60 * MINUTE_MS, n)),
    )
    shipped = paid & ~customer_cancel
    shipped_ms = _when(shipped, paid_ms + handling)
    carrier_names = [c for c, _ in spec.carriers]
    carrier = np.where(
        domestic,
        np.array([CARRIER_NAMES.index(c) for c in carrier_names])[
            rng.choice(len(carrier_names), n, p=[w for _, w in spec.carriers])
        ],
        CARRIER_NAMES.index("dhl"),
    )
    promised, on_time, transit_sigma, first_ok = (
        np.array([CARRIERS[c][i] for c in CARRIER_NAMES])[carrier] for i in range(4)
    )
    eta_ms = _when(shipped, shipped_ms + promised * DAY_MS)
    z = np.array([NormalDist().inv_cdf(p) for p in on_time])
    transit = np.rint(promised * DAY_MS * np.exp(-transit_sigma * z) * rng.lognormal(0.0, transit_sigma)).astype(
        np.int64
    )
    attempt_gap = np.rint(rng.uniform(0.8, 1.3, (n, 2)) * DAY_MS).astype(np.int64)
    delivery_attempt_ms = (
        shipped_ms[:, None] + transit[:, None] + np.c_[np.zeros(n, np.int64), np.cumsum(attempt_gap, axis=1)]
    )
    delivered_at_attempt = np.stack(
        [rng.random(n) < first_ok] + [rng.random(n) < p for p in LATER_ATTEMPT_SUCCESS], axis=1
    )
    delivered = shipped & delivered_at_attempt.any(axis=1)
    k = np.argmax(delivered_at_attempt, axis=1)
    delivery_attempts = np.where(delivered, k + 1, 3)
    delivered_ms = _when(delivered, delivery_attempt_ms[np.arange(n), k])
    rto = shipped & ~delivered
    rto_ms = _when(rto, delivery_attempt_ms[:, 2] + 2 * DAY_MS)
    rto_back_ms = _when(rto, rto_ms + transit)
    delivery_attempt_ms = np.where(shipped[:, None], delivery_attempt_ms, NA)
    late = delivered & (delivered_ms > eta_ms)

    # returns, refunds, chargebacks, reviews
    returned = delivered & (rng.random(n) < RETURN_RATE)
    requested = _when(returned, delivered_ms + np.rint((0.5 + rng.exponential(4, n)) * DAY_MS).astype(np.int64))
    outcome = rng.random(n)
    return_status = np.where(returned, np.select([outcome < 0.85, outcome < 0.92], [1, 2], 0), -1)
    resolved = requested + np.rint(
        np.where(return_status == 1, rng.uniform(2, 7, n), rng.uniform(3, 8, n)) * DAY_MS
    ).astype(np.int64)
    return_reason = rng.choice(len(RETURN_REASONS), n, p=RETURN_WEIGHTS)
    return_reason = np.where(
        (return_reason == RETURN_REASONS.index("late")) & ~late, RETURN_REASONS.index("changed_mind"), return_reason
    )
    chargeback = shipped & (rng.random(n) < CHARGEBACK_RATE)
    opened = _when(chargeback, paid_ms + np.rint((2 + rng.exponential(14, n)) * DAY_MS).astype(np.int64))
    reviewed = delivered & (rng.random(n) < REVIEW_RATE)

    spend = np.rint(purchases.spend * 100).astype(np.int64)
    return OrderPlan(
        store=store,
        placed_ms=purchases.time_ms,
        customer=who,
        device=purchases.device,
        first_on_device=purchases.first_on_device,
        platform=devices.platform[purchases.device - first_device],
        warehouse=warehouse,
        dest_country=country,
        dest_region=region,
        n_items=np.minimum(1 + rng.poisson(0.6, n), LINES_PER_ORDER_CAP),
        spend=spend,
        gateway=gateway,
        method=method,
        attempt_ms=attempt_ms,
        attempt_ok=ok,
        latency_ms=latency,
        decline=decline,
        risk=risk,
        paid_ms=paid_ms,
        payment_failed=~paid,
        cancel_ms=cancel_ms,
        shipped_ms=shipped_ms,
        carrier=carrier,
        eta_ms=eta_ms,
        delivery_attempt_ms=delivery_attempt_ms,
        delivery_attempts=delivery_attempts,
        delivered_ms=delivered_ms,
        rto_ms=rto_ms,
        rto_back_ms=rto_back_ms,
        return_requested_ms=requested,
        return_status=return_status,
        return_resolved_ms=_when(returned & (return_status > 0), resolved),
        return_line_pos=rng.integers(0, LINES_PER_ORDER_CAP, n),
        return_frac=rng.random(n),
        return_reason=return_reason,
        refund_draw=rng.random((n, 4)),
        chargeback_opened_ms=opened,
        chargeback_resolved_ms=_when(chargeback, opened + np.rint(rng.uniform(20, 60, n) * DAY_MS).astype(np.int64)),
        chargeback_won=rng.random(n) < 0.4,
        chargeback_reason=rng.choice(len(CHARGEBACK_REASONS), n, p=CHARGEBACK_WEIGHTS),
        review_ms=_when(reviewed, delivered_ms + np.rint((0.3 + rng.exponential(3, n)) * DAY_MS).astype(np.int64)),
        review_line_pos=rng.integers(0, LINES_PER_ORDER_CAP, n),
        review_noise=rng.normal(0.0, 0.9, n),
        reload=rng.random(n) < config.rates.purchase_reloads,
    )


@dataclass
class OrderBook:
    """Final orders: items priced, stock-outs cancelled, one refund at most per order."""

    plan: OrderPlan
    lines: Lines
    first_line: np.ndarray  # per order, index of its first line
    n_lines: np.ndarray
    unit_price: np.ndarray
    item_discount: np.ndarray
    subtotal: np.ndarray
    order_discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    code: np.ndarray  # index into the store's discount codes, -1 for none
    stockout: np.ndarray
    refund_ms: np.ndarray
    refund_reason: np.ndarray  # index into REFUND_REASONS, -1 for none
    refund_amount: np.ndarray

    def __len__(self) -> int:
        return len(self.total)

    def line_of(self, position: np.ndarray) -> np.ndarray:
        """Global line index of a position (taken modulo the order's line count) in every order."""
        return self.first_line + position % self.n_lines

    @property
    def return_quantity(self) -> np.ndarray:
        line = self.line_of(self.plan.return_line_pos)
        return return_quantity(self.lines.quantity[line], self.plan.return_frac)


def _cancel_stockouts(plan: OrderPlan, stockout: np.ndarray, rng: np.random.Generator) -> None:
    """Orders that could not be reserved are cancelled by the shop a few hours later."""
    n = len(plan)
    after = np.where(plan.paid_ms != NA, plan.paid_ms, plan.placed_ms)
    plan.cancel_ms = np.where(stockout, after + rng.integers(HOUR_MS, 6 * HOUR_MS, n), plan.cancel_ms)
    for name in (
        "shipped_ms",
        "eta_ms",
        "delivered_ms",
        "rto_ms",
        "rto_back_ms",
        "return_requested_ms",
        "return_resolved_ms",
        "chargeback_opened_ms",
        "chargeback_resolved_ms",
        "review_ms",
    ):
        setattr(plan, name, np.where(stockout, NA, getattr(plan, name)))
    plan.delivery_attempt_ms = np.where(stockout[:, None], NA, plan.delivery_attempt_ms)
    plan.return_status = np.where(stockout, -1, plan.return_status)


def _discount_codes(plan: OrderPlan, rng: np.random.Generator) -> np.ndarray:
    """A share of shoppers types a code of a promotion running at the time; limited codes run out."""
    promos = plan.store.promotions
    n = len(plan)
    of_code = promos.code_promotion
    running = (plan.placed_ms[:, None] >= promos.starts_ms[of_code]) & (
        plan.placed_ms[:, None] <= promos.ends_ms[of_code]
    )
    code = np.argmax(rng.random(running.shape) * running, axis=1)
    code = np.where((rng.random(n) < CODE_USE_RATE) & running.any(axis=1), code, -1)
    share = promos.code_share_of_orders
    promos.max_uses = np.where(np.isnan(share), NA, np.maximum(1, np.rint(share * n))).astype(np.int64)
    by_code = np.argsort(code, kind="stable")  # orders are in time order, so this ranks uses per code
    start = np.searchsorted(code[by_code], code[by_code])
    use = np.empty(n, dtype=np.int64)
    use[by_code] = np.arange(n) - start
    limit = np.where(code >= 0, promos.max_uses[code], NA)
    return np.where((limit != NA) & (use >= limit), -1, code)


def finish_orders(config: GeneratorConfig, plan: OrderPlan, lines: Lines, stockout: np.ndarray) -> OrderBook:
    rng = rng_for(config.seed, "order-amounts", plan.store.index)
    spec, catalog, promos = plan.store.spec, plan.store.catalog, plan.store.promotions
    n, step = len(plan), spec.money_step
    _cancel_stockouts(plan, stockout, rng)

    n_lines = np.bincount(lines.order, minlength=n)
    first_line = np.cumsum(n_lines) - n_lines
    unit_price = catalog.price[lines.product]
    line_value = unit_price * lines.quantity
    item_discount = np.where(
        rng.random(len(lines)) < ITEM_DISCOUNT_RATE,
        round_money(line_value * rng.uniform(0.1, 0.3, len(lines)), step),
        0,
    )
    subtotal = np.bincount(lines.order, line_value, minlength=n).astype(np.int64)
    after_items = subtotal - np.bincount(lines.order, item_discount, minlength=n).astype(np.int64)

    code = _discount_codes(plan, rng)
    kind = np.where(code >= 0, promos.kind[promos.code_promotion[code]], -1)
    value = np.where(code >= 0, promos.value[promos.code_promotion[code]], 0)
    order_discount = np.select(
        [kind == 0, kind == 1], [round_money(after_items * value / 10_000, step), np.minimum(value, after_items)], 0
    )
    charged_shipping = (after_items - order_discount < spec.free_shipping_over) & (kind != 2)
    shipping = np.where(charged_shipping, spec.shipping_fee, 0)
    tax = round_money((after_items - order_discount + shipping) * spec.tax_rate, step)
    total = after_items - order_discount + shipping + tax

    book = OrderBook(
        plan=plan,
        lines=lines,
        first_line=first_line,
        n_lines=n_lines,
        unit_price=unit_price,
        item_discount=item_discount,
        subtotal=subtotal,
        order_discount=order_discount,
        shipping=shipping,
        tax=tax,
        total=total,
        code=code,
        stockout=stockout,
        refund_ms=np.full(n, NA),
        refund_reason=np.full(n, -1),
        refund_amount=np.zeros(n, np.int64),
    )
    _refunds(book, rng)
    return book


def _refunds(book: OrderBook, rng: np.random.Generator) -> None:
    """At most one refund per order; the first matching reason wins."""
    plan, n, step = book.plan, len(book), book.plan.store.spec.money_step
    draw = plan.refund_draw
    delivered = plan.delivered_ms != NA
    late = delivered & (plan.delivered_ms > plan.eta_ms)
    line = book.line_of(plan.return_line_pos)
    unit_net = book.unit_price[line] - book.item_discount[line] / book.lines.quantity[line]
    days = rng.uniform(0, 1, n)
    cases = (  # reason, applies, when, amount
        (
            "cancelled",
            (plan.cancel_ms != NA) & (plan.paid_ms != NA),
            plan.cancel_ms + HOUR_MS + days * 2 * DAY_MS,
            book.total,
        ),
        ("cancelled", plan.rto_ms != NA, plan.rto_back_ms + (1 + 2 * days) * DAY_MS, book.total),
        (
            "returned",
            plan.return_status == 1,
            plan.return_resolved_ms + (1 + 4 * days) * DAY_MS,
            round_money(unit_net * book.return_quantity, step),
        ),
        (
            "damaged",
            delivered & (draw[:, 0] < DAMAGED_REFUND_RATE),
            plan.delivered_ms + (1 + 9 * days) * DAY_MS,
            round_money(book.unit_price[line] * (0.3 + 0.7 * draw[:, 3]), step),
        ),
        (
            "late_delivery",
            late & (draw[:, 1] < LATE_REFUND_RATE),
            plan.delivered_ms + (0.5 + 4 * days) * DAY_MS,
            round_money(book.total * 0.1, step),
        ),
        # goodwill gestures come late, often after the order's month has closed
        (
            "goodwill",
            delivered & (draw[:, 2] < GOODWILL_REFUND_RATE),
            plan.delivered_ms + (10 + 50 * days) * DAY_MS,
            round_money(book.total * (0.05 + 0.15 * draw[:, 3]), step),
        ),
    )
    for reason, applies, when, amount in cases:
        new = applies & (book.refund_reason < 0)
        book.refund_reason = np.where(new, REFUND_REASONS.index(reason), book.refund_reason)
        book.refund_ms = np.where(new, np.rint(when).astype(np.int64), book.refund_ms)
        book.refund_amount = np.where(new, np.clip(amount, step, book.total), book.refund_amount)


def _versions(*changes: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entity, time, version code) of every change that happened (time != NA)."""
    entity, ms, code = [], [], []
    for when, version in changes:
        happened = np.flatnonzero(when != NA)
        entity.append(happened)
        ms.append(when[happened])
        code.append(np.full(len(happened), version))
    return np.concatenate(entity), np.concatenate(ms), np.concatenate(code)


def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values.take(pa.array(rows, type=pa.int64()))


def order_extracts(book: OrderBook, customer_ids: pa.StringArray) -> list[Extract]:
    plan, lines = book.plan, book.lines
    store = plan.store
    sid, spec, n = store.id, store.spec, len(book)
    key_base = store.index << 40
    order_id = backoffice_ids("ord", sid, np.arange(n))
    line_id = backoffice_ids("itm", sid, np.arange(len(lines)), 9)
    currency = spec.currency

    # orders: a version per status change; each day's file has the latest
    o, ms, status = _versions(
        (plan.placed_ms, 0), (plan.paid_ms, 1), (plan.shipped_ms, 2), (plan.delivered_ms, 3), (plan.cancel_ms, 4)
    )
    orders = Extract(
        "orders",
        {
            "order_id": _take(order_id, o),
            "store_id": repeat(sid, len(o)),
            "customer_id": _take(customer_ids, plan.customer[o]),
            "cart_id": tracker_ids("cart-", CART, store.index, o),
            "placed_at": plan.placed_ms[o],
            "status": take_strings(ORDER_STATUSES, status),
            "currency": repeat(currency, len(o)),
            "subtotal": book.subtotal[o],
            "order_discount": book.order_discount[o],
            "shipping_amount": book.shipping[o],
            "tax_amount": book.tax[o],
            "total_amount": book.total[o],
            "discount_code": take_strings(store.promotions.code, book.code[o]),
            "platform": take_strings(PLATFORMS, plan.platform[o]),
            "updated_at": ms,
        },
        export_ms=ms,
        key=key_base + o,
    )

    placed = plan.placed_ms[lines.order]
    items = Extract(
        "order_items",
        {
            "order_item_id": line_id,
            "order_id": _take(order_id, lines.order),
            "store_id": repeat(sid, len(lines)),
            "product_id": _take(store.catalog.product_id, lines.product),
            "quantity": lines.quantity,
            "unit_price": book.unit_price,
            "item_discount": book.item_discount,
            "order_placed_at": placed,
            "updated_at": placed,
        },
        export_ms=placed,
    )

    tried = plan.attempt_ms != NA
    po, pk = np.nonzero(tried)
    attempt_serial = (np.cumsum(tried.ravel()) - 1).reshape(tried.shape)
    attempted = plan.attempt_ms[po, pk]
    payments = Extract(
        "payment_attempts",
        {
            "payment_attempt_id": backoffice_ids("pay", sid, attempt_serial[po, pk], 9),
            "order_id": _take(order_id, po),
            "store_id": repeat(sid, len(po)),
            "attempted_at": attempted,
            "gateway": take_strings(GATEWAY_NAMES, plan.gateway[po]),
            "method": take_strings(METHODS, plan.method[po]),
            "status": take_strings(("failed", "captured"), plan.attempt_ok[po, pk].astype(int)),
            "decline_code": take_strings(DECLINE_CODES, plan.decline[po, pk]),
            "amount": book.total[po],
            "currency": repeat(currency, len(po)),
            "latency_ms": plan.latency_ms[po, pk],
            "risk_score": plan.risk[po, pk],
        },
        export_ms=attempted,
    )

    r = np.flatnonzero(book.refund_reason >= 0)
    refunds = Extract(
        "refunds",
        {
            "refund_id": backoffice_ids("rfd", sid, r),
            "order_id": _take(order_id, r),
            "store_id": repeat(sid, len(r)),
            "refunded_at": book.refund_ms[r],
            "amount": book.refund_amount[r],
            "currency": repeat(currency, len(r)),
            "refund_type": take_strings(("partial", "full"), (book.refund_amount[r] == book.total[r]).astype(int)),
            "reason": take_strings(REFUND_REASONS, book.refund_reason[r]),
        },
        export_ms=book.refund_ms[r],
    )

    o, ms, resolved = _versions((plan.return_requested_ms, 0), (plan.return_resolved_ms, 1))
    status = np.where(resolved == 1, plan.return_status[o], 0)
    returns = Extract(
        "returns",
        {
            "return_id": backoffice_ids("ret", sid, o),
            "order_id": _take(order_id, o),
            "order_item_id": _take(line_id, book.line_of(plan.return_line_pos)[o]),
            "store_id": repeat(sid, len(o)),
            "requested_at": plan.return_requested_ms[o],
            "received_at": np.where(status == 1, ms, NA),
            "quantity": book.return_quantity[o],
            "reason": take_strings(RETURN_REASONS, plan.return_reason[o]),
            "status": take_strings(RETURN_STATUSES, status),
        },
        export_ms=ms,
        key=key_base + o,
    )

    # shipments: shipped, then each failed delivery attempt, then delivered or returned to origin
    failed = np.where(plan.delivered_ms != NA, plan.delivery_attempts - 1, 3)
    o, ms, version = _versions(
        (plan.shipped_ms, 0),
        *((_when(failed > k, plan.delivery_attempt_ms[:, k]), k + 1) for k in range(3)),
        (plan.delivered_ms, 4),
        (plan.rto_ms, 5),
    )
    region_names = [r for r, _ in spec.regions] + [INTERNATIONAL]
    shipments = Extract(
        "shipments",
        {
            "shipment_id": backoffice_ids("shp", sid, o),
            "order_id": _take(order_id, o),
            "store_id": repeat(sid, len(o)),
            "warehouse_id": take_strings(store.warehouse_ids, plan.warehouse[o]),
            "carrier": take_strings(CARRIER_NAMES, plan.carrier[o]),
            "destination_country": take_strings(COUNTRY_CODES, plan.dest_country[o]),
            "destination_region": take_strings(region_names, plan.dest_region[o]),
            "shipped_at": plan.shipped_ms[o],
            "eta_at": plan.eta_ms[o],
            "delivery_attempts": np.select([version == 4, version == 5], [plan.delivery_attempts[o], 3], version),
            "delivered_at": np.where(version == 4, plan.delivered_ms[o], NA),
            "returned_to_origin": version == 5,
            "updated_at": ms,
        },
        export_ms=ms,
        key=key_base + o,
    )

    o, ms, resolved = _versions((plan.chargeback_opened_ms, 0), (plan.chargeback_resolved_ms, 1))
    paid_k = np.argmax(plan.attempt_ok, axis=1)
    chargebacks = Extract(
        "chargebacks",
        {
            "chargeback_id": backoffice_ids("cbk", sid, o),
            "payment_attempt_id": backoffice_ids("pay", sid, attempt_serial[o, paid_k[o]], 9),
            "order_id": _take(order_id, o),
            "store_id": repeat(sid, len(o)),
            "opened_at": plan.chargeback_opened_ms[o],
            "amount": book.total[o],
            "currency": repeat(currency, len(o)),
            "reason_code": take_strings(CHARGEBACK_REASONS, plan.chargeback_reason[o]),
            "status": take_strings(("open", "won", "lost"), np.where(resolved == 1, 2 - plan.chargeback_won[o], 0)),
        },
        export_ms=ms,
        key=key_base + o,
    )

    return [orders, items, payments, refunds, returns, shipments, chargebacks]
