"""The demo shop alive: customers order on both demo web stores at random moments while a watcher
(the same `core.sync.watch` as `tandem --watch`) brings each order in, takes its units off the shared
stock and sends the other store what is left — with the demo stores' signed webhooks waking it.

`tandem --demo` starts it once the demo shop is built, and stops it when the console closes."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from core.config import ChannelConfig
from core.demo_store.runtime import CUSTOMERS, STREETS, demo_store
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoStore
from core.models import Platform, SalesChannel
from core.sync.watch import watch

FIRST_ORDER_AFTER = (8.0, 15.0)  # seconds, so a new user sees one arrive soon
BETWEEN_ORDERS = (20.0, 60.0)
WEBHOOK_SECRET = "demo-webhook-secret"


@dataclass
class DemoChannel:
    name: str
    api: str  # "shopify" or "woocommerce"
    store: DemoStore


def demo_channels(engine: Engine) -> list[DemoChannel]:
    with engine.connect() as conn:
        rows = conn.execute(select(SalesChannel.__table__).where(
            SalesChannel.platform == Platform.DEMO.value, SalesChannel.active.is_(True))
            .order_by(SalesChannel.id)).all()
    channels = []
    for row in rows:
        config = ChannelConfig.from_row(row)
        channels.append(DemoChannel(row.name, config.demo_api, demo_store(config.seed or 0, config.demo_api)))
    return channels


def listing_key(variant) -> tuple:
    """What makes two demo stores' listings the same product (they are built from the same rows)."""
    return variant.barcode, variant.sku, variant.mpn


def place_random_order(channel: DemoChannel, rng: random.Random, shared: set = frozenset()) -> DemoOrder | None:
    """One customer's order of one or two units of something the store shows in stock — mostly of
    what both stores sell (`shared` codes), so the other store's stock is seen to move."""
    store = channel.store
    with store.lock:
        in_stock = [(product, variant) for product, variant in store.variants()
                    if variant.available.get(LOCATION_ID, 0) > 0 and variant.sku != "GIFT-CARD"]
        both = [(product, variant) for product, variant in in_stock if listing_key(variant) in shared]
        if both and rng.random() < 0.8:
            in_stock = both
        if not in_stock:
            return None
        product, variant = rng.choice(in_stock)
        number = max((order.number for order in store.orders), default=7000) + 1
    name, email, phone = rng.choice(CUSTOMERS)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    quantity = min(rng.choice([1, 1, 1, 2]), variant.available[LOCATION_ID])
    order = DemoOrder(number=number, name=f"#{number - 4000 if channel.api == 'shopify' else number}",
                      created_at=stamp, updated_at=stamp, email=email, customer=name, phone=phone,
                      address=[name, rng.choice(STREETS), "Springfield"],
                      lines=[DemoOrderLine(number * 10, variant, product.title, quantity, variant.price,
                                           Decimal("0.0825"))],
                      shipping=Decimal("9.95") if rng.random() < 0.4 else Decimal("0.00"))
    store.place_order(order)
    return order


class LiveDemo:
    """The watcher and the customers, each in a thread; `stop` ends both (the watcher after its step)."""

    def __init__(self, engine: Engine, *, seed: int = 1, poll_seconds: float = 2.0,
                 first_order_after=FIRST_ORDER_AFTER, between_orders=BETWEEN_ORDERS):
        self.engine = engine
        self.stop_event = threading.Event()
        self._customers_done = threading.Event()
        self.rng = random.Random(seed)
        self.channels = demo_channels(engine)
        codes = [{listing_key(variant) for _product, variant in channel.store.variants()}
                 for channel in self.channels]
        self.shared = set.intersection(*codes) if len(codes) > 1 else set()
        self.first_order_after, self.between_orders = first_order_after, between_orders
        self.poll_seconds = poll_seconds
        self.placed: list[tuple[str, DemoOrder]] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> LiveDemo:
        self._threads = [threading.Thread(target=self._watch, name="demo-watcher", daemon=True),
                         threading.Thread(target=self._customers, name="demo-customers", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def customers_stop(self) -> None:
        """No more orders; the watcher goes on."""
        self._customers_done.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._customers_done.set()
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout)

    def _watch(self) -> None:
        secrets = {channel.name: (channel.api, WEBHOOK_SECRET) for channel in self.channels}

        def subscribe(port: int) -> None:
            for channel in self.channels:
                topic = "ORDERS_CREATE" if channel.api == "shopify" else "order.created"
                channel.store.subscribe(channel.api, f"http://127.0.0.1:{port}/webhooks/{channel.name}",
                                        WEBHOOK_SECRET, topic)

        watch(self.engine, self.stop_event, poll_seconds=self.poll_seconds, listen=("127.0.0.1", 0),
              webhook_secrets=secrets, on_listening=subscribe)

    def _customers(self) -> None:
        wait = self.rng.uniform(*self.first_order_after)
        while not self._customers_done.wait(wait) and self.channels:
            channel = self.rng.choice(self.channels)
            order = place_random_order(channel, self.rng, self.shared)
            if order is not None:
                self.placed.append((channel.name, order))
            wait = self.rng.uniform(*self.between_orders)
