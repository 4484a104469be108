"""Reference data: stores, warehouses, catalogs, promotions and the pool of people-like strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from .clock import DAY_MS, HOUR_MS, epoch_ms
from .config import GeneratorConfig, rng_for
from .ids import backoffice_ids
from .writers import Extract, repeat


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    region: str
    lead_time_days: int
    serves: tuple[str, ...]  # destination regions it ships to first


@dataclass(frozen=True)
class StoreSpec:
    store_id: str
    name: str
    country: str
    time_zone: str
    currency: str
    faker_locale: str
    price_factor: float  # store currency per USD, for prices and spend
    money_step: int  # smallest amount in hundredths: 100 for whole-yen prices
    traffic_share: float
    conversion: float  # target share of sessions that purchase
    tax_rate: float
    shipping_fee: int  # hundredths of the store currency
    free_shipping_over: int
    products: int
    opened: date
    regions: tuple[tuple[str, float], ...]
    foreign: tuple[tuple[str, float], ...]
    warehouses: tuple[WarehouseSpec, ...]
    carriers: tuple[tuple[str, float], ...]
    gateways: tuple[tuple[str, float], ...]
    bgnbd: dict  # r, alpha (days), a, b
    gamma_gamma: dict  # p, q, gamma (store currency)


FOREIGN_SHARE = 0.08

STORES = (
    StoreSpec(
        store_id="us",
        name="Shop US",
        country="US",
        time_zone="America/New_York",
        currency="USD",
        faker_locale="en_US",
        price_factor=1.0,
        money_step=1,
        traffic_share=0.36,
        conversion=0.03,
        tax_rate=0.0725,
        shipping_fee=599,
        free_shipping_over=5000,
        products=200,
        opened=date(2019, 3, 1),
        regions=(("Northeast", 0.18), ("Southeast", 0.25), ("Midwest", 0.21), ("Southwest", 0.12), ("West", 0.24)),
        foreign=(("CA", 0.6), ("MX", 0.2), ("GB", 0.2)),
        warehouses=(
            WarehouseSpec(
                "east", "Newark DC", "Northeast", lead_time_days=5, serves=("Northeast", "Southeast", "Midwest")
            ),
            WarehouseSpec("west", "Reno DC", "West", lead_time_days=8, serves=("West", "Southwest")),
        ),
        carriers=(("ups", 0.45), ("fedex", 0.35), ("dhl", 0.2)),
        gateways=(("stripe", 0.5), ("paypal", 0.25), ("adyen", 0.15), ("klarna", 0.1)),
        bgnbd={"r": 0.75, "alpha": 20.0, "a": 0.8, "b": 2.5},
        gamma_gamma={"p": 6.0, "q": 4.0, "gamma": 35.0},
    ),
    StoreSpec(
        store_id="uk",
        name="Shop UK",
        country="GB",
        time_zone="Europe/London",
        currency="GBP",
        faker_locale="en_GB",
        price_factor=0.8,
        money_step=1,
        traffic_share=0.2,
        conversion=0.032,
        tax_rate=0.2,
        shipping_fee=395,
        free_shipping_over=4000,
        products=150,
        opened=date(2020, 5, 12),
        regions=(("England", 0.84), ("Scotland", 0.08), ("Wales", 0.05), ("Northern Ireland", 0.03)),
        foreign=(("IE", 0.5), ("FR", 0.25), ("NL", 0.25)),
        warehouses=(
            WarehouseSpec(
                "mid",
                "Daventry DC",
                "England",
                lead_time_days=6,
                serves=("England", "Scotland", "Wales", "Northern Ireland"),
            ),
        ),
        carriers=(("royal_mail", 0.6), ("dhl", 0.25), ("ups", 0.15)),
        gateways=(("stripe", 0.45), ("paypal", 0.3), ("klarna", 0.15), ("adyen", 0.1)),
        bgnbd={"r": 0.7, "alpha": 22.0, "a": 0.85, "b": 2.6},
        gamma_gamma={"p": 6.0, "q": 4.0, "gamma": 35.0},
    ),
    StoreSpec(
        store_id="de",
        name="Shop DE",
        country="DE",
        time_zone="Europe/Berlin",
        currency="EUR",
        faker_locale="de_DE",
        price_factor=0.92,
        money_step=1,
        traffic_share=0.16,
        conversion=0.028,
        tax_rate=0.19,
        shipping_fee=490,
        free_shipping_over=4900,
        products=140,
        opened=date(2020, 9, 1),
        regions=(
            ("Nordrhein-Westfalen", 0.22),
            ("Bayern", 0.16),
            ("Baden-Württemberg", 0.13),
            ("Niedersachsen", 0.1),
            ("Hessen", 0.08),
            ("Berlin", 0.06),
            ("Sachsen", 0.05),
            ("Hamburg", 0.04),
            ("Übrige", 0.16),
        ),
        foreign=(("AT", 0.5), ("CH", 0.3), ("NL", 0.2)),
        warehouses=(
            WarehouseSpec(
                "nrw",
                "Lager Dortmund",
                "Nordrhein-Westfalen",
                lead_time_days=4,
                serves=("Nordrhein-Westfalen", "Niedersachsen", "Hessen", "Hamburg", "Berlin", "Übrige"),
            ),
            WarehouseSpec(
                "by", "Lager München", "Bayern", lead_time_days=6, serves=("Bayern", "Baden-Württemberg", "Sachsen")
            ),
        ),
        carriers=(("dhl", 0.7), ("ups", 0.3)),
        gateways=(("adyen", 0.4), ("klarna", 0.3), ("paypal", 0.2), ("stripe", 0.1)),
        bgnbd={"r": 0.65, "alpha": 25.0, "a": 0.8, "b": 2.8},
        gamma_gamma={"p": 6.0, "q": 4.0, "gamma": 35.0},
    ),
    StoreSpec(
        store_id="jp",
        name="Shop JP",
        country="JP",
        time_zone="Asia/Tokyo",
        currency="JPY",
        faker_locale="ja_JP",
        price_factor=150.0,
        money_step=100,
        traffic_share=0.12,
        conversion=0.025,
        tax_rate=0.1,
        shipping_fee=60000,
        free_shipping_over=500000,
        products=120,
        opened=date(2021, 4, 1),
        regions=(
            ("Kanto", 0.35),
            ("Kansai", 0.2),
            ("Chubu", 0.15),
            ("Kyushu", 0.1),
            ("Tohoku", 0.08),
            ("Chugoku", 0.07),
            ("Hokkaido", 0.05),
        ),
        foreign=(("KR", 0.5), ("TW", 0.5)),
        warehouses=(
            WarehouseSpec(
                "chiba",
                "Chiba Center",
                "Kanto",
                lead_time_days=3,
                serves=("Kanto", "Kansai", "Chubu", "Kyushu", "Tohoku"),
            ),
        ),
        carriers=(("yamato", 0.8), ("dhl", 0.2)),
        gateways=(("stripe", 0.6), ("adyen", 0.3), ("paypal", 0.1)),
        bgnbd={"r": 0.85, "alpha": 18.0, "a": 0.7, "b": 2.4},
        gamma_gamma={"p": 6.0, "q": 4.0, "gamma": 35.0},
    ),
    StoreSpec(
        store_id="au",
        name="Shop AU",
        country="AU",
        time_zone="Australia/Sydney",
        currency="AUD",
        faker_locale="en_AU",
        price_factor=1.5,
        money_step=1,
        traffic_share=0.08,
        conversion=0.03,
        tax_rate=0.1,
        shipping_fee=995,
        free_shipping_over=8000,
        products=80,
        opened=date(2022, 2, 14),
        regions=(
            ("New South Wales", 0.32),
            ("Victoria", 0.26),
            ("Queensland", 0.2),
            ("Western Australia", 0.11),
            ("South Australia", 0.07),
            ("Tasmania", 0.04),
        ),
        foreign=(("NZ", 1.0),),
        warehouses=(
            WarehouseSpec(
                "syd",
                "Sydney DC",
                "New South Wales",
                lead_time_days=10,
                serves=("New South Wales", "Victoria", "Queensland", "Tasmania"),
            ),
            WarehouseSpec(
                "per",
                "Perth DC",
                "Western Australia",
                lead_time_days=14,
                serves=("Western Australia", "South Australia"),
            ),
        ),
        carriers=(("auspost", 0.75), ("dhl", 0.25)),
        gateways=(("stripe", 0.45), ("paypal", 0.25), ("klarna", 0.2), ("adyen", 0.1)),
        bgnbd={"r": 0.6, "alpha": 28.0, "a": 0.9, "b": 2.5},
        gamma_gamma={"p": 6.0, "q": 4.0, "gamma": 35.0},
    ),
    StoreSpec(
        store_id="br",
        name="Shop BR",
        country="BR",
        time_zone="America/Sao_Paulo",
        currency="BRL",
        faker_locale="pt_BR",
        price_factor=5.3,
        money_step=1,
        traffic_share=0.08,
        conversion=0.022,
        tax_rate=0.17,
        shipping_fee=1990,
        free_shipping_over=19900,
        products=60,
        opened=date(2023, 6, 5),
        regions=(("Sudeste", 0.45), ("Nordeste", 0.2), ("Sul", 0.17), ("Centro-Oeste", 0.1), ("Norte", 0.08)),
        foreign=(("AR", 0.5), ("UY", 0.5)),
        warehouses=(
            WarehouseSpec(
                "sp",
                "CD Cajamar",
                "Sudeste",
                lead_time_days=12,
                serves=("Sudeste", "Nordeste", "Sul", "Centro-Oeste", "Norte"),
            ),
        ),
        carriers=(("correios", 0.7), ("fedex", 0.15), ("dhl", 0.15)),
        gateways=(("adyen", 0.5), ("stripe", 0.3), ("paypal", 0.2)),
        bgnbd={"r": 0.8, "alpha": 16.0, "a": 0.75, "b": 2.2},
        gamma_gamma={"p": 6.0, "q": 4.0, "gamma": 35.0},
    ),
)

INTERNATIONAL = "International"

# name, nouns, brands, median price in USD, search queries
CATEGORIES = (
    (
        "apparel",
        ("T-Shirt", "Hoodie", "Denim Jacket", "Chinos", "Wool Sweater", "Rain Jacket", "Polo Shirt"),
        ("Northwind", "Alder & Co", "Kestrel"),
        35.0,
        ("t shirt", "hoodie", "jacket", "sweater", "chinos"),
    ),
    (
        "footwear",
        ("Running Shoe", "Trail Runner", "Leather Boot", "Canvas Sneaker", "Sandal", "Slip-On"),
        ("Stride", "Trailhead", "Kestrel"),
        80.0,
        ("running shoes", "boots", "sneakers", "sandals"),
    ),
    (
        "electronics",
        (
            "Wireless Earbuds",
            "Bluetooth Speaker",
            "USB-C Charger",
            "Smart Watch",
            "Power Bank",
            "Noise-Cancelling Headphones",
            "Webcam",
        ),
        ("Voltra", "Pulse", "Lumen"),
        60.0,
        ("earbuds", "headphones", "charger", "smart watch", "speaker"),
    ),
    (
        "home",
        ("Ceramic Mug", "Throw Blanket", "Table Lamp", "Scented Candle", "Towel Set", "Chef Knife", "Cast Iron Pan"),
        ("Hearth", "Loam", "Alder & Co"),
        30.0,
        ("mug", "blanket", "lamp", "candle", "frying pan"),
    ),
    (
        "beauty",
        ("Face Serum", "Lip Balm", "Hand Cream", "Shampoo", "Sunscreen SPF50", "Eau de Parfum"),
        ("Petal", "Verde", "Lumiere"),
        22.0,
        ("serum", "sunscreen", "shampoo", "perfume"),
    ),
    (
        "sports",
        ("Yoga Mat", "Water Bottle", "Resistance Bands", "Dumbbell Set", "Cycling Gloves", "Gym Bag"),
        ("Apex", "Stride", "Trailhead"),
        28.0,
        ("yoga mat", "water bottle", "dumbbells", "gym bag"),
    ),
    (
        "toys",
        ("Building Blocks Set", "Plush Bear", "Jigsaw Puzzle", "RC Car", "Board Game"),
        ("Tinker", "Pebble", "Kite & Co"),
        25.0,
        ("building blocks", "puzzle", "board game", "plush"),
    ),
    (
        "books",
        ("Cookbook", "Travel Guide", "Crime Novel", "Sketchbook", "Planner 2027"),
        ("Paperleaf", "Inkwell"),
        18.0,
        ("cookbook", "novel", "planner", "travel guide"),
    ),
)
CATEGORY_WEIGHTS = np.array([0.2, 0.12, 0.16, 0.16, 0.1, 0.1, 0.08, 0.08])
ADJECTIVES = ("Classic", "Everyday", "Pro", "Essential", "Premium", "Lite", "Original", "Studio", "Outdoor", "Urban")
ZERO_RESULT_QUERIES = (
    "asdfgh",
    "wedding dress",
    "lawn mower",
    "pet food",
    "garden hose",
    "vinyl records",
    "ski boots",
    "xbox",
    "iphone 17 pro max case",
    "blu ray player",
)
# How visitors mistype the same query, so search-term normalisation has something to do.
QUERY_VARIANTS = (
    (lambda q: q, 0.7),
    (str.title, 0.15),
    (str.upper, 0.05),
    (lambda q: f" {q}", 0.05),
    (lambda q: f"{q} ", 0.05),
)

# name, type, value (percent, or USD for amount_off), start and end in days from the window start,
# max uses as a share of expected orders (None: unlimited)
PROMOTIONS = (
    ("Welcome offer", "percent_off", 10, -120, 240, (("WELCOME10", None),)),
    ("Autumn sale", "percent_off", 15, -5, 12, (("AUTUMN15", None), ("AUTUMN15VIP", 0.01))),
    ("Flash deal", "amount_off", 10, 1, 4, (("FLASH10", 0.004),)),
    ("Free shipping week", "free_shipping", 0, 0, 7, (("SHIPFREE", None),)),
)
PROMOTION_TYPES = ("percent_off", "amount_off", "free_shipping")


def round_money(amount: np.ndarray, step: int) -> np.ndarray:
    """Round hundredths to the store's smallest amount (whole yen for JPY)."""
    return (np.rint(np.asarray(amount, dtype=np.float64) / step) * step).astype(np.int64)


