"""The store's geography reference (postal prefix -> city and region, exported by the logistics
system) and addresses that fall in it: a customer's postal code lies in an area of the customer's
region, a mover's new one anywhere in the country, and a few are in no listed area at all."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .clock import DAY_MS, HOUR_MS, NA
from .config import GeneratorConfig, rng_for
from .customers import Customers
from .orders import OrderPlan
from .reference import Store
from .writers import Extract, repeat

AREAS_PER_REGION = 4
# home addresses whose prefix the reference does not list (a typo, an area opened since): region unknown
UNLISTED_SHARE = 0.02
GIFT_SHARE = 0.03  # parcels sent to another address than the buyer's, anywhere in the country
UNKNOWN = "unknown"


@dataclass
class Geography:
    seed: int
    store: Store
    prefix: list[str]  # per area; the last one is never listed in the reference
    city: list[str]  # per area
    region: np.ndarray  # per area: index into the store's regions
    home_area: np.ndarray  # per customer: area of the first address, -1 abroad
    moved_area: np.ndarray  # per customer: area after the move, -1 abroad
    suffix: np.ndarray  # (n, 2) last two digits of the first and the new postal code

    @classmethod
    def build(cls, config: GeneratorConfig, store: Store, customers: Customers) -> Geography:
        """Areas and addresses; `--clean` lists every home address's area."""
        seed = config.seed
        rng = rng_for(seed, "geography", store.index)
        n_regions = len(store.spec.regions)
        n_areas = n_regions * AREAS_PER_REGION
        prefix = [f"{p:03d}" for p in rng.choice(np.arange(100, 1000), n_areas + 1, replace=False)]
        pool = store.people.city
        city = [pool[int(i)].as_py() for i in rng.choice(len(pool), n_areas + 1, replace=False)]
        n = len(customers)
        home = customers.region < n_regions
        area_of_region = np.minimum(customers.region, n_regions - 1) * AREAS_PER_REGION
        unlisted = rng.random(n) < (0.0 if config.clean else UNLISTED_SHARE)
        home_area = np.where(home, area_of_region + rng.integers(0, AREAS_PER_REGION, n), -1)
        home_area = np.where(home & unlisted, n_areas, home_area)
        moved_area = np.where(home, rng.integers(0, n_areas, n), -1)
        return cls(
            seed=seed,
            store=store,
            prefix=prefix,
            city=city,
            region=np.repeat(np.arange(n_regions), AREAS_PER_REGION),
            home_area=home_area,
            moved_area=moved_area,
            suffix=rng.integers(0, 100, (n, 2)),
        )

    @property
    def listed(self) -> int:
        return len(self.region)

    def reference(self, window_start_ms: int) -> Extract:
        spec, n = self.store.spec, self.listed
        return Extract(
            "postal_areas",
            {
                "store_id": repeat(spec.store_id, n),
                "country": repeat(spec.country, n),
                "postal_prefix": pa.array(self.prefix[:n]),
                "city": pa.array(self.city[:n]),
                "region": pa.array([spec.regions[r][0] for r in self.region]),
                "updated_at": np.full(n, window_start_ms - DAY_MS + 6 * HOUR_MS),
            },
            export_ms=np.full(n, window_start_ms),
        )

    def _codes(self, customer: np.ndarray, moved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(area, postal code) of the address of each customer, the new one where `moved`; area -1 abroad."""
        area = np.where(moved, self.moved_area[customer], self.home_area[customer])
        suffix = self.suffix[customer, moved.astype(int)]
        codes = np.array([f"{self.prefix[a]}{s:02d}" if a >= 0 else "" for a, s in zip(area, suffix, strict=True)])
        return area, codes

    def locate(self, customers: Customers, plan: OrderPlan, extracts: list[Extract]) -> None:
        """Put the areas' postal codes and cities into the customer rows (their last version is the
        billing address) and the address of the time into the shipment rows."""
        key_base = self.store.index << 40
        for extract in extracts:
            if extract.name == "customers":
                who = extract.key - key_base
                second = np.r_[np.zeros(len(customers), bool), np.ones(len(who) - len(customers), bool)]
                area, codes = self._codes(who, second)
                cols = extract.columns
                keep = (area < 0) | pc.is_null(cols["postal_code"]).to_numpy(zero_copy_only=False)
                cities = np.array(self.city)[np.maximum(area, 0)]
                for column, values in (("postal_code", codes), ("city", cities)):
                    cols[column] = pc.if_else(keep, cols[column].cast(pa.string()), pa.array(values, pa.string()))
            elif extract.name == "shipments":
                area, codes = self._destinations(customers, plan)
                o = extract.key - key_base
                postal = pa.array(np.where(area[o] < 0, None, codes[o]), pa.string())
                extract.columns = _insert_after(extract.columns, "destination_region", postal)

    def _billing(self, customers: Customers, plan: OrderPlan) -> tuple[np.ndarray, np.ndarray]:
        """Per order, the area of the buyer's address when it was placed, and whether it is the new one."""
        c = plan.customer
        moved = (customers.moved_ms[c] != NA) & (customers.moved_ms[c] <= plan.placed_ms)
        return np.where(moved, self.moved_area[c], self.home_area[c]), moved

    def _destinations(self, customers: Customers, plan: OrderPlan) -> tuple[np.ndarray, np.ndarray]:
        """Per order, (area, postal code) the parcel goes to: the buyer's address, or a gift's."""
        area, moved = self._billing(customers, plan)
        area, codes = self._codes(plan.customer, moved)
        rng = rng_for(self.seed, "gifts", self.store.index)
        n = len(area)
        gift = (rng.random(n) < GIFT_SHARE) & (area >= 0)
        gift_area = rng.integers(0, self.listed, n)
        gift_codes = np.array(
            [f"{self.prefix[a]}{s:02d}" for a, s in zip(gift_area, rng.integers(0, 100, n), strict=True)]
        )
        return np.where(gift, gift_area, area), np.where(gift, gift_codes, codes)

    def truth(self, customers: Customers, plan: OrderPlan, end_ms: int) -> dict:
        """Orders (cancelled ones included) by the region of the buyer's billing address when they
        were placed (the CRM's address of the time), and shipped orders by the region of their
        destination; foreign, missing and unlisted addresses fall in `unknown`. Exact before
        landing: quarantined orders and customer rows are counted in the dirt."""
        names = [r for r, _ in self.store.spec.regions] + [UNKNOWN]
        billing, moved = self._billing(customers, plan)
        billing = np.where(customers.missing_address[plan.customer] & ~moved, -1, billing)
        destination, _ = self._destinations(customers, plan)

        def region_of(area: np.ndarray) -> np.ndarray:
            return np.where((area >= 0) & (area < self.listed), self.region[np.clip(area, 0, self.listed - 1)], -1)

        order_region, shipment_region = region_of(billing), region_of(destination)
        shipped = (plan.shipped_ms != NA) & (plan.shipped_ms < end_ms)

        def counts(regions: np.ndarray) -> dict[str, int]:
            found = Counter(names[r] for r in regions)
            return {name: found.get(name, 0) for name in names}

        return {
            "areas": self.listed,
            "unlisted_customers": int((self.home_area == self.listed).sum()),
            "orders_by_region": counts(order_region),
            "shipments_by_region": counts(shipment_region[shipped]),
            "shipments_outside_billing_region": int((shipped & (shipment_region != order_region)).sum()),
        }


def _insert_after(columns: dict, after: str, postal: pa.Array) -> dict:
    """The columns in contract order, the postal code after `after`."""
    out = {}
    for k, v in columns.items():
        out[k] = v
        if k == after:
            out["destination_postal_code"] = postal
    return out
