"""Clickstream events as collector JSON, built column-wise.

Every event becomes one string: a batch opening (`{"batch_id":..,"events":[`) or a comma, the event
object, and a batch closing (`]}` + newline) or nothing. Laid end to end they are the JSONL file, so a
chunk is one Arrow element-wise join of a few pieces: the event's id and time (fixed width, from numpy),
its type and vocabulary properties (rendered once per distinct combination in the chunk), its cart, order
and value, and its visit's ids and context (rendered once per visit). Optional keys are omitted: each key
has a table of rendered pieces with and without a leading comma (the first present key of an object
takes the one without) plus an empty piece for absent values."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .clock import NA, iso_bytes
from .devices import BOT_AGENTS, COUNTRY_CODES, DEVICE_TYPES, LOCALES, PLATFORMS, TIME_ZONES, USER_AGENTS
from .reference import Store
from .sessions import CAMPAIGNS, EVENT_TYPES, PLACEMENTS, REFERRERS, Events, Pages
from .text import decimal_strings, fixed_width, int_strings

UNKNOWN_EVENT_TYPES = ("pageview", "scroll_depth", "video_play")  # what a buggy tracker release sends
AGENTS = tuple(u[0] for u in USER_AGENTS) + tuple(b[1] for b in BOT_AGENTS)
BOT_AGENT_OFFSET = len(USER_AGENTS)


def keyed_pieces(key: str, rendered: list[str] | pa.Array) -> pa.StringArray:
    """`,"key":v` for every rendered value, then `"key":v`, then the empty piece."""
    values = pa.array(rendered, pa.string()) if isinstance(rendered, list) else rendered
    with_comma = pc.binary_join_element_wise(f',"{key}":', values, "")
    without = pc.binary_join_element_wise(f'"{key}":', values, "")
    return pa.concat_arrays([with_comma, without, pa.array([""])])


def quoted(values) -> list[str]:
    return [json.dumps(v, ensure_ascii=False) for v in values]


def object_body(parts: list[tuple[pa.StringArray, np.ndarray]], preceded: np.ndarray | None = None) -> list:
    """Pieces of one JSON object per row from (keyed table, code per row; -1 = absent) in key order.
    `preceded` marks rows whose object already has a key before these parts."""
    first = np.where(preceded, -2, -1) if preceded is not None else np.full(len(parts[0][1]), -1)
    for k, (_, code) in enumerate(parts):
        first = np.where((first == -1) & (code >= 0), k, first)
    out = []
    for k, (table, code) in enumerate(parts):
        half = (len(table) - 1) // 2
        out.append(table.take(pa.array(np.where(code < 0, 2 * half, code + half * (first == k)))))
    return out


def distinct_rows(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(representative row of each distinct combination of small non-negative-or--1 codes, and each
    row's combination), via one int64 key."""
    key, scale = np.zeros(len(codes[0]), dtype=np.int64), 1
    for code in codes:
        key += (code + 1) * scale
        scale *= int(code.max(initial=0)) + 2
    assert scale < 2**62, "code combinations do not fit an int64 key"
    _, representative, inverse = np.unique(key, return_index=True, return_inverse=True)
    return representative, inverse


def number_pieces(key: str, values: np.ndarray, absent: int, render) -> tuple[pa.StringArray, np.ndarray]:
    """Keyed table of the distinct numbers present, and each row's code into it."""
    present = values != absent
    distinct, inverse = np.unique(values[present], return_inverse=True)
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[present] = inverse
    return keyed_pieces(key, render(distinct)), codes


@dataclass
class VisitContext:
    """Per visit of a chunk: the rendered pieces events take from their visit."""

    tails: pa.StringArray  # see EventEncoder.visit_tails
    context: pa.StringArray  # body of the context object
    cart: pa.StringArray  # rendered cart id
    order: pa.StringArray  # rendered order id, null when none