@dataclass
class Catalog:
    product_id: pa.StringArray
    sku: pa.StringArray
    name: list[str]
    category: np.ndarray
    brand: list[str]
    price: np.ndarray  # hundredths
    unit_cost: np.ndarray  # ten-thousandths
    launched_ms: np.ndarray
    active: np.ndarray
    popularity: np.ndarray  # sampling weight of views and purchases
    quality: np.ndarray  # shifts review ratings

    def __len__(self) -> int:
        return len(self.price)


@dataclass
class Promotions:
    promotion_id: pa.StringArray
    name: list[str]
    kind: np.ndarray  # index into PROMOTION_TYPES
    value: np.ndarray  # hundredths (percent * 100 for percent_off)
    starts_ms: np.ndarray
    ends_ms: np.ndarray
    code_promotion: np.ndarray  # per code: index of its promotion
    code: list[str]
    code_id: pa.StringArray
    code_share_of_orders: np.ndarray  # max uses as a share of the store's orders, NaN when unlimited
    max_uses: np.ndarray | None = None  # set once the number of orders is known; NA when unlimited


@dataclass
class People:
    """Names, addresses and texts drawn once from Faker and then indexed with numpy."""

    first_name: pa.StringArray
    last_name: pa.StringArray
    street: pa.StringArray
    city: pa.StringArray
    postcode: pa.StringArray
    phone: pa.StringArray
    user_name: pa.StringArray
    email_domain: pa.StringArray
    review_title: pa.StringArray
    review_body: pa.StringArray


