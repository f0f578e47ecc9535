"""The demo shop's web store: built from the same seed as the demo catalog, so its listings
match the catalog by barcode, by part number and by code, with some that need a person, and a
day of orders."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from core.demo_store.catalog import demo_catalog_rows, demo_listings
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoProduct, DemoStore, DemoVariant

CUSTOMERS = [
    ("Maya Lindqvist", "maya.lindqvist@example.com", "555-0142"),
    ("Tomás Ortega", "tomas.ortega@example.net", "555-0199"),
    ("Priya Raman", "priya.r@example.org", None),
    ("Jonah Whitfield", "jwhitfield@example.com", "555-0113"),
    ("Élodie Martin", "elodie.martin@example.fr", "555-0177"),
    ("Sam Okafor", "sam.okafor@example.com", None),
]
STREETS = ["12 Harbor Rd", "48 Elm Street", "301 Mill Lane", "7 Quarry Way", "90 Station Ave"]


def build_demo_store(seed: int, now: datetime | None = None, api: str = "shopify") -> DemoStore:
    """The demo's Shopify store: the whole range and a day of orders. Its WooCommerce store (`api`)
    sells one product in five of the same range, and starts with no orders."""
    rows = demo_catalog_rows(seed)
    rng = random.Random(seed + 3 if api == "shopify" else seed + 5)
    products = []
    listings = demo_listings(rows, seed)
    if api == "woocommerce":
        listings = [listing for listing in listings[::5] if listing.barcode or listing.product_code]
    for number, listing in enumerate(listings, start=1):
        variant = DemoVariant(number=number, title="Default Title", sku=listing.product_code, barcode=listing.barcode,
                              price=listing.price or Decimal("0.00"), mpn=listing.part_number,
                              available={LOCATION_ID: rng.randint(0, 8)})
        products.append(DemoProduct(number=number, title=listing.title, variants=[variant]))
    gift = DemoVariant(number=len(products) + 1, title="Default Title", sku="GIFT-CARD", barcode=None,
                       price=Decimal("50.00"), available={LOCATION_ID: 0})
    products.append(DemoProduct(number=len(products) + 1, title="Gift card", variants=[gift]))
    if api == "woocommerce":
        return DemoStore(products[:-1], [])
    # The limits of Shopify's largest plan (a 20,000-point bucket refilled at 1,000 a second), so
    # the demo fills in seconds; tests of throttling use the standard 1,000 and 50.
    return DemoStore(products, demo_orders(products, rng, now or datetime.now(UTC)),
                     bucket_size=20_000, restore_rate=1_000)


def demo_orders(products: list[DemoProduct], rng: random.Random, now: datetime) -> list[DemoOrder]:
    """A day of web orders: most for store pickup or shipping, a few shipped by the supplier,
    one gift card, one cancelled."""
    orders = []
    variants = [p.variants[0] for p in products[:-1]]
    for number in range(1, 41):
        created = now - timedelta(minutes=rng.randint(10, 24 * 60))
        name, email, phone = rng.choice(CUSTOMERS)
        lines = [DemoOrderLine(number * 10 + n, variant, products[variant.number - 1].title, rng.randint(1, 2),
                               variant.price, Decimal("0.0825") if rng.random() < 0.7 else Decimal("0"))
                 for n, variant in enumerate(rng.sample(variants, rng.randint(1, 3)))]
        order = DemoOrder(number=5000 + number, name=f"#{1000 + number}", created_at=_iso(created),
                          updated_at=_iso(created + timedelta(minutes=2)), email=email, customer=name, phone=phone,
                          address=[name, rng.choice(STREETS), "Springfield"], lines=lines,
                          shipping=Decimal("9.95") if rng.random() < 0.4 else Decimal("0.00"))
        if number % 13 == 0:
            # Shipped by the supplier within the hour, so whatever the time of day the demo starts,
            # these wait for their release on the next business day.
            order.tags = ["supplier-fulfilled"]
            order.fulfilled_at = _iso(max(created, now - timedelta(hours=1)))
        orders.append(order)
    gift = products[-1].variants[0]
    orders.append(DemoOrder(number=5100, name="#1100", created_at=_iso(now - timedelta(hours=5)),
                            updated_at=_iso(now - timedelta(hours=5)), email="maya.lindqvist@example.com",
                            customer="Maya Lindqvist", phone=None, address=["Maya Lindqvist", "12 Harbor Rd"],
                            lines=[DemoOrderLine(51000, gift, "Gift card", 1, Decimal("50.00"))]))
    orders[3].cancelled_at = orders[3].updated_at
    return orders


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4)
def _store(seed: int, api: str) -> DemoStore:
    return build_demo_store(seed, api=api)


def demo_store(seed: int, api: str = "shopify") -> DemoStore:
    """The process's demo store for a seed and platform (the same one for every sync in the process)."""
    return _store(seed, api)


def reset_demo_stores() -> None:
    """Forget the process's demo stores: a fresh demo shop gets a fresh web store too."""
    _store.cache_clear()
