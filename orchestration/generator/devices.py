"""Devices (anonymous ids) and their fixed traits: platform, user agent, place, privacy signals,
consent behaviour and clock skew. Bots get their own table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import HOUR_MS, MINUTE_MS

PLATFORMS = ("web", "ios", "android")
DEVICE_TYPES = ("desktop", "mobile", "tablet")

_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0"
_SAFARI = "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1"
# user agent, platform, device type
USER_AGENTS = (
    (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROME} Safari/537.36", 0, 0),
    (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_SAFARI} Safari/605.1.15", 0, 0),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", 0, 0),
    (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROME} Safari/537.36 Edg/130.0.0.0", 0, 0),
    (f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) {_SAFARI} Mobile/15E148 Safari/604.1", 0, 1),
    (f"Mozilla/5.0 (Linux; Android 15; Pixel 8) {_CHROME} Mobile Safari/537.36", 0, 1),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 "
        "Chrome/122.0.0.0 Mobile Safari/537.36",
        0,
        1,
    ),
    (f"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) {_SAFARI} Mobile/15E148 Safari/604.1", 0, 2),
    ("ShopApp/5.12.0 (iPhone; iOS 18.1; Scale/3.00)", 1, 1),
    ("ShopApp/5.11.2 (iPhone; iOS 17.6; Scale/3.00)", 1, 1),
    ("ShopApp/5.12.0 (iPad; iOS 18.1; Scale/2.00)", 1, 2),
    ("ShopApp/5.12.0 (Linux; Android 15; Pixel 8)", 2, 1),
    ("ShopApp/5.11.2 (Linux; Android 14; SM-S918B)", 2, 1),
    ("ShopApp/5.12.0 (Linux; Android 14; SM-X710)", 2, 2),
)
_UA_PLATFORM = np.array([u[1] for u in USER_AGENTS])
_UA_TYPE = np.array([u[2] for u in USER_AGENTS])

# kind -> user agent; the first user agents a bot filter would match
BOT_AGENTS = (
    ("googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    ("ahrefsbot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"),
    ("python_requests", "python-requests/2.31.0"),
    (
        "headless_chrome",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36",
    ),
)
BOT_WEIGHTS = np.array([0.35, 0.15, 0.2, 0.15, 0.15])
SCRAPER_AGENT = 0  # a plain desktop Chrome: only its behaviour gives it away

# country -> locale, IANA zones of its visitors
COUNTRIES = {
    "US": ("en-US", ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")),
    "GB": ("en-GB", ("Europe/London",)),
    "DE": ("de-DE", ("Europe/Berlin",)),
    "JP": ("ja-JP", ("Asia/Tokyo",)),
    "AU": ("en-AU", ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth")),
    "BR": ("pt-BR", ("America/Sao_Paulo",)),
    "CA": ("en-CA", ("America/Toronto", "America/Vancouver")),
    "MX": ("es-MX", ("America/Mexico_City",)),
    "IE": ("en-IE", ("Europe/Dublin",)),
    "FR": ("fr-FR", ("Europe/Paris",)),
    "NL": ("nl-NL", ("Europe/Amsterdam",)),
    "AT": ("de-AT", ("Europe/Vienna",)),
    "CH": ("de-CH", ("Europe/Zurich",)),
    "KR": ("ko-KR", ("Asia/Seoul",)),
    "TW": ("zh-TW", ("Asia/Taipei",)),
    "NZ": ("en-NZ", ("Pacific/Auckland",)),
    "AR": ("es-AR", ("America/Argentina/Buenos_Aires",)),
    "UY": ("es-UY", ("America/Montevideo",)),
}
COUNTRY_CODES = tuple(COUNTRIES)
LOCALES = tuple(v[0] for v in COUNTRIES.values())
TIME_ZONES = tuple(tz for v in COUNTRIES.values() for tz in v[1])
_ZONE_START = np.cumsum([0] + [len(v[1]) for v in COUNTRIES.values()])[:-1]
_ZONE_COUNT = np.array([len(v[1]) for v in COUNTRIES.values()])
_PUBLIC_OCTETS = np.array(
    [23, 24, 31, 37, 45, 62, 66, 71, 73, 77, 81, 84, 89, 92, 98, 104, 126, 151, 176, 187, 189, 201]
)
_DATACENTER_OCTETS = np.array([34, 35, 52, 54, 66, 157])

ANALYTICS = ("granted", "denied", "none")  # consent banner decision; "none" = never answered


@dataclass
class Devices:
    """Traits per device; the row number is the device's serial within its store."""

    platform: np.ndarray
    device_type: np.ndarray
    user_agent: np.ndarray
    country: np.ndarray
    locale: np.ndarray
    time_zone: np.ndarray
    ip: np.ndarray  # uint32
    gpc: np.ndarray
    dnt: np.ndarray
    analytics: np.ndarray  # index into ANALYTICS
    marketing: np.ndarray  # granted marketing as well
    withdraws: np.ndarray  # withdraws analytics consent on a later visit
    skew_ms: np.ndarray  # device clock minus true time
    ad_blocker: np.ndarray  # blocks the tracker: its visits never reach the collector

    def __len__(self) -> int:
        return len(self.platform)

    @staticmethod
    def concat(parts: list[Devices]) -> Devices:
        return Devices(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in Devices.__dataclass_fields__})


