"""The storefront collector: each export day, per store, visits are built in chunks of about
CHUNK_EVENTS events, cut into device batches, dirtied, and appended to JSONL.gz files of CHUNKS_PER_FILE
chunks. Batches that arrive late, and re-sent copies meant for later days, wait in `carry` for the last
file of their day."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import rank_in_group
from .clock import DAY_MS, HOUR_MS, Window, iso_bytes
from .config import CHUNK_EVENTS, CHUNKS_PER_FILE, DirtRates, GeneratorConfig, rng_for
from .crm import ConsentLog
from .devices import BOT_AGENTS, BOT_WEIGHTS, COUNTRY_CODES, LOCALES, Devices, bot_ips
from .dirt import pick_exclusive
from .event_json import BOT_AGENT_OFFSET, EventEncoder, VisitContext
from .ids import BATCH, BOT_DEVICE, BROWSE_CART_SERIAL, CART, DEVICE, EVENT, SESSION, backoffice_ids, tracker_id_bytes
from .orders import OrderBook
from .reference import Store
from .sessions import (
    BLOCKS,
    BOT_SHARE,
    EVENT_TYPES,
    PAGE_VIEW,
    PURCHASE,
    Events,
    Pages,
    Visits,
    crawl_events,
    human_events,
)
from .text import fixed_width
from .traffic import sample_times
from .writers import Sink

BROWSE, BUYER, BOT, SCRAPER = range(4)
LATE, RESENT_SAME_FILE, RESENT_LATER_FILE = range(3)
PHANTOM_ORDER_SERIAL = 90_000_000  # purchase events the OMS never received get ids no real order has
RETURNING_SKEW = 1.5  # device draw u**k: a few devices return often, most once
# The scraper crawls in two bursts a day, this far apart: averaged over the day it looks slow, so only
# a rule that judges each window of activity catches it.
SCRAPER_BURSTS = 2
SCRAPER_PAUSE_MS = 9 * HOUR_MS


def _bot_length(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.minimum(2 + rng.geometric(0.14, n), 40)


@dataclass
class StoreTraffic:
    """Everything the collector needs about one store."""

    store: Store
    pages: Pages
    encoder: EventEncoder
    devices: Devices  # by serial: anonymous pool, then customers' devices, then the scraper
    n_anonymous: int
    scraper: int
    intensity: np.ndarray  # per UTC hour of the window
    day_events: np.ndarray  # target events per export day
    scraper_events: int
    book: OrderBook
    customer_ids: pa.StringArray
    consent: ConsentLog
    per_visit: dict[str, float] = field(default_factory=dict)  # mean events per browse / buyer / bot visit
    phantoms: int = 0
    facts: dict = field(default_factory=dict)  # what the store's truth records

    def product_cdf(self, at_ms: int) -> np.ndarray:
        catalog = self.store.catalog
        return np.cumsum(catalog.popularity * catalog.active * (catalog.launched_ms <= at_ms))

    def buyer_visits(self, orders: np.ndarray) -> Visits:
        book, plan = self.book, self.book.plan
        position = np.arange(BLOCKS)
        has = position[None, :] < book.n_lines[orders, None]
        line = np.where(has, book.first_line[orders, None] + position[None, :], 0)
        return Visits(
            anchor_ms=plan.placed_ms[orders],
            order=orders,
            needs_login=plan.first_on_device[orders],
            logged_in=~plan.first_on_device[orders],
            reload=plan.reload[orders],
            items=np.where(has, book.lines.product[line], -1),
            quantity=np.where(has, book.lines.quantity[line], 0),
            total=book.total[orders],
        )

    def measure_visits(self, seed: int) -> None:
        """Mean events per visit kind from pilot runs, to turn the event budget into visit counts."""
        rng = rng_for(seed, "pilot-buyers", self.store.index)
        sample = np.arange(min(len(self.book), 1000))
        buyers, _ = human_events(rng, self.store, self.pages, self.buyer_visits(sample), _all_products(self.store))
        self.per_visit = {
            **visit_lengths(seed, self.store, self.pages),
            "buyer": len(buyers) / len(sample) if len(sample) else 12.0,
        }


def _all_products(store: Store) -> np.ndarray:
    return np.cumsum(store.catalog.popularity * store.catalog.active)


def visit_lengths(seed: int, store: Store, pages: Pages, n: int = 4000) -> dict[str, float]:
    """Mean events of a browsing visit and of a bot visit, from a pilot run."""
    rng = rng_for(seed, "pilot-browse", store.index)
    events, _ = human_events(rng, store, pages, Visits.browsing(np.zeros(n, np.int64)), _all_products(store))
    return {"browse": len(events) / n, "bot": float(_bot_length(rng, n).mean())}


@dataclass
class ClickTruth:
    duplicates: int = 0
    late_events: int = 0
    skewed_devices: set = field(default_factory=set)
    skewed_events: int = 0
    reloads: int = 0
    quarantine: dict = field(default_factory=lambda: defaultdict(int))
    bot_events: dict = field(default_factory=lambda: defaultdict(int))
    scraper_events: int = 0
    scraper_ids: list = field(default_factory=list)
    phantom_purchases: int = 0
    unique_events: int = 0


@dataclass
class _Chunk:
    browse_anchor: np.ndarray
    browse_device: np.ndarray
    bot_anchor: np.ndarray
    orders: np.ndarray
    scraper_anchor: np.ndarray


@dataclass
class _ChunkVisits:
    kind: np.ndarray
    device: np.ndarray  # serial, -1 for crawlers
    start: np.ndarray
    customer: np.ndarray  # buyer's customer, -1 otherwise
    order: np.ndarray
    logged_in: np.ndarray  # from the first event
    bot: np.ndarray  # index into BOT_AGENTS, -1 for others
    skew: np.ndarray | None = None


class Collector:
    """Writes each day's clickstream files and counts what it planted."""

    def __init__(self, config: GeneratorConfig, window: Window, sink: Sink) -> None:
        self.config = config
        self.rates: DirtRates = config.rates
        self.window = window
        self.sink = sink
        self.carry: dict[int, list[pa.StringArray]] = defaultdict(list)
        self.truth = ClickTruth()

    def write_day(self, traffic: list[StoreTraffic], day: int) -> None:
        number = 0
        for t in traffic:
            # two files fill at once, chunks alternating, so both compression threads have work
            chunks = self._plan(t, day)
            for first in range(0, len(chunks), 2 * CHUNKS_PER_FILE):
                group = range(first, min(first + 2 * CHUNKS_PER_FILE, len(chunks)))
                files = [self.sink.events_file(day, number + k) for k in range(min(2, len(group)))]
                for i, c in enumerate(group):
                    files[i % len(files)].write(*self._chunk(t, day, c, chunks[c]))
                for f in files:
                    f.close()
                number += len(files)
        if self.carry[day]:
            late = pa.concat_arrays(self.carry.pop(day))
            out = self.sink.events_file(day, number)
            out.write(late, [(0, len(late))])
            out.close()

    def _plan(self, t: StoreTraffic, day: int) -> list[_Chunk]:
        """The day's visits of a store, split into chunks of consecutive time."""
        rng = rng_for(self.config.seed, "traffic", t.store.index, day)
        start = self.window.start_ms + day * DAY_MS
        plan = t.book.plan
        blocked = t.devices.ad_blocker[plan.device]
        orders = np.flatnonzero((self.window.day_of(plan.placed_ms) == day) & ~blocked)
        per = t.per_visit
        budget = t.day_events[day] - len(orders) * (per["buyer"] + BOT_SHARE * per["bot"]) - t.scraper_events
        n_browse = max(round(budget / (per["browse"] + BOT_SHARE * per["bot"])), 0)
        hours = t.intensity[day * 24 : (day + 1) * 24]
        browse = sample_times(rng, hours, start, n_browse)
        device = np.floor(t.n_anonymous * rng.random(n_browse) ** RETURNING_SKEW).astype(np.int64)
        bots = np.sort(start + rng.integers(0, DAY_MS, round(BOT_SHARE * (n_browse + len(orders)))))
        first = start + rng.integers(0, 10 * HOUR_MS)
        bursts = first + SCRAPER_PAUSE_MS * np.arange(SCRAPER_BURSTS)
        scraper = bursts if t.scraper_events else np.array([], dtype=np.int64)
        n_chunks = max(1, min(math.ceil(t.day_events[day] / CHUNK_EVENTS), n_browse))
        cut = [start] + [int(browse[n_browse * k // n_chunks]) for k in range(1, n_chunks)] + [np.iinfo(np.int64).max]

        def part(anchor: np.ndarray, k: int) -> np.ndarray:
            return np.flatnonzero((anchor >= cut[k]) & (anchor < cut[k + 1]))

        chunks = []
        for k in range(n_chunks):
            b = part(browse, k)
            chunks.append(
                _Chunk(
                    browse[b],
                    device[b],
                    bots[part(bots, k)],
                    orders[part(plan.placed_ms[orders], k)],
                    scraper[part(scraper, k)],
                )
            )
        return chunks

    def _chunk(self, t: StoreTraffic, day: int, c: int, chunk: _Chunk) -> tuple[pa.StringArray, list[tuple[int, int]]]:
        rng = rng_for(self.config.seed, "chunk", t.store.index, day, c)
        store, plan = t.store, t.book.plan
        n_products = len(store.catalog)
        humans = Visits.concat([t.buyer_visits(chunk.orders), Visits.browsing(chunk.browse_anchor)])
        human, human_start = human_events(
            rng, store, t.pages, humans, t.product_cdf(self.window.start_ms + day * DAY_MS)
        )
        n_humans, n_bots, n_scrapers = len(humans), len(chunk.bot_anchor), len(chunk.scraper_anchor)
        bots = crawl_events(rng, t.pages, n_products, chunk.bot_anchor, _bot_length(rng, n_bots), (800, 6000), False)
        scraper = crawl_events(
            rng,
            t.pages,
            n_products,
            chunk.scraper_anchor,
            np.full(n_scrapers, t.scraper_events // SCRAPER_BURSTS),
            (300, 1500),
            True,
        )
        events = Events.concat([human, bots, scraper], [0, n_humans, n_humans + n_bots])
        machines = n_bots + n_scrapers
        buyer = humans.order >= 0
        visits = _ChunkVisits(
            kind=np.r_[np.where(buyer, BUYER, BROWSE), np.full(n_bots, BOT), np.full(n_scrapers, SCRAPER)],
            device=np.r_[
                plan.device[chunk.orders], chunk.browse_device, np.full(n_bots, -1), np.full(n_scrapers, t.scraper)
            ],
            start=np.r_[human_start, chunk.bot_anchor, chunk.scraper_anchor],
            customer=np.r_[np.where(buyer, plan.customer[np.maximum(humans.order, 0)], -1), np.full(machines, -1)],
            order=np.r_[humans.order, np.full(machines, -1)],
            logged_in=np.r_[humans.logged_in, np.zeros(machines, dtype=bool)],
            bot=np.r_[
                np.full(n_humans, -1), rng.choice(len(BOT_AGENTS), n_bots, p=BOT_WEIGHTS), np.full(n_scrapers, -1)
            ],
        )
        tracked = visits.device >= 0
        visits.skew = np.where(tracked, t.devices.skew_ms[np.maximum(visits.device, 0)], 0)
        at_start = np.where(visits.logged_in, visits.customer, -1)
        t.consent.visit(rng, day, visits.device[tracked], visits.start[tracked], at_start[tracked])

        context = self._context(t, day, c, visits, events, rng)
        lines, runs = self._batches(t, day, c, events, visits, context, rng)
        self._count(t, events, visits)
        return lines, runs

    def _context(
        self, t: StoreTraffic, day: int, c: int, visits: _ChunkVisits, events: Events, rng: np.random.Generator
    ) -> VisitContext:
        store, devices = t.store, t.devices
        n = len(visits.kind)
        serial = (day << 40) | (c << 28) | np.arange(n)
        bot = visits.bot >= 0
        d = np.maximum(visits.device, 0)
        anonymous = np.where(
            bot[:, None], tracker_id_bytes(BOT_DEVICE, store.index, serial), tracker_id_bytes(DEVICE, store.index, d)
        )  # crawlers keep no cookies: a new id per visit
        buyers = int((visits.kind == BUYER).sum())  # buyers' visits come first
        user = t.customer_ids.take(pa.array(visits.customer[:buyers]))
        cart_serial = np.where(visits.order >= 0, visits.order, BROWSE_CART_SERIAL + serial)
        cart = fixed_width(n, b'"cart-', tracker_id_bytes(CART, store.index, cart_serial), b'"')

        # purchase events name the visit's order; a few visits' orders never reached the OMS
        purchasing = np.zeros(n, dtype=bool)
        purchasing[events.visit[events.kind == PURCHASE]] = True
        phantom = purchasing & (visits.order < 0)
        order_serial = np.where(phantom, PHANTOM_ORDER_SERIAL + t.phantoms + np.cumsum(phantom) - 1, visits.order)
        t.phantoms += int(phantom.sum())
        self.truth.phantom_purchases += int(phantom.sum())
        named = order_serial >= 0
        quoted = pc.binary_join_element_wise('"', backoffice_ids("ord", store.id, order_serial[named]), '"', "")
        order = pc.replace_with_mask(pa.nulls(n, pa.string()), pa.array(named), quoted)

        context = t.encoder.context(
            platform=np.where(bot, 0, devices.platform[d]),
            device_type=np.where(bot, 0, devices.device_type[d]),
            agent=np.where(bot, BOT_AGENT_OFFSET + visits.bot, devices.user_agent[d]),
            ip=np.where(bot, bot_ips(rng, n), devices.ip[d]),
            locale=np.where(bot, LOCALES.index("en-US"), devices.locale[d]),
            time_zone=np.where(bot, -1, devices.time_zone[d]),
            country=np.where(bot, COUNTRY_CODES.index("US"), devices.country[d]),
            gpc=~bot & devices.gpc[d],
            dnt=~bot & devices.dnt[d],
        )
        ids = np.concatenate([tracker_id_bytes(SESSION, store.index, serial), anonymous], axis=1)
        tails = t.encoder.visit_tails(ids, user, context)
        return VisitContext(tails=tails, context=context, cart=cart, order=order)

    def _batches(
        self,
        t: StoreTraffic,
        day: int,
        c: int,
        events: Events,
        visits: _ChunkVisits,
        context: VisitContext,
        rng: np.random.Generator,
    ) -> tuple[pa.StringArray, list[tuple[int, int]]]:
        """Cut each visit's events into batches (a flush size of 10-50 drawn per visit; a shorter visit is
        one batch), plant the dirt, and frame the JSON. Returns the events' strings and the (start, end)
        event ranges that make up the file."""
        m, store_index = len(events), t.store.index
        v = events.visit
        rank = rank_in_group(v)
        size = rng.integers(10, 51, len(visits.kind))
        opens = rank % size[v] == 0
        batch = np.cumsum(opens) - 1
        nb = int(opens.sum())
        closes = np.r_[opens[1:], True]
        owner = v[opens]

        # a batch is late, re-sent in this file, or re-sent into a later day's file; never two of them
        human = np.isin(visits.kind, (BROWSE, BUYER)) & (visits.skew == 0)
        with_purchase = np.bincount(batch, events.kind == PURCHASE, minlength=nb) > 0
        later_days = self.window.days - 1 - day
        r = self.rates
        fate = pick_exclusive(
            rng,
            human[owner] & ~with_purchase,
            [
                r.late_batches if later_days else 0.0,
                r.resent_batches_same_file,
                r.resent_batches_later_file if later_days else 0.0,
            ],
        )
        ahead = np.minimum(rng.integers(1, 4, nb), max(later_days, 1))
        delay = np.where(fate == LATE, ahead * DAY_MS + rng.integers(0, 6 * HOUR_MS, nb), 0)
        sent_true = events.ms[closes] + rng.integers(200, 8000, nb) + delay
        headers = fixed_width(
            nb,
            b'{"batch_id":"b-',
            tracker_id_bytes(BATCH, store_index, (day << 40) | (c << 28) | np.arange(nb)),
            b'","sent_at":"',
            iso_bytes(sent_true + visits.skew[owner]),
            b'","received_at":"',
            iso_bytes(sent_true + rng.integers(30, 900, nb)),
            b'","events":[',
        )

        # malformed page views, in batches without other dirt
        eligible = human[v] & (fate[batch] < 0) & (events.kind == PAGE_VIEW)
        defect = pick_exclusive(rng, eligible, [r.event_missing_id, r.event_unknown_type, r.event_bad_timestamp])
        event_type = np.where(defect == 1, len(EVENT_TYPES) + rng.integers(0, 3, m), events.kind)
        lines = t.encoder.encode(
            events,
            context,
            event_id_hex=tracker_id_bytes(EVENT, store_index, (day << 40) | (c << 28) | np.arange(m)),
            device_ms=events.ms + visits.skew[v],
            event_type=event_type,
            drop_id=defect == 0,
            bad_time=defect == 2,
            batch_prefix=pa.concat_arrays([headers, pa.array([","])]).take(pa.array(np.where(opens, batch, nb))),
            batch_suffix=pa.array(["", "]}\n"]).take(pa.array(closes.astype(np.int8))),
        )

        event_fate = fate[batch]
        for k in range(1, 4):
            for f in (LATE, RESENT_LATER_FILE):
                rows = np.flatnonzero((event_fate == f) & (ahead[batch] == k))
                if len(rows):
                    self.carry[day + k].append(lines.take(pa.array(rows)))
        # the file: runs of events that are not late, then the copies re-sent into the same file
        edges = np.flatnonzero(np.diff(np.r_[0, (event_fate != LATE).astype(np.int8), 0]))
        batch_start = np.flatnonzero(opens)
        batch_end = np.r_[batch_start[1:], m]
        resent = np.flatnonzero(fate == RESENT_SAME_FILE)
        runs = [*zip(edges[::2], edges[1::2], strict=True), *zip(batch_start[resent], batch_end[resent], strict=True)]

        tr = self.truth
        tr.late_events += int((event_fate == LATE).sum())
        tr.duplicates += int(np.isin(event_fate, (RESENT_SAME_FILE, RESENT_LATER_FILE)).sum())
        for k, label in enumerate(
            ("missing_required:event_id", "not_allowed:event_type", "invalid_type:device_created_at")
        ):
            tr.quarantine[label] += int((defect == k).sum())
        return lines, runs

    def _count(self, t: StoreTraffic, events: Events, visits: _ChunkVisits) -> None:
        tr = self.truth
        v = events.visit
        tr.unique_events += len(events)
        tr.reloads += int(events.reload.sum())
        tr.skewed_events += int((visits.skew[v] != 0).sum())
        tr.skewed_devices.update((t.store.index, int(d)) for d in np.unique(visits.device[visits.skew != 0]))
        for b, (name, _) in enumerate(BOT_AGENTS):
            tr.bot_events[name] += int((visits.bot[v] == b).sum())
        scraped = visits.kind[v] == SCRAPER
        tr.scraper_events += int(scraped.sum())
        if scraped.any():
            anonymous = tracker_id_bytes(DEVICE, t.store.index, np.array([t.scraper])).tobytes().decode()
            if f"a-{anonymous}" not in tr.scraper_ids:
                tr.scraper_ids.append(f"a-{anonymous}")
