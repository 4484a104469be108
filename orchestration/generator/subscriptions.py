"""Subscriptions (extract `subscription_events` of the OMS): a few of a store's customers subscribe to
a plan, renew every billing cycle, change plan, pause, resume and cancel. Most subscriptions started in
the months before the window, so their history lands with the first day's file.

Dirt: renewals of the history an old billing run wrote with a broken currency code (quarantined; they
all go out in the first day's file, the backlog, so no day's file is quarantined past the batch's 5 %),
log entries re-sent (dropped as duplicates) and entries a lagging sync exports two days late (landed in
their own date's partition; landing counts a row late once it is dated more than a day before the
newest date landed, docs/landing.md). The
truth repeats the warehouse's monthly MRR rules (docs/subscriptions-and-loyalty.md) on exactly the rows
that land, per store and store-local month.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from .clock import DAY_MS, Window
from .config import GeneratorConfig, rng_for
from .dirt import duplicate_rows
from .ids import backoffice_ids
from .reference import Store
from .writers import Extract, repeat

# (plan, billing interval in months, USD cents per interval)
PLANS = (("basic", 1, 900), ("plus", 1, 1_900), ("premium", 1, 2_900), ("annual", 12, 19_000))
PLAN_WEIGHTS = [0.4, 0.3, 0.15, 0.15]
SUBSCRIBER_SHARE = 0.04  # of the store's customers
HISTORY_SHARE, HISTORY_DAYS = 0.75, 120  # subscriptions started up to HISTORY_DAYS before the window
CYCLE_DAYS = 30  # a renewal every 30 days per month of the billing interval, while active
ACTIVE_DAILY = {"cancelled": 0.004, "paused": 0.006, "plan_changed": 0.006}  # daily hazards
PAUSED_DAILY = {"resumed": 0.08, "cancelled": 0.01}
BAD_CURRENCY = "XXX"  # not in the contract's set
LATE_DAYS = 2


class Subscriptions:
    """One store's subscription log over its history up to the window's end, and its truth."""

    def __init__(self, config: GeneratorConfig, store: Store, window: Window, customer_ids: pa.StringArray) -> None:
        self.store, self.window = store, window
        rng = rng_for(config.seed, "subscriptions", store.index)
        spec = store.spec
        step = spec.money_step
        self.prices = [round(cents * spec.price_factor / step) * step for _, _, cents in PLANS]
        n = min(len(customer_ids), max(12, round(SUBSCRIBER_SHARE * len(customer_ids))))  # one each at most
        rows: list[tuple[int, int, str, int]] = []  # (subscription, at, event type, plan)
        for s in range(n):
            history = rng.random() < HISTORY_SHARE
            offset = -rng.integers(1, HISTORY_DAYS) * DAY_MS if history else rng.integers(0, window.days) * DAY_MS
            rows += self._life(rng, s, window.start_ms + offset + int(rng.integers(0, DAY_MS)))
        rows.sort(key=lambda r: (r[1], r[0]))
        m = len(rows)
        sub = np.array([r[0] for r in rows], dtype=np.int64)
        at = np.array([r[1] for r in rows], dtype=np.int64)
        kind = np.array([r[2] for r in rows])
        plan = np.array([r[3] for r in rows], dtype=np.int64)
        customer = rng.choice(len(customer_ids), n, replace=False)

        rates = config.rates
        in_window = at >= window.start_ms
        bad = (kind == "renewed") & ~in_window & (rng.random(m) < rates.subscription_unknown_currency)
        exportable_late = in_window & ~bad & (at + LATE_DAYS * DAY_MS < window.end_ms)
        late = exportable_late & (rng.random(m) < rates.subscription_late_rows)
        order = duplicate_rows(rng, m, rates.subscription_resent_rows, eligible=~bad & ~late)
        currency = np.where(bad, BAD_CURRENCY, spec.currency)
        export = np.where(late, at + LATE_DAYS * DAY_MS, at)
        self.extract = Extract(
            "subscription_events",
            {
                "subscription_event_id": backoffice_ids("sbe", store.id, order, 8),
                "subscription_id": backoffice_ids("sub", store.id, sub[order], 6),
                "store_id": repeat(store.id, len(order)),
                "customer_id": customer_ids.take(pa.array(customer[sub[order]])),
                "event_type": pa.array(kind[order], pa.string()),
                "plan_id": pa.array(np.array([p[0] for p in PLANS])[plan[order]], pa.string()),
                "billing_interval_months": np.array([p[1] for p in PLANS])[plan[order]],
                "price": np.array(self.prices)[plan[order]],
                "currency": pa.array(currency[order], pa.string()),
                "occurred_at": at[order],
            },
            export_ms=export[order],
        )
        landed = ~bad
        self.truth = {
            "subscriptions": n,
            "events": {k: int(((kind == k) & landed).sum()) for k in ("started", *ACTIVE_DAILY, "renewed", "resumed")},
            "quarantined": int(bad.sum()),
            "resent": len(order) - m,
            "late": int(late.sum()),
            "months": self._months(sub[landed], at[landed], kind[landed], plan[landed]),
        }

    def _life(self, rng: np.random.Generator, s: int, start: int) -> list[tuple[int, int, str, int]]:
        """A subscription's log from its start to the window's end: at most one change a day."""
        plan = int(rng.choice(len(PLANS), p=PLAN_WEIGHTS))
        rows, status, day = [(s, start, "started", plan)], "active", 1
        while (day_start := start + day * DAY_MS) < self.window.end_ms and status != "cancelled":
            if status == "active" and day % (CYCLE_DAYS * PLANS[plan][1]) == 0:
                rows.append((s, day_start, "renewed", plan))
            else:
                hazards = ACTIVE_DAILY if status == "active" else PAUSED_DAILY
                draw, edge = rng.random(), 0.0
                for kind, p in hazards.items():
                    edge += p
                    if draw < edge:
                        at = day_start + int(rng.integers(0, DAY_MS))
                        if at >= self.window.end_ms:
                            break
                        if kind == "plan_changed":
                            plan = int(rng.choice([p for p in range(len(PLANS)) if p != plan]))
                        status = {"paused": "paused", "cancelled": "cancelled"}.get(kind, "active")
                        rows.append((s, at, kind, plan))
                        break
            day += 1
        return rows

    def _months(self, sub: np.ndarray, at: np.ndarray, kind: np.ndarray, plan: np.ndarray) -> dict:
        """The mart's figures per store-local month (rows sorted by time): each subscription's MRR at
        every month end from its first event's month to the store's last, and the movements between."""
        zone = ZoneInfo(self.store.spec.time_zone)
        month = [datetime.fromtimestamp(int(t) / 1000, UTC).astimezone(zone).strftime("%Y-%m") for t in at]
        if not month:
            return {}
        months = _month_range(month[0], max(month))
        state: dict[int, tuple[str, Decimal, str]] = {}  # subscription -> (status, monthly amount, first month)
        by_month: dict[str, list] = {m: [] for m in months}
        for i, m in enumerate(month):
            by_month[m].append(i)
        previous: dict[int, Decimal] = {}
        had_mrr: set[int] = set()
        out = {}
        for m in months:
            for i in by_month[m]:
                s, p = int(sub[i]), int(plan[i])
                status = {"paused": "paused", "cancelled": "cancelled"}.get(str(kind[i]), "active")
                amount = (Decimal(self.prices[p]) / 100 / PLANS[p][1]).quantize(Decimal("0.01"), ROUND_HALF_UP)
                state[s] = (status, amount, state.get(s, (None, None, m))[2])
            f = dict.fromkeys(_FIGURES, Decimal(0)) | dict.fromkeys(_COUNTS, 0)
            current = {}
            for s, (status, amount, first) in state.items():
                c = amount if status == "active" else Decimal(0)
                p = previous.get(s, Decimal(0))
                current[s] = c
                f["opening_mrr"] += p
                f["mrr"] += c
                f["opening_subscribers"] += p > 0
                f["active_subscribers"] += c > 0
                f["new_subscribers"] += first == m
                if p == 0 and c > 0:
                    f["reactivation_mrr" if s in had_mrr else "new_mrr"] += c
                elif p > 0 and c > p:
                    f["expansion_mrr"] += c - p
                elif p > 0 and 0 < c < p:
                    f["contraction_mrr"] += p - c
                elif p > 0 and c == 0:
                    f["churned_mrr" if status == "cancelled" else "paused_mrr"] += p
                    f["churned_subscribers"] += status == "cancelled"
                if c > 0:
                    had_mrr.add(s)
            previous = current
            out[m] = {k: str(v) if isinstance(v, Decimal) else int(v) for k, v in f.items()}
        return out


_FIGURES = (
    "opening_mrr", "new_mrr", "expansion_mrr", "contraction_mrr",
    "reactivation_mrr", "paused_mrr", "churned_mrr", "mrr",
)  # fmt: skip
_COUNTS = ("opening_subscribers", "new_subscribers", "churned_subscribers", "active_subscribers")


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while (label := f"{year:04d}-{month:02d}") <= last:
        out.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