class EventEncoder:
    """Rendered lookup tables of one store, built once."""

    def __init__(self, store: Store, pages: Pages) -> None:
        self.store = store
        self.event_type = pa.array(
            [f'"event_type":{quoted([t])[0]},"properties":{{' for t in EVENT_TYPES + UNKNOWN_EVENT_TYPES]
        )
        self.url = keyed_pieces("url", quoted(pages.urls))
        self.referrer = keyed_pieces("referrer", quoted(REFERRERS))
        utm = [
            ",".join(f'"utm_{k}":{quoted([v])[0]}' for k, v in zip(("source", "medium", "campaign"), c[0], strict=True))
            for c in CAMPAIGNS
            if c[0]
        ]
        # the three utm keys travel together, so they share one piece
        self.utm = pa.concat_arrays(
            [pc.binary_join_element_wise(",", pa.array(utm), ""), pa.array(utm), pa.array([""])]
        )
        self.utm_code = np.cumsum([c[0] is not None for c in CAMPAIGNS]) - 1
        self.utm_code[[c[0] is None for c in CAMPAIGNS]] = -1
        self.query = keyed_pieces("query", quoted(pages.queries))
        self.product = keyed_pieces("product_id", quoted(store.catalog.product_id.to_pylist()))
        self.placement = keyed_pieces("placement", quoted(PLACEMENTS))
        self.platform = pa.array([f'"platform":"{p}"' for p in PLATFORMS])
        self.device_type = keyed_pieces("device_type", quoted(DEVICE_TYPES))
        self.agent = keyed_pieces("user_agent", quoted(AGENTS))
        self.locale = keyed_pieces("locale", quoted(LOCALES))
        self.time_zone = keyed_pieces("timezone", quoted(TIME_ZONES))
        self.country = keyed_pieces("country", quoted(COUNTRY_CODES))

    def context(self, platform, device_type, agent, ip, locale, time_zone, country, gpc, dnt) -> pa.StringArray:
        """Context object bodies; platform always comes first, so every other key has a comma."""
        octets = [int_strings((ip >> np.uint32(s)) & np.uint32(255)) for s in (24, 16, 8, 0)]
        a, b, c, d = octets
        ip_piece = pc.binary_join_element_wise(',"ip":"', a, ".", b, ".", c, ".", d, '"', "")
        flag = pa.array(["", ',"gpc":true']), pa.array(["", ',"dnt":true'])
        return pc.binary_join_element_wise(
            self.platform.take(pa.array(platform)),
            self.device_type.take(pa.array(device_type)),
            self.agent.take(pa.array(agent)),
            ip_piece,
            self.locale.take(pa.array(np.where(locale < 0, 2 * len(LOCALES), locale))),
            self.time_zone.take(pa.array(np.where(time_zone < 0, 2 * len(TIME_ZONES), time_zone))),
            self.country.take(pa.array(country)),
            flag[0].take(pa.array(gpc.astype(np.int8))),
            flag[1].take(pa.array(dnt.astype(np.int8))),
            "",
        )

    def visit_tails(self, ids: np.ndarray, user: pa.StringArray, context: pa.StringArray) -> pa.StringArray:
        """Per visit, what closes every event: the visit's session and device ids (hex digits side by side
        in `ids`) and its context; then, for the first len(user) visits (the buyers), the same with their
        user id for events after login."""
        n, k = len(context), len(user)
        head = fixed_width(n, b'},"session_id":"s-', ids[:, :16], b'","anonymous_id":"a-', ids[:, 16:], b'",')
        tail = f'"store_id":"{self.store.id}","context":{{'
        anonymous = pc.binary_join_element_wise(head, tail, context, "}}", "")
        known = pc.binary_join_element_wise(head[:k], '"user_id":"', user, '",', tail, context[:k], "}}", "")
        return pa.concat_arrays([anonymous, known])

    def encode(
        self,
        events: Events,
        visits: VisitContext,
        event_id_hex: np.ndarray,
        device_ms: np.ndarray,
        event_type: np.ndarray,
        drop_id: np.ndarray,
        bad_time: np.ndarray,
        batch_prefix: pa.StringArray,
        batch_suffix: pa.StringArray,
    ) -> pa.StringArray:
        """One string per event, batch framing included. Key order: event fields, properties, then the
        visit's fields and context, which come pre-rendered per visit."""
        m = len(events)
        stamp = iso_bytes(device_ms)
        head = fixed_width(m, b'{"event_id":"e-', event_id_hex, b'","timestamp":"', stamp, b'",')
        for broken, alternative in (
            (drop_id, lambda r: fixed_width(len(r), b'{"timestamp":"', stamp[r], b'",')),
            (
                bad_time,
                lambda r: fixed_width(len(r), b'{"event_id":"e-', event_id_hex[r], b'","timestamp":"not-a-date",'),
            ),
        ):
            if broken.any():
                head = pc.replace_with_mask(head, pa.array(broken), alternative(np.flatnonzero(broken)))

        # the event type and the properties that come from small vocabularies are rendered once per
        # distinct combination, the per-visit and per-event values (cart, order, value) per event
        results_table, results_code = number_pieces("results_count", events.results, -1, int_strings)
        position_table, position_code = number_pieces("list_position", events.position, -1, int_strings)
        static = [
            (self.url, events.page),
            (self.referrer, events.referrer),
            (self.utm, np.where(events.campaign >= 0, self.utm_code[np.maximum(events.campaign, 0)], -1)),
            (self.query, events.query),
            (results_table, results_code),
            (self.product, events.product),
            (position_table, position_code),
            (self.placement, events.placement),
        ]
        representative, combination = distinct_rows([event_type] + [code for _, code in static])
        typed = pc.binary_join_element_wise(
            self.event_type.take(pa.array(event_type[representative])),
            *object_body([(table, code[representative]) for table, code in static]),
            "",
        )
        has_static = np.any([code[representative] >= 0 for _, code in static], axis=0)[combination]
        value_table, value_code = number_pieces("value", events.value, NA, lambda v: decimal_strings(v, 2))
        has_order = visits.order.is_valid().to_numpy(zero_copy_only=False)
        dynamic = object_body(
            [
                (keyed_pieces("cart_id", visits.cart), np.where(events.cart, events.visit, -1)),
                (
                    keyed_pieces("order_id", visits.order.fill_null("")),
                    np.where(events.order & has_order[events.visit], events.visit, -1),
                ),
                (value_table, value_code),
            ],
            preceded=has_static,
        )
        tail = events.visit + len(visits.context) * events.logged_in
        return pc.binary_join_element_wise(
            batch_prefix,
            head,
            typed.take(pa.array(combination)),
            *dynamic,
            visits.tails.take(pa.array(tail)),
            batch_suffix,
            "",
        )
