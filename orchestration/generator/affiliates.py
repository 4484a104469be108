"""The affiliate programme (extract `affiliate_partners` of the CRM): partners whose links carry
`utm_medium=affiliate` with their own utm_source and utm_campaign, and the commission rate each is paid
on the GMV of the orders its sessions bring. The storefront's visits enter through these links at the
weights of `AFFILIATE_CAMPAIGNS` (orchestration/generator/sessions.py draws them with the other campaigns).

A deal site's rate goes from 8 % to 10 % on the window's middle day (a contract amendment the CRM holds
from the start, so both periods are in the one export); a partner-deals network earns 5 %.
Dirt (the first `affiliate_reference_dirt` share of the stores, rounded down): a partner row re-sent
in the same export (dropped as a duplicate), and a cashback club whose rate was typed as a percent
(6.0000 for 6 %): quarantined, so its traffic reaches the warehouse from a partner it does not know.
Without the dirt its row lands.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pyarrow as pa

from .clock import DAY_MS, HOUR_MS, NA
from .config import GeneratorConfig
from .writers import Extract

MEDIUM = "affiliate"
# (partner id suffix, trading name, utm_source, utm_campaign, referrer, share of visits)
PARTNERS = (
    ("01", "DealSite", "dealsite", "partner_deals", "https://dealsite.example/", 0.03),
    ("02", "Partner Deals Network", "dealnetwork", "network_q4", "https://dealnetwork.example/", 0.02),
    ("03", "Cashback Club", "cashbackclub", "cashback_q4", "https://cashbackclub.example/", 0.01),
)
# The campaigns of the affiliate links, in the shape of sessions.CAMPAIGNS.
AFFILIATE_CAMPAIGNS = tuple(((p[2], MEDIUM, p[3]), p[4], p[5]) for p in PARTNERS)
DEAL_SITE, NETWORK, CASHBACK = range(len(PARTNERS))
# (partner, rate in ten-thousandths, days from the window start the period begins, ends or None)
RATE_PERIODS = ((DEAL_SITE, 800, -60, "middle"), (DEAL_SITE, 1000, "middle", None), (NETWORK, 500, -30, None))
CASHBACK_RATE = 600
MISTYPED_RATE = CASHBACK_RATE * 100  # 6 % typed as 6.0000


class Affiliates:
    """One store's partner reference export, and its truth."""

    def __init__(self, config: GeneratorConfig, store_id: str, store_index: int, window_start_ms: int) -> None:
        # The first stores, rounded down: in an export of four rows one bad row is a quarter of it,
        # past the dead-letter health limits, so a one-store run stays clean.
        dirty = store_index < math.floor(config.rates.affiliate_reference_dirt * config.stores)
        middle = config.days // 2

        def day(offset: int | str | None) -> int | None:
            return None if offset is None else (middle if offset == "middle" else offset)

        periods = [(p, rate, day(start), day(end)) for p, rate, start, end in RATE_PERIODS]
        periods.append((CASHBACK, MISTYPED_RATE if dirty else CASHBACK_RATE, -14, None))
        rows = list(range(len(periods)))
        if dirty:
            rows.insert(rows.index(2) + 1, 2)  # the network's row sent twice

        start_day = int(window_start_ms // DAY_MS)  # days since the epoch of the window's first UTC date
        as_of = window_start_ms - DAY_MS + 7 * HOUR_MS
        partner = np.array([periods[r][0] for r in rows])
        valid_to = np.array([periods[r][3] for r in rows], dtype=object)
        self.extract = Extract(
            "affiliate_partners",
            {
                "partner_id": pa.array([f"aff-{store_id}-{PARTNERS[p][0]}" for p in partner]),
                "store_id": pa.array([store_id] * len(rows)),
                "partner_name": pa.array([PARTNERS[p][1] for p in partner]),
                "utm_source": pa.array([PARTNERS[p][2] for p in partner]),
                "utm_campaign": pa.array([PARTNERS[p][3] for p in partner]),
                "commission_rate": np.array([periods[r][1] for r in rows], dtype=np.int64),
                "valid_from": np.array([start_day + periods[r][2] for r in rows], dtype=np.int64),
                "valid_to": np.array([NA if v is None else start_day + v for v in valid_to], dtype=np.int64),
                "updated_at": np.full(len(rows), as_of),
            },
            export_ms=np.full(len(rows), window_start_ms),
        )
        start = config.start_date
        landed = [period for period in periods if period[1] <= 10_000]
        self.truth = {
            "partners": {
                PARTNERS[p][2]: [
                    {
                        "valid_from": (start + timedelta(days=s)).isoformat(),
                        "valid_to": None if e is None else (start + timedelta(days=e)).isoformat(),
                        "commission_rate": f"{rate / 10_000:.4f}",
                    }
                    for q, rate, s, e in landed
                    if q == p
                ]
                for p in sorted({period[0] for period in landed})
            },
            "unknown_sources": sorted({PARTNERS[p][2] for p, rate, _, _ in periods if rate > 10_000}),
            "quarantined": sum(rate > 10_000 for _, rate, _, _ in periods),
            "resent": len(rows) - len(periods),
        }