@dataclass
class Store:
    index: int
    spec: StoreSpec
    catalog: Catalog
    promotions: Promotions
    people: People
    warehouse_ids: list[str]

    @property
    def id(self) -> str:
        return self.spec.store_id


def _catalog(spec: StoreSpec, index: int, config: GeneratorConfig, window_start_ms: int) -> Catalog:
    rng = rng_for(config.seed, "catalog", index)
    n = spec.products
    category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHTS)
    names, brands = [], []
    medians = np.array([c[3] for c in CATEGORIES])[category]
    for i, c in enumerate(category):  # a few hundred products: Python is fine here
        _, nouns, brand_list, _, _ = CATEGORIES[c]
        brand = brand_list[rng.integers(len(brand_list))]
        brands.append(brand)
        names.append(f"{brand} {ADJECTIVES[rng.integers(len(ADJECTIVES))]} {nouns[i % len(nouns)]}")
    usd = np.clip(medians * rng.lognormal(0.0, 0.55, n), 3.0, 900.0)
    local = usd * spec.price_factor * 100
    if spec.money_step == 100:  # whole yen, ending in 0 or 80 as Japanese shops price
        price = np.maximum(np.rint(local / 1000) * 1000 - 2000 * (rng.random(n) < 0.5), 10000)
    else:  # charm prices: x.99 / x.95 / x.00
        endings = np.array([99, 95, 0])[rng.choice(3, size=n, p=[0.6, 0.25, 0.15])]
        price = np.floor(local / 100) * 100 + endings
    price = price.astype(np.int64)
    unit_cost = np.rint(price * 100 * rng.uniform(0.35, 0.7, n)).astype(np.int64)
    age_days = rng.uniform(30, 900, n)
    new = rng.random(n) < 0.05  # launched during the window
    launched = np.where(new, window_start_ms + rng.uniform(0, 5, n) * DAY_MS, window_start_ms - age_days * DAY_MS)
    launched = (launched // 1000 * 1000).astype(np.int64)
    active = new | (rng.random(n) >= 0.04)  # a few old products are discontinued
    ranks = rng.permutation(n) + 1
    category_code = np.array([c[0][:3].upper() for c in CATEGORIES])[category]
    return Catalog(
        product_id=backoffice_ids("prd", spec.store_id, np.arange(n), 4),
        sku=pa.array([f"{spec.store_id.upper()}-{c}-{i:04d}" for i, c in enumerate(category_code, start=1)]),
        name=names,
        category=category,
        brand=brands,
        price=price,
        unit_cost=unit_cost,
        launched_ms=launched,
        active=active,
        popularity=1.0 / ranks**0.9,
        quality=rng.normal(0.0, 0.45, n),
    )


def _promotions(spec: StoreSpec, window_start_ms: int) -> Promotions:
    kinds, values, starts, ends, code_promo, codes, shares = [], [], [], [], [], [], []
    for p, (_, kind, value, start, end, code_list) in enumerate(PROMOTIONS):
        kinds.append(PROMOTION_TYPES.index(kind))
        amount = (
            value * 100 if kind != "amount_off" else round_money(value * spec.price_factor * 100, 100 * spec.money_step)
        )
        values.append(int(amount))
        starts.append(window_start_ms + start * DAY_MS)
        ends.append(window_start_ms + end * DAY_MS - 1000)
        for code, share in code_list:
            code_promo.append(p)
            codes.append(code)
            shares.append(np.nan if share is None else share)
    n_promos = len(PROMOTIONS)
    return Promotions(
        promotion_id=backoffice_ids("promo", spec.store_id, np.arange(n_promos), 3),
        name=[p[0] for p in PROMOTIONS],
        kind=np.array(kinds),
        value=np.array(values, dtype=np.int64),
        starts_ms=np.array(starts, dtype=np.int64),
        ends_ms=np.array(ends, dtype=np.int64),
        code_promotion=np.array(code_promo),
        code=codes,
        code_id=backoffice_ids("dc", spec.store_id, np.arange(len(codes)), 3),
        code_share_of_orders=np.array(shares),
    )


def _people(spec: StoreSpec, index: int, seed: int, size: int = 400) -> People:
    # Faker comes with the dev extra: only the synthetic source systems need it.
    from faker import Faker

    fake = Faker(spec.faker_locale)
    fake.seed_instance(seed * 1000 + index)

    def pool(make) -> pa.StringArray:
        return pa.array([make() for _ in range(size)], pa.string())

    return People(
        first_name=pool(fake.first_name),
        last_name=pool(fake.last_name),
        street=pool(fake.street_address),
        city=pool(fake.city),
        postcode=pool(fake.postcode),
        phone=pool(fake.phone_number),
        user_name=pool(fake.user_name),
        email_domain=pool(fake.free_email_domain),
        review_title=pool(lambda: fake.sentence(nb_words=4).rstrip(".")),
        review_body=pool(lambda: fake.paragraph(nb_sentences=3)),
    )


def build_stores(config: GeneratorConfig, window_start_ms: int) -> list[Store]:
    stores = []
    for index, spec in enumerate(STORES[: config.stores]):
        stores.append(
            Store(
                index=index,
                spec=spec,
                catalog=_catalog(spec, index, config, window_start_ms),
                promotions=_promotions(spec, window_start_ms),
                people=_people(spec, index, config.seed),
                warehouse_ids=[f"wh-{spec.store_id}-{w.code}" for w in spec.warehouses],
            )
        )
    return stores


def reference_extracts(store: Store, window_start_ms: int) -> list[Extract]:
    """The store's reference data, exported once on the first day."""
    spec, catalog, promo = store.spec, store.catalog, store.promotions
    as_of = window_start_ms - DAY_MS + 6 * HOUR_MS  # last changed the morning before the window

    def extract(extract_name: str, /, **columns) -> Extract:
        n = len(next(iter(columns.values())))
        values = {k: repeat(v, n) if isinstance(v, str) else v for k, v in columns.items()}
        return Extract(extract_name, values, export_ms=np.full(n, window_start_ms))

    n_wh, n, n_p = len(spec.warehouses), len(catalog), len(promo.name)
    return [
        extract(
            "stores",
            store_id=pa.array([spec.store_id]),
            name=spec.name,
            country=spec.country,
            time_zone=spec.time_zone,
            currency=spec.currency,
            opened_at=np.array([epoch_ms(spec.opened) + 9 * HOUR_MS]),
            updated_at=np.array([as_of]),
        ),
        extract(
            "warehouses",
            warehouse_id=pa.array(store.warehouse_ids),
            store_id=spec.store_id,
            name=pa.array([w.name for w in spec.warehouses]),
            country=spec.country,
            region=pa.array([w.region for w in spec.warehouses]),
            lead_time_days=np.array([w.lead_time_days for w in spec.warehouses]),
            updated_at=np.full(n_wh, as_of),
        ),
        extract(
            "products",
            product_id=catalog.product_id,
            store_id=spec.store_id,
            sku=catalog.sku,
            name=pa.array(catalog.name),
            category=pa.array([CATEGORIES[c][0] for c in catalog.category]),
            brand=pa.array(catalog.brand),
            price=catalog.price,
            unit_cost=catalog.unit_cost,
            currency=spec.currency,
            launched_at=catalog.launched_ms,
            is_active=catalog.active,
            updated_at=np.full(n, as_of),
        ),
        extract(
            "promotions",
            promotion_id=promo.promotion_id,
            store_id=spec.store_id,
            name=pa.array(promo.name),
            promotion_type=pa.array([PROMOTION_TYPES[k] for k in promo.kind]),
            discount_value=promo.value,
            starts_at=promo.starts_ms,
            ends_at=promo.ends_ms,
            updated_at=np.full(n_p, as_of),
        ),
        extract(
            "discount_codes",
            discount_code_id=promo.code_id,
            promotion_id=promo.promotion_id.take(pa.array(promo.code_promotion)),
            store_id=spec.store_id,
            code=pa.array(promo.code),
            max_uses=promo.max_uses,
            created_at=promo.starts_ms[promo.code_promotion] - 2 * DAY_MS,
        ),
    ]
