"""What visitors do in a visit, as events.

Human visits follow a fixed template of slots (landing page, up to four browse blocks of
page view -> search -> product view -> recommendations -> add/remove, then cart, login, checkout,
purchase); random draws switch slots on for whole arrays of visits at once, one slot after the other.
Buyers' visits are forced through the funnel with exactly the products of their order. Bots crawl pages, and one
scraper fires thousands of events in a single visit."""

from __future__ import annotations

from dataclasses import dataclass, fields
from urllib.parse import quote_plus

import numpy as np

from orchestration.contracts import load_contracts

from .affiliates import AFFILIATE_CAMPAIGNS
from .arrays import cumsum_in_group, group_starts, rank_in_group
from .clock import NA, SECOND_MS
from .reference import CATEGORIES, QUERY_VARIANTS, ZERO_RESULT_QUERIES, Store

EVENT_TYPES = load_contracts()["events"].field("event_type").allowed
PLACEMENTS = load_contracts()["events"].field("recommendation_placement").allowed
PAGE_VIEW = EVENT_TYPES.index("page_view")
SEARCH = EVENT_TYPES.index("search")
PRODUCT_VIEW = EVENT_TYPES.index("product_view")
REC_IMPRESSION = EVENT_TYPES.index("recommendation_impression")
REC_CLICK = EVENT_TYPES.index("recommendation_click")
ADD_TO_CART = EVENT_TYPES.index("add_to_cart")
REMOVE_FROM_CART = EVENT_TYPES.index("remove_from_cart")
CHECKOUT = EVENT_TYPES.index("checkout_started")
PURCHASE = EVENT_TYPES.index("purchase")
LOGIN = EVENT_TYPES.index("login")

# (slot, event type, median seconds since the previous event)
HEAD = (
    ("landing", PAGE_VIEW, 0),
    ("home_imp", REC_IMPRESSION, 1.5),
    ("home_click", REC_CLICK, 9),
    ("home_view", PRODUCT_VIEW, 2),
)
BLOCK = (
    ("browse", PAGE_VIEW, 25),
    ("search", SEARCH, 12),
    ("view", PRODUCT_VIEW, 8),
    ("pdp_imp", REC_IMPRESSION, 2),
    ("pdp_click", REC_CLICK, 18),
    ("rec_view", PRODUCT_VIEW, 2),
    ("add", ADD_TO_CART, 30),
    ("remove", REMOVE_FROM_CART, 15),
)
TAIL = (
    ("cart", PAGE_VIEW, 10),
    ("cart_imp", REC_IMPRESSION, 1.5),
    ("cart_click", REC_CLICK, 12),
    ("cart_view", PRODUCT_VIEW, 2),
    ("login", LOGIN, 25),
    ("checkout", CHECKOUT, 20),
    ("purchase", PURCHASE, 90),
    ("reload", PURCHASE, 6),
)
BLOCKS = 4  # also the most lines an order has
SLOTS = HEAD + BLOCK * BLOCKS + TAIL
SLOT_KIND = np.array([s[1] for s in SLOTS])
SLOT_GAP_MS = np.array([s[2] for s in SLOTS]) * SECOND_MS


def slot(name: str, block: int | None = None) -> int:
    if block is None:
        names = [s[0] for s in HEAD] + [None] * (len(BLOCK) * BLOCKS) + [s[0] for s in TAIL]
        return names.index(name)
    return len(HEAD) + block * len(BLOCK) + [s[0] for s in BLOCK].index(name)


# (utm source, medium, campaign) or None, referrer or None, weight
CAMPAIGNS = (
    (None, None, 0.30),
    (None, "https://www.google.com/", 0.20),
    (None, "https://www.bing.com/", 0.04),
    (("google", "cpc", "brand_search_q4"), "https://www.google.com/", 0.08),
    (("google", "cpc", "generic_shopping_q4"), "https://www.google.com/", 0.08),
    (("facebook", "paid_social", "autumn_sale"), "https://www.facebook.com/", 0.07),
    (("instagram", "paid_social", "influencer_nov"), "https://www.instagram.com/", 0.05),
    (("tiktok", "paid_social", "creator_drop"), "https://www.tiktok.com/", 0.04),
    (("newsletter", "email", "weekly_digest"), None, 0.08),
    *AFFILIATE_CAMPAIGNS,  # 6 % in all, one partner link each (affiliates.py)
)
CAMPAIGN_WEIGHTS = np.array([c[2] for c in CAMPAIGNS])
REFERRERS = tuple(sorted({c[1] for c in CAMPAIGNS if c[1]}))
CAMPAIGN_REFERRER = np.array([REFERRERS.index(c[1]) if c[1] else -1 for c in CAMPAIGNS])
CAMPAIGN_CHANGE_RATE = 0.04  # a visit re-enters through another campaign link
PHANTOM_PURCHASE_RATE = 0.03  # checkouts whose purchase event names an order the OMS never got
BOT_SHARE = 0.025  # bot visits per human visit: about 5 % of events


