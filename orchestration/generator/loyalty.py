"""The loyalty programme (extract `loyalty_transactions` of the CRM): a share of a store's customers are
members; they earn a point per USD of items on every order in the window, pay part of some orders with
points (booked at checkout, just before the order) and now and then get bonus points (a review, a
birthday) that name no order.

Dirt: entries written with a negative point count (quarantined), entries re-sent (dropped as
duplicates) and entries a lagging sync exports two days late (landed in their own date's partition). The
truth repeats the mart's counts on exactly the rows that land, by the store's local date.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .clock import DAY_MS, MINUTE_MS, SECOND_MS, LocalClock, Window
from .config import GeneratorConfig, rng_for
from .dirt import duplicate_rows
from .ids import backoffice_ids
from .orders import OrderBook
from .writers import Extract, repeat

MEMBER_SHARE = 0.4  # of the store's customers
REDEEM_SHARE = 0.2  # of members' orders, part paid with points
REDEEM_STEPS = (2, 13)  # redemptions of 100 to 600 points, in steps of 50
BONUS_PER_MEMBER_DAY = 0.01
BONUS_POINTS = (50, 201)
LATE_DAYS = 2


class Loyalty:
    """One store's loyalty ledger over the window, and its truth."""

    def __init__(
        self,
        config: GeneratorConfig,
        book: OrderBook,
        clock: LocalClock,
        window: Window,
        customer_ids: pa.StringArray,
    ) -> None:
        plan, store = book.plan, book.plan.store
        rng = rng_for(config.seed, "loyalty", store.index)
        member = rng.random(len(customer_ids)) < MEMBER_SHARE

        orders = np.flatnonzero(member[plan.customer] & window.contains(plan.placed_ms))
        earned = np.maximum(1, np.floor(book.subtotal[orders] / 100 / store.spec.price_factor)).astype(np.int64)
        earned_at = plan.placed_ms[orders] + rng.integers(MINUTE_MS, 10 * MINUTE_MS, len(orders))
        redeemed = orders[rng.random(len(orders)) < REDEEM_SHARE]
        redeemed_points = rng.integers(*REDEEM_STEPS, len(redeemed)) * 50
        redeemed_at = plan.placed_ms[redeemed] - rng.integers(10 * SECOND_MS, MINUTE_MS, len(redeemed))
        members = np.flatnonzero(member)
        who, day = np.nonzero(rng.random((len(members), window.days)) < BONUS_PER_MEMBER_DAY)
        bonus_at = window.start_ms + day * DAY_MS + rng.integers(0, DAY_MS, len(day))

        kind = np.r_[np.zeros(len(orders) + len(day), bool), np.ones(len(redeemed), bool)]  # True: redeemed
        customer = np.r_[plan.customer[orders], members[who], plan.customer[redeemed]]
        points = np.r_[earned, rng.integers(*BONUS_POINTS, len(day)), redeemed_points]
        order = np.r_[orders, np.full(len(day), -1), redeemed]
        at = np.r_[earned_at, bonus_at, redeemed_at]
        keep = window.contains(at)
        kind, customer, points, order, at = (a[keep] for a in (kind, customer, points, order, at))
        by_time = np.lexsort((order, at))
        kind, customer, points, order, at = (a[by_time] for a in (kind, customer, points, order, at))

        rates, m = config.rates, len(at)
        bad = rng.random(m) < rates.loyalty_negative_points
        late = ~bad & (at + LATE_DAYS * DAY_MS < window.end_ms) & (rng.random(m) < rates.loyalty_late_rows)
        rows = duplicate_rows(rng, m, rates.loyalty_resent_rows, eligible=~bad & ~late)
        order_ids = backoffice_ids("ord", store.id, np.arange(len(book)))
        self.extract = Extract(
            "loyalty_transactions",
            {
                "loyalty_transaction_id": backoffice_ids("loy", store.id, rows, 9),
                "store_id": repeat(store.id, len(rows)),
                "customer_id": customer_ids.take(pa.array(customer[rows])),
                "transaction_type": pa.array(np.where(kind[rows], "redeemed", "earned"), pa.string()),
                "points": np.where(bad, -points, points)[rows],
                "order_id": order_ids.take(pa.array(order[rows], mask=order[rows] < 0)),
                "occurred_at": at[rows],
            },
            export_ms=np.where(late, at + LATE_DAYS * DAY_MS, at)[rows],
        )
        landed = ~bad
        local_day = clock.local_day(at)
        member_days = np.unique(np.c_[customer[landed], local_day[landed]], axis=0)
        self.truth = {
            "members": int(member.sum()),
            "points_earned": int(points[landed & ~kind].sum()),
            "points_redeemed": int(points[landed & kind].sum()),
            "redemptions": int((landed & kind).sum()),
            "member_days": len(member_days),
            "quarantined": int(bad.sum()),
            "resent": len(rows) - m,
            "late": int(late.sum()),
        }
