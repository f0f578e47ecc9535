import time
from decimal import Decimal

import pytest

from core.connectors.http import RetryPolicy
from core.connectors.shopify import ShopifyConnector
from core.connectors.woocommerce import WooCommerceConnector
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoProduct, DemoStore, DemoVariant
from core.identifiers import with_check_digit

TOKEN = "shpat_test_0123456789abcdef"
CLIENT_ID, CLIENT_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "shpss_client_secret_0123456789"
KEY, SECRET = "ck_test_key_0123456789", "cs_test_secret_0123456789"


def make_store(products: int = 10, orders: int = 3, lines: int = 1, variants: int = 1) -> DemoStore:
    items, number = [], 0
    for p in range(1, products + 1):
        vs = []
        for _ in range(variants):
            number += 1
            vs.append(DemoVariant(number=number, title="Default Title" if variants == 1 else f"Size {number}",
                                  sku=f"SKU-{number}", barcode=with_check_digit(f"0360002{number:05d}"),
                                  price=Decimal("10.00") + number, mpn=f"MPN-{number}", available={LOCATION_ID: 1}))
        items.append(DemoProduct(number=p, title=f"Product {p}", variants=vs))
    all_variants = [v for p in items for v in p.variants]
    demo_orders = [
        DemoOrder(number=100 + o, name=f"#{1000 + o}", created_at=f"2026-11-26T10:{o % 60:02d}:00Z",
                  updated_at=f"2026-11-26T11:{o % 60:02d}:00Z", email=f"c{o}@example.com", customer=f"Customer {o}",
                  phone=None, address=[f"Customer {o}", "1 Main St", "Springfield"],
                  lines=[DemoOrderLine(o * 1000 + n, all_variants[(o + n) % len(all_variants)], "Item", 1,
                                       Decimal("12.50"), Decimal("0.08")) for n in range(lines)])
        for o in range(orders)
    ]
    store = DemoStore(items, demo_orders, access_token=TOKEN, consumer_key=KEY, consumer_secret=SECRET,
                      bucket_size=10_000, restore_rate=100_000)
    store.app.client_id, store.client_secret = CLIENT_ID, CLIENT_SECRET  # its Dev Dashboard app
    return store


class Sleeps(list):
    """Records waits instead of spending them (a tiny real pause lets the store's bucket refill)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.01))


FAST = RetryPolicy(attempts=4, total_seconds=30, initial_wait=0.01, max_wait=5)


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def server(store):
    with LoopbackServer(store) as running:
        yield running


@pytest.fixture
def sleeps():
    return Sleeps()


def shopify(server, sleeps, token=TOKEN, **kwargs) -> ShopifyConnector:
    return ShopifyConnector(server.url, token, location_id=LOCATION_ID, policy=kwargs.pop("policy", FAST),
                            sleep=sleeps, **kwargs)


def woo(server, sleeps, key=KEY, secret=SECRET, **kwargs) -> WooCommerceConnector:
    return WooCommerceConnector(server.url, key, secret, policy=kwargs.pop("policy", FAST), sleep=sleeps, **kwargs)