@dataclass
class Pages:
    """Page and query vocabularies of one store, addressed by integer codes."""

    urls: list[str]
    queries: list[str]
    query_category: np.ndarray  # per query code, -1 for queries without results
    home: int = 0
    cart: int = 1
    login: int = 2
    checkout: int = 3
    confirmation: int = 4
    first_category: int = 5
    first_product: int = 5 + len(CATEGORIES)
    first_search: int = 0

    @staticmethod
    def of(store: Store) -> Pages:
        base = f"https://shop.example/{store.id}"
        queries, category = [], []
        for c, (_, _, _, _, words) in enumerate(CATEGORIES):
            for w in words:
                queries += [variant(w) for variant, _ in QUERY_VARIANTS]
                category += [c] * len(QUERY_VARIANTS)
        for w in ZERO_RESULT_QUERIES:
            queries += [variant(w) for variant, _ in QUERY_VARIANTS]
            category += [-1] * len(QUERY_VARIANTS)
        urls = [
            f"{base}/",
            f"{base}/cart",
            f"{base}/account/login",
            f"{base}/checkout",
            f"{base}/checkout/confirmation",
        ]
        urls += [f"{base}/c/{c[0]}" for c in CATEGORIES]
        urls += [f"{base}/p/{p}" for p in store.catalog.product_id.to_pylist()]
        first_search = len(urls)
        urls += [f"{base}/search?q={quote_plus(q.strip().lower())}" for q in queries]
        return Pages(urls, queries, np.array(category), first_search=first_search)

    def query_code(self, rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
        """A query for the category (-1: one that finds nothing), in one of its typed variants."""
        variants = len(QUERY_VARIANTS)
        base_category = self.query_category[::variants]
        pick = np.empty(len(category), dtype=np.int64)
        for c in np.unique(category):
            options = np.flatnonzero(base_category == c)
            rows = category == c
            pick[rows] = options[rng.integers(len(options), size=rows.sum())]
        variant = rng.choice(variants, len(category), p=[w for _, w in QUERY_VARIANTS])
        return pick * variants + variant


@dataclass
class Visits:
    """Visits to build: browse visits have order -1; buyers carry their order's lines."""

    anchor_ms: np.ndarray  # start of the visit, or for buyers the moment of purchase
    order: np.ndarray
    needs_login: np.ndarray
    logged_in: np.ndarray  # logged in from the first event
    reload: np.ndarray
    items: np.ndarray  # (n, BLOCKS) product, -1 past the order's lines
    quantity: np.ndarray  # (n, BLOCKS)
    total: np.ndarray  # order total, hundredths

    def __len__(self) -> int:
        return len(self.anchor_ms)

    @staticmethod
    def concat(parts: list[Visits]) -> Visits:
        return Visits(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Visits)})

    @staticmethod
    def browsing(anchor_ms: np.ndarray) -> Visits:
        n = len(anchor_ms)
        no = np.zeros(n, dtype=bool)
        empty = np.full((n, BLOCKS), -1)
        return Visits(anchor_ms, np.full(n, -1), no, no, no, empty, empty, np.full(n, NA))


@dataclass
class Events:
    """Events of a chunk, grouped by visit and in time order within a visit."""

    visit: np.ndarray
    kind: np.ndarray
    ms: np.ndarray  # true time
    page: np.ndarray  # url code, -1 for none
    referrer: np.ndarray
    campaign: np.ndarray
    product: np.ndarray
    query: np.ndarray
    results: np.ndarray
    position: np.ndarray
    placement: np.ndarray
    cart: np.ndarray  # carries the visit's cart id
    order: np.ndarray  # carries the visit's order id
    value: np.ndarray  # hundredths, NA for none
    logged_in: np.ndarray
    reload: np.ndarray

    def __len__(self) -> int:
        return len(self.visit)

    @staticmethod
    def concat(parts: list[Events], visit_offsets: list[int]) -> Events:
        columns = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Events)}
        columns["visit"] = np.concatenate([p.visit + off for p, off in zip(parts, visit_offsets, strict=True)])
        return Events(**columns)