def make_devices(
    rng: np.random.Generator,
    countries: np.ndarray,
    skew_rate: float,
    ad_blocker_rate: float = 0.0,
) -> Devices:
    """Devices of visitors from the given countries (indices into COUNTRY_CODES)."""
    n = len(countries)
    platform = rng.choice(3, size=n, p=[0.6, 0.22, 0.18])
    # a user agent consistent with the platform; web splits into desktop / mobile / tablet
    ua_weights = np.array([0.3, 0.12, 0.07, 0.06, 0.17, 0.15, 0.05, 0.08, 0.55, 0.3, 0.15, 0.55, 0.3, 0.15])
    user_agent = np.empty(n, dtype=np.int64)
    for p in range(3):
        members = np.flatnonzero(p == _UA_PLATFORM)
        weights = ua_weights[members] / ua_weights[members].sum()
        rows = platform == p
        user_agent[rows] = members[rng.choice(len(members), size=rows.sum(), p=weights)]
    zone = _ZONE_START[countries] + np.minimum(
        rng.geometric(0.55, n) - 1, _ZONE_COUNT[countries] - 1
    )  # first zone of a country is the most common
    web = platform == 0
    analytics = rng.choice(3, size=n, p=[0.82, 0.10, 0.08])
    skewed = rng.random(n) < skew_rate
    magnitude = np.exp(rng.uniform(np.log(2 * MINUTE_MS), np.log(5 * HOUR_MS), n))
    small = np.int8  # millions of devices: traits are codes into short tables
    return Devices(
        platform=platform.astype(small),
        device_type=_UA_TYPE[user_agent].astype(small),
        user_agent=user_agent.astype(small),
        country=countries.astype(small),
        locale=countries.astype(small),  # LOCALES is aligned with COUNTRY_CODES
        time_zone=zone.astype(small),
        ip=_ip(rng, n, _PUBLIC_OCTETS),
        gpc=web & (rng.random(n) < 0.06),
        dnt=web & (rng.random(n) < 0.09),
        analytics=analytics.astype(small),
        marketing=(analytics == 0) & (rng.random(n) < 0.6),
        withdraws=(analytics == 0) & (rng.random(n) < 0.04),
        skew_ms=np.where(skewed, np.rint(magnitude) * rng.choice([-1, 1], n), 0).astype(np.int32),
        ad_blocker=web & (rng.random(n) < ad_blocker_rate),
    )


def _ip(rng: np.random.Generator, n: int, first_octets: np.ndarray) -> np.ndarray:
    first = first_octets[rng.integers(len(first_octets), size=n)].astype(np.uint32)
    return (first << np.uint32(24)) | rng.integers(0, 1 << 24, size=n, dtype=np.uint32)


def home_countries(rng: np.random.Generator, n: int, home: str, foreign: tuple, foreign_share: float) -> np.ndarray:
    codes = [home] + [c for c, _ in foreign]
    weights = np.array([1 - foreign_share] + [w * foreign_share for _, w in foreign])
    picked = rng.choice(len(codes), size=n, p=weights / weights.sum())
    return np.array([COUNTRY_CODES.index(c) for c in codes])[picked]


def bot_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    return _ip(rng, n, _DATACENTER_OCTETS)
