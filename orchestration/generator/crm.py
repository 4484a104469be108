"""CRM extracts: customer accounts, product reviews and consent decisions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .clock import MINUTE_MS, NA, SECOND_MS
from .customers import SIGNUP_CHANNELS, Customers
from .devices import ANALYTICS, COUNTRY_CODES, Devices
from .ids import DEVICE, backoffice_ids, tracker_ids
from .orders import OrderBook
from .reference import Store
from .text import take_strings
from .writers import Extract, repeat

CONSENT_TEXTS = {
    "2026-09": (
        "We use analytics cookies to understand how visitors use our store and to improve it. "
        "You can change your choice at any time under Privacy settings.",
        "We and our partners use marketing cookies to show you relevant offers on other sites. "
        "You can change your choice at any time under Privacy settings.",
    ),
    "2026-11": (
        "With your permission we measure how our store is used (pages visited, searches, purchases) "
        "to improve it. Withdraw at any time under Privacy settings.",
        "With your permission we and our advertising partners use your visits to personalise ads. "
        "Withdraw at any time under Privacy settings.",
    ),
}
PURPOSES = ("analytics", "marketing")
ACTIONS = ("granted", "denied", "withdrawn")


def customer_extract(store: Store, customers: Customers, customer_ids: pa.StringArray) -> Extract:
    """A row when the account is created and another when the customer moves."""
    n = len(customers)
    people, person = store.people, customers.person
    moved = customers.moved_ms != NA
    who = np.r_[np.arange(n), np.flatnonzero(moved)]
    second = np.r_[np.zeros(n, bool), np.ones(moved.sum(), bool)]
    street, city, postcode = (np.where(second, customers.new_address[who, i], person[who, 2 + i]) for i in range(3))
    no_address = customers.missing_address[who] & ~second
    updated = np.where(second, customers.moved_ms[who], customers.created_ms[who])
    email = pc.binary_join_element_wise(
        people.user_name.take(pa.array(person[who, 6])),
        pa.array((who + 1).astype(str)),
        "@",
        people.email_domain.take(pa.array(person[who, 7])),
        "",
    )
    return Extract(
        "customers",
        {
            "customer_id": customer_ids.take(pa.array(who)),
            "store_id": repeat(store.id, len(who)),
            "first_name": people.first_name.take(pa.array(person[who, 0])),
            "last_name": people.last_name.take(pa.array(person[who, 1])),
            "email": email,
            "phone": take_strings(people.phone, np.where(customers.missing_phone[who], -1, person[who, 5])),
            "address_line": take_strings(people.street, np.where(no_address, -1, street)),
            "city": take_strings(people.city, np.where(no_address, -1, city)),
            "postal_code": take_strings(people.postcode, np.where(no_address, -1, postcode)),
            "country": take_strings(COUNTRY_CODES, customers.country[who]),
            "signup_channel": take_strings(SIGNUP_CHANNELS, customers.signup_channel[who]),
            "created_at": customers.created_ms[who],
            "updated_at": updated,
        },
        export_ms=updated,
        key=(store.index << 40) + who,
    )


def review_extract(book: OrderBook, customer_ids: pa.StringArray) -> Extract:
    """Customers review one product of a delivered order; ratings lean positive, lower for poor
    products and late parcels."""
    plan, store = book.plan, book.plan.store
    o = np.flatnonzero(plan.review_ms != NA)
    product = book.lines.product[book.line_of(plan.review_line_pos)[o]]
    late = plan.delivered_ms[o] > plan.eta_ms[o]
    rating = np.clip(np.rint(4.3 + store.catalog.quality[product] + plan.review_noise[o] - 0.8 * late), 1, 5)
    pool = len(store.people.review_body)
    return Extract(
        "reviews",
        {
            "review_id": backoffice_ids("rev", store.id, o),
            "store_id": repeat(store.id, len(o)),
            "product_id": store.catalog.product_id.take(pa.array(product)),
            "customer_id": customer_ids.take(pa.array(plan.customer[o])),
            "rating": rating.astype(np.int64),
            "title": take_strings(store.people.review_title, np.where(o % 10 == 3, -1, o % pool)),
            "body": take_strings(store.people.review_body, np.where(o % 20 == 7, -1, (o * 7 + 3) % pool)),
            "created_at": plan.review_ms[o],
        },
        export_ms=plan.review_ms[o],
    )


class ConsentLog:
    """The consent banner of one store: a decision on a device's first visit, a withdrawal on a later
    visit for some. Visitors who never answer leave no row."""

    def __init__(self, store: Store, devices: Devices, days: int) -> None:
        self.store = store
        self.devices = devices
        self.days = days
        self.seen = np.zeros(len(devices), dtype=bool)
        self.withdrawn = np.zeros(len(devices), dtype=bool)
        self.parts: list[tuple[np.ndarray, ...]] = []

    def visit(
        self, rng: np.random.Generator, day: int, device: np.ndarray, start_ms: np.ndarray, customer: np.ndarray
    ) -> None:
        """Record sessions (device serial, start, customer logged in at the start or -1), in time order
        across calls."""
        order = np.lexsort((start_ms, device))
        first = order[np.r_[True, device[order][1:] != device[order][:-1]]]
        d, at, who = device[first], start_ms[first], customer[first]
        traits = self.devices
        version = 1 if day >= self.days // 2 and self.days > 1 else 0

        new = ~self.seen[d] & (traits.analytics[d] != ANALYTICS.index("none"))
        analytics = np.where(traits.analytics[d] == 0, 0, 1)
        marketing = np.where(traits.marketing[d], 0, 1)
        decided = at - SECOND_MS // 2  # answered on the landing page, before its first event
        self._add(d[new], who[new], 0, analytics[new], version, decided[new])
        self._add(d[new], who[new], 1, marketing[new], version, decided[new] + 400)

        leaving = self.seen[d] & traits.withdraws[d] & ~self.withdrawn[d]
        later = at + rng.integers(MINUTE_MS, 5 * MINUTE_MS, len(at))  # mid-visit, in privacy settings
        self._add(d[leaving], who[leaving], 0, np.full(leaving.sum(), 2), version, later[leaving])
        both = leaving & traits.marketing[d]
        self._add(d[both], who[both], 1, np.full(both.sum(), 2), version, later[both] + 400)
        self.withdrawn[d[leaving]] = True
        self.seen[d] = True

    def _add(self, device, customer, purpose, action, version, at) -> None:
        n = len(device)
        self.parts.append((device, customer, np.full(n, purpose), action, np.full(n, version), at))

    def extract(self, customer_ids: pa.StringArray) -> Extract:
        device, customer, purpose, action, version, at = (np.concatenate(c) for c in zip(*self.parts, strict=True))
        order = np.lexsort((purpose, device, at))
        device, customer, purpose, action, version, at = (
            a[order] for a in (device, customer, purpose, action, version, at)
        )
        versions = list(CONSENT_TEXTS)
        texts = [t for v in versions for t in CONSENT_TEXTS[v]]
        store = self.store
        return Extract(
            "consent_logs",
            {
                "consent_event_id": backoffice_ids("cns", store.id, np.arange(len(at)), 9),
                "store_id": repeat(store.id, len(at)),
                "anonymous_id": tracker_ids("a-", DEVICE, store.index, device),
                "customer_id": take_strings(customer_ids, customer),
                "purpose": take_strings(PURPOSES, purpose),
                "action": take_strings(ACTIONS, action),
                "consent_text": take_strings(texts, version * 2 + purpose),
                "consent_version": take_strings(versions, version),
                "recorded_at": at,
            },
            export_ms=at,
        )

    def truth(self) -> dict[str, int]:
        seen, t = self.seen, self.devices
        return {
            "visitors": int(seen.sum()),
            "analytics_granted": int((seen & (t.analytics == 0)).sum()),
            "analytics_denied": int((seen & (t.analytics == 1)).sum()),
            "no_decision": int((seen & (t.analytics == 2)).sum()),
            "withdrawn": int(self.withdrawn.sum()),
            "gpc": int((seen & t.gpc).sum()),
            "dnt": int((seen & t.dnt).sum()),
        }
