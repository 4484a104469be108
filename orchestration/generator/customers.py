"""Customers and their purchases: MBG/NBD for when they buy, Gamma-Gamma for how much.

MBG/NBD (Batislam, Denizel & Filiztekin 2007), the BG/NBD of Fader, Hardie & Lee (2005) with the dropout
coin also tossed after the first purchase: each customer has a purchase rate lambda ~ Gamma(r, alpha) per
day and a dropout probability p ~ Beta(a, b). The first purchase is at the customer's birth; after every
purchase, the first included, the customer drops out with probability p, and while alive buys again
after Exponential(lambda). The parameters are under truth.json's `bgnbd` key, the family's name.
Gamma-Gamma: each customer has nu ~ Gamma(q, gamma); each purchase spends z ~ Gamma(p, nu)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrays import first_occurrence
from .clock import DAY_MS, HOUR_MS, MINUTE_MS, NA, Window
from .config import GeneratorConfig, rng_for
from .devices import COUNTRY_CODES, Devices, home_countries, make_devices
from .reference import FOREIGN_SHARE, Store
from .traffic import sample_times

SIGNUP_CHANNELS = ("web", "ios", "android", "checkout_guest_upgrade", "marketplace")
CUSTOMER_AD_BLOCKERS = 0.05  # share of buyers' web devices that block the tracker


@dataclass
class Customers:
    created_ms: np.ndarray
    country: np.ndarray  # index into COUNTRY_CODES
    region: np.ndarray  # index into the store's regions; len(regions) = International
    person: np.ndarray  # (n, 8) indices into the People pools
    moved_ms: np.ndarray  # when the address changed (second version of the row), NA if never
    new_address: np.ndarray  # (n, 3) street, city, postcode indices after the move
    missing_phone: np.ndarray
    missing_address: np.ndarray
    signup_channel: np.ndarray
    devices: np.ndarray  # (n, 2) device serials, -1 when the customer has one device
    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray

    def __len__(self) -> int:
        return len(self.created_ms)


@dataclass
class Purchases:
    """One row per purchase, sorted by time."""

    customer: np.ndarray
    time_ms: np.ndarray
    spend: np.ndarray  # Gamma-Gamma draw, store currency
    device: np.ndarray  # device serial the purchase is made on
    first_on_device: np.ndarray  # the customer logs in on this device for the first time

    def __len__(self) -> int:
        return len(self.time_ms)


def bgnbd_purchases(
    rng: np.random.Generator, birth_ms: np.ndarray, lam: np.ndarray, p: np.ndarray, end_ms: int
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, time) of every purchase before end_ms; one vectorised step per purchase number."""
    who = [np.arange(len(birth_ms))]
    when = [birth_ms]
    alive, t = who[0], birth_ms
    while len(alive):
        stays = rng.random(len(alive)) >= p[alive]  # dropout is decided right after each purchase
        alive, t = alive[stays], t[stays]
        t = t + np.rint(rng.exponential(1.0 / lam[alive]) * DAY_MS).astype(np.int64)
        inside = t < end_ms
        alive, t = alive[inside], t[inside]
        who.append(alive)
        when.append(t)
    return np.concatenate(who), np.concatenate(when)


def purchases_per_customer(config: GeneratorConfig, store: Store, window: Window, intensity: np.ndarray) -> float:
    """Mean purchases in the window of a customer born in it, from a pilot run of the same process."""
    rng = rng_for(config.seed, "bgnbd-pilot", store.index)
    n = 20_000
    params = store.spec.bgnbd
    birth = sample_times(rng, intensity, window.start_ms, n)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    who, _ = bgnbd_purchases(rng, birth, lam, p, window.end_ms)
    return len(who) / n


def simulate_customers(
    config: GeneratorConfig,
    store: Store,
    window: Window,
    intensity: np.ndarray,
    n_customers: int,
    first_device: int,
) -> tuple[Customers, Purchases, Devices]:
    """Customers born in the window, their purchases, and their devices (serials from first_device on)."""
    rng = rng_for(config.seed, "customers", store.index)
    spec = store.spec
    n = n_customers
    bg, gg = spec.bgnbd, spec.gamma_gamma
    birth = sample_times(rng, intensity, window.start_ms, n)
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
    p = rng.beta(bg["a"], bg["b"], n)
    nu = rng.gamma(gg["q"], 1.0 / (gg["gamma"] * spec.price_factor), n)
    who, when = bgnbd_purchases(rng, birth, lam, p, window.end_ms)
    order = np.lexsort((who, when))
    who, when = who[order], when[order]
    spend = rng.gamma(gg["p"], 1.0 / nu[who])

    country = home_countries(rng, n, spec.country, spec.foreign, FOREIGN_SHARE)
    home = country == COUNTRY_CODES.index(spec.country)
    region_weights = np.array([w for _, w in spec.regions])
    region = np.where(home, rng.choice(len(region_weights), n, p=region_weights), len(region_weights))

    two_devices = rng.random(n) < 0.3
    n_devices = 1 + two_devices
    serial = first_device + np.cumsum(n_devices) - n_devices
    devices = np.stack([serial, np.where(two_devices, serial + 1, -1)], axis=1)
    device_traits = make_devices(
        rng, np.repeat(country, n_devices), config.rates.clock_skew_devices, CUSTOMER_AD_BLOCKERS
    )

    # which device each purchase is made on; the first is always the customer's first device
    use_second = (devices[who, 1] >= 0) & (rng.random(len(who)) < 0.35)
    first_purchase = first_occurrence(who)
    use_second &= ~first_purchase
    device = np.where(use_second, devices[who, 1], devices[who, 0])
    first_on_device = first_occurrence(device)

    platform_of_first = device_traits.platform[devices[:, 0] - first_device]
    channel = np.where(rng.random(n) < 0.1, 3, platform_of_first)
    channel = np.where(rng.random(n) < 0.03, 4, channel)
    pool = len(store.people.first_name)
    moved = rng.random(n) < 0.04
    created = birth - rng.integers(MINUTE_MS, 4 * MINUTE_MS, n)  # signed up at checkout, just before paying
    customers = Customers(
        created_ms=created,
        country=country,
        region=region,
        person=rng.integers(0, pool, (n, 8)),
        moved_ms=np.where(moved, created + np.rint(rng.exponential(4 * DAY_MS, n)) + HOUR_MS, NA).astype(np.int64),
        new_address=rng.integers(0, pool, (n, 3)),
        missing_phone=rng.random(n) < 0.15,
        missing_address=rng.random(n) < 0.05,
        signup_channel=channel,
        devices=devices,
        lam=lam,
        p=p,
        nu=nu,
    )
    purchases = Purchases(customer=who, time_ms=when, spend=spend, device=device, first_on_device=first_on_device)
    return customers, purchases, device_traits