class _Template:
    """Events collected slot by slot (in template order) as sparse columns, then merged per visit."""

    FIELDS = ("page", "product", "query", "results", "position", "placement", "value")

    def __init__(self) -> None:
        self.parts: list[tuple[int, np.ndarray, dict]] = []

    def set(self, column: int, active: np.ndarray, **values: np.ndarray | int) -> None:
        rows = np.flatnonzero(active)
        self.parts.append((column, rows, {k: v[rows] if np.ndim(v) else v for k, v in values.items()}))

    def merge(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(visit, slot, fields) of every event, grouped by visit, in template order within a visit."""
        visit = np.concatenate([rows for _, rows, _ in self.parts])
        order = np.argsort(visit, kind="stable")  # parts came in slot order, so stability keeps it

        def column(name: str) -> np.ndarray:
            default = NA if name == "value" else -1
            parts = [
                np.broadcast_to(np.asarray(values.get(name, default), np.int64), len(rows))
                for _, rows, values in self.parts
            ]
            return np.concatenate(parts)[order]

        columns = {name: column(name) for name in self.FIELDS}
        slot_of = np.concatenate([np.full(len(rows), column) for column, rows, _ in self.parts])[order]
        return visit[order], slot_of, columns


def human_events(
    rng: np.random.Generator, store: Store, pages: Pages, visits: Visits, product_cdf: np.ndarray
) -> tuple[Events, np.ndarray]:
    """Events of human visits and each visit's start."""
    n = len(visits)
    price, category = store.catalog.price, store.catalog.category
    t = _Template()

    def popular(size: int) -> np.ndarray:
        return np.minimum(
            np.searchsorted(product_cdf, rng.random(size) * product_cdf[-1], side="right"), len(price) - 1
        )

    buyer = visits.order >= 0
    n_items = (visits.items >= 0).sum(axis=1)

    # landing page, and recommendations on the home page
    landing = rng.choice(3, n, p=[0.5, 0.3, 0.2])  # home, category, product page
    landed_on = popular(n)
    t.set(
        slot("landing"),
        np.ones(n, dtype=bool),
        page=np.select(
            [landing == 0, landing == 1],
            [pages.home, pages.first_category + category[landed_on]],
            pages.first_product + landed_on,
        ),
    )
    impression = (landing == 0) & (rng.random(n) < 0.7)
    click = impression & (rng.random(n) < 0.12)
    recommended = popular(n)
    t.set(slot("home_imp"), impression, placement=0)
    t.set(slot("home_click"), click, placement=0, product=recommended, position=rng.integers(1, 13, n))
    t.set(slot("home_view"), click, product=recommended, page=pages.first_product + recommended)

    # browse blocks; a buyer's block j views and adds the order's line j
    depth = np.where(~buyer & (rng.random(n) < 0.4), 0, np.minimum(rng.geometric(0.45, n), BLOCKS))
    depth = np.maximum(depth, n_items)
    cart_value = np.zeros(n, dtype=np.int64)
    in_cart = np.zeros(n, dtype=np.int64)
    reentry = np.full(n, len(SLOTS))  # first later page view, where a new campaign may take over
    for j in range(BLOCKS):
        live, forced = j < depth, j < n_items
        wanted = np.where(forced, visits.items[:, j], popular(n))
        browse = live & (rng.random(n) < (0.5 if j == 0 else 0.65))
        t.set(slot("browse", j), browse, page=pages.first_category + category[wanted])
        if j:
            reentry = np.where(browse & (reentry == len(SLOTS)), slot("browse", j), reentry)
        search = live & (rng.random(n) < 0.35)
        zero = search & (rng.random(n) < 0.085)
        query = pages.query_code(rng, np.where(zero, -1, category[wanted]))
        found = np.minimum(np.rint(np.exp(rng.normal(3.0, 1.0, n))), 400).astype(np.int64) + 1
        t.set(slot("search", j), search, query=query, results=np.where(zero, 0, found), page=pages.first_search + query)
        from_search = search & ~zero & (forced | (rng.random(n) < 0.65))
        view = forced | from_search | (live & ~search & (rng.random(n) < 0.75))
        t.set(
            slot("view", j),
            view,
            product=wanted,
            page=pages.first_product + wanted,
            query=np.where(from_search, query, -1),
            position=np.where(from_search, np.minimum(rng.geometric(0.3, n), found), -1),
        )
        impression = view & (rng.random(n) < 0.5)
        click = impression & (rng.random(n) < 0.12)
        similar = popular(n)
        t.set(slot("pdp_imp", j), impression, placement=1)
        t.set(slot("pdp_click", j), click, placement=1, product=similar, position=rng.integers(1, 13, n))
        t.set(slot("rec_view", j), click, product=similar, page=pages.first_product + similar)
        add = forced | ((view | click) & (rng.random(n) < 0.12))
        added = np.where(view, wanted, similar)
        line_value = price[added] * np.where(forced, visits.quantity[:, j], 1)
        t.set(slot("add", j), add, product=added, value=line_value)
        remove = add & ~forced & (buyer | (rng.random(n) < 0.12))  # buyers drop what is not in their order
        t.set(slot("remove", j), remove, product=added, value=line_value)
        kept = add & ~remove
        cart_value += np.where(kept, line_value, 0)
        in_cart += kept

    # cart, login, checkout, purchase
    cart = buyer | ((in_cart > 0) & (rng.random(n) < 0.55))
    t.set(slot("cart"), cart, page=pages.cart)
    impression = cart & (rng.random(n) < 0.6)
    click = impression & (rng.random(n) < 0.08)
    cross_sell = popular(n)
    t.set(slot("cart_imp"), impression, placement=2)
    t.set(slot("cart_click"), click, placement=2, product=cross_sell, position=rng.integers(1, 9, n))
    t.set(slot("cart_view"), click, product=cross_sell, page=pages.first_product + cross_sell)
    t.set(slot("login"), visits.needs_login, page=pages.login)
    checkout = buyer | (cart & (in_cart > 0) & (rng.random(n) < 0.35))
    phantom = ~buyer & checkout & (rng.random(n) < PHANTOM_PURCHASE_RATE)
    paid = np.where(buyer, visits.total, cart_value)
    t.set(slot("checkout"), checkout, page=pages.checkout, value=paid)
    t.set(slot("purchase"), buyer | phantom, page=pages.confirmation, value=paid)
    t.set(slot("reload"), buyer & visits.reload, page=pages.confirmation, value=paid)
    v, s, f = t.merge()

    # timing: buyers' visits end at their purchase, other visits start at their anchor
    gaps = np.where(group_starts(v), 0, np.rint(SLOT_GAP_MS[s] * rng.lognormal(0.0, 0.8, len(v))).astype(np.int64))
    elapsed = cumsum_in_group(gaps, v)
    until_purchase = np.zeros(n, dtype=np.int64)
    bought = s == slot("purchase")
    until_purchase[v[bought]] = elapsed[bought]
    start = np.where(buyer, visits.anchor_ms - until_purchase, visits.anchor_ms)

    # campaign of the visit, sometimes replaced on a later page view
    first_campaign = rng.choice(len(CAMPAIGNS), n, p=CAMPAIGN_WEIGHTS)
    second_campaign = (first_campaign + rng.integers(1, len(CAMPAIGNS), n)) % len(CAMPAIGNS)
    switch_slot = np.where(rng.random(n) < CAMPAIGN_CHANGE_RATE, reentry, len(SLOTS))
    campaign = np.where(s >= switch_slot[v], second_campaign[v], first_campaign[v])
    entered = (s == slot("landing")) | (s == switch_slot[v])
    kind = SLOT_KIND[s]
    events = Events(
        visit=v,
        kind=kind,
        ms=start[v] + elapsed,
        page=f["page"],
        referrer=np.where(entered, CAMPAIGN_REFERRER[campaign], -1),
        campaign=campaign,
        product=f["product"],
        query=f["query"],
        results=f["results"],
        position=f["position"],
        placement=f["placement"],
        cart=np.isin(kind, (ADD_TO_CART, REMOVE_FROM_CART, CHECKOUT, PURCHASE)),
        order=kind == PURCHASE,
        value=f["value"],
        logged_in=visits.logged_in[v] | (visits.needs_login[v] & (s >= slot("login"))),
        reload=s == slot("reload"),
    )
    return events, start


def crawl_events(
    rng: np.random.Generator,
    pages: Pages,
    n_products: int,
    anchor_ms: np.ndarray,
    length: np.ndarray,
    gap_ms: tuple[int, int],
    alternate: bool,
) -> Events:
    """Machine visits: page after page at a steady pace. Crawlers request random product and category
    pages; the scraper (`alternate`) walks the catalogue firing a page view and a product view per item."""
    v = np.repeat(np.arange(len(anchor_ms)), length)
    rank = rank_in_group(v)
    gaps = np.where(rank == 0, 0, rng.integers(gap_ms[0], gap_ms[1], len(v)))
    ms = anchor_ms[v] + cumsum_in_group(gaps, v)
    if alternate:
        product = (rank // 2) % n_products
        kind = np.where(rank % 2 == 0, PAGE_VIEW, PRODUCT_VIEW)
    else:
        product = rng.integers(0, n_products, len(v))
        kind = np.full(len(v), PAGE_VIEW)
    on_category = (rng.random(len(v)) < 0.3) & (not alternate)
    page = np.where(
        on_category, pages.first_category + rng.integers(0, len(CATEGORIES), len(v)), pages.first_product + product
    )
    none = np.full(len(v), -1)
    no = np.zeros(len(v), dtype=bool)
    return Events(
        visit=v,
        kind=kind,
        ms=ms,
        page=page,
        referrer=none,
        campaign=none,
        product=np.where(kind == PRODUCT_VIEW, product, -1),
        query=none,
        results=none,
        position=none,
        placement=none,
        cart=no,
        order=no,
        value=np.full(len(v), NA),
        logged_in=no,
        reload=no,
    )
