"""How stale the shop and its web stores get, with `tandem --watch`.

    uv run python -m bench.staleness [--orders 30] [--races 10]

Two demo stores on loopback (Shopify and WooCommerce) sell one shop's stock. Orders are placed at
random moments on both; for each, the time from the order to its sale in the shop's database, and
to the other store showing the new availability of what it sold. Measured with the watcher
polling every 2 seconds, then with webhooks (the bench sends each store's signed webhook as the
platform would) and a poll every 60 seconds.

Then races for the last unit: a product with one unit left, two customers a random 0 to 30
seconds apart, the first on one store, the second on the other. A customer can buy only while
the store shows the unit. The same races (same products, same gaps) run twice: with the watcher,
in real time; and under today's schedule — `tandem --sync` every 15 minutes from cron, the export
once a day at 06:00 — on a simulated day: the races are spread over it, and every cron run due
before or between the two customers is a real `run_sync` with that moment as its clock (so the
daily export runs at the first one after 06:00), against the same kind of stores on loopback.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.table import Figure, at_most, info, print_table
from core.audit import Actor
from core.catalog_import import import_catalog
from core.connectors.shopify import ShopifyConnector
from core.connectors.woocommerce import WooCommerceConnector
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoProduct, DemoStore, DemoVariant
from core.models import WebSale
from core.secrets import save_secret
from core.sync import SyncOptions, apply_channel_settings, run_sync
from core.sync.watch import watch
from core.webhooks import sign
from bench.export import barcode

PRODUCTS = 60
SECRET = "whsec_bench_0123456789"
POLLING_P95_FLOOR, WEBHOOK_P95_FLOOR = 10.0, 2.0


def stores() -> tuple[DemoStore, DemoStore]:
    def one() -> DemoStore:
        return DemoStore([DemoProduct(n, f"Product {n}", [DemoVariant(n, "Default Title", f"P{n}", barcode(n),
                                                                       Decimal("10.00"), available={LOCATION_ID: 0})])
                          for n in range(1, PRODUCTS + 1)], bucket_size=2_000, restore_rate=100)
    return one(), one()


class Run:
    """One shop, two stores, one watcher."""

    def __init__(self, directory: Path, webhooks: bool, quantity: int, watcher: bool = True):
        self.webhooks = webhooks
        self.shopify, self.woo = stores()
        self.engine = open_database(f"sqlite:///{directory / ('hooks' if webhooks else 'poll')}.sqlite")
        rows = "".join(f"P{n},Product {n},{barcode(n)},10.00,{quantity}\n" for n in range(1, PRODUCTS + 1))
        import_catalog(self.engine, ("sku,description,upc,price,quantity\n" + rows).encode(), "Shop", Actor("bench"))
        self.servers = [LoopbackServer(self.shopify).__enter__(), LoopbackServer(self.woo).__enter__()]
        apply_channel_settings(self.engine, {
            "Shopify": {"platform": "shopify", "url": self.servers[0].url, "location": "Shop",
                        "store_location_id": LOCATION_ID, "export_time": "06:00", "time_zone": "UTC"},
            "Woo": {"platform": "woocommerce", "url": self.servers[1].url, "location": "Shop",
                    "export_time": "06:00", "time_zone": "UTC"}})
        self.secrets = directory / "secrets.toml"
        for name in ("Shopify", "Woo"):
            save_secret(self.secrets, name, "webhook_secret", SECRET)
        self.connectors = {
            "Shopify": ShopifyConnector(self.servers[0].url, self.shopify.access_token, location_id=LOCATION_ID),
            "Woo": WooCommerceConnector(self.servers[1].url, self.woo.consumer_key, self.woo.consumer_secret)}
        run_sync(self.engine, options=SyncOptions(export_now=True), connectors=self.connectors, log=lambda m: None)
        self.stop, self.ports = threading.Event(), []
        self.watcher = threading.Thread(target=watch, args=(self.engine, self.stop), kwargs={
            "connectors": self.connectors, "secrets_path": self.secrets, "poll_seconds": 60 if webhooks else 2,
            "listen": ("127.0.0.1", 0) if webhooks else None, "on_listening": self.ports.append}, daemon=True)
        if watcher:
            self.watcher.start()
            time.sleep(1)
        self.number = 1000

    def place(self, store: DemoStore, product: int, quantity: int = 1) -> tuple[str, float]:
        """An order on `store`, its own stock lowered as the platform does; returns its id."""
        self.number += 1
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with store.lock:
            variant = store.products[product - 1].variants[0]
            variant.available[LOCATION_ID] -= quantity
            store.orders.append(DemoOrder(number=self.number, name=f"#{self.number}", created_at=stamp,
                                          updated_at=stamp, email=None, customer="Bench", phone=None, address=[],
                                          lines=[DemoOrderLine(self.number * 10, variant, variant.title, quantity,
                                                               variant.price)]))
        placed = time.monotonic()
        if self.webhooks and self.ports:
            shopify = store is self.shopify
            body = json.dumps({"id": self.number}).encode()
            headers = ({"X-Shopify-Hmac-Sha256": sign(SECRET, body), "X-Shopify-Event-Id": f"e{self.number}",
                        "X-Shopify-Topic": "orders/create", "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}
                       if shopify else {"X-WC-Webhook-Signature": sign(SECRET, body),
                                        "X-WC-Webhook-Delivery-ID": f"d{self.number}", "X-WC-Webhook-Topic": "order.created"})
            httpx.post(f"http://127.0.0.1:{self.ports[0]}/webhooks/{'Shopify' if shopify else 'Woo'}",
                       content=body, headers=headers)
        external = f"gid://shopify/Order/{self.number}" if store is self.shopify else str(self.number)
        return external, placed

    def in_shop(self, external: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(WebSale.id).where(WebSale.external_id == external)).first() is not None

    def close(self) -> None:
        self.stop.set()
        if self.watcher.is_alive():
            self.watcher.join(timeout=30)
        for server in self.servers:
            server.__exit__(None, None, None)
        for connector in self.connectors.values():
            connector.close()
        self.engine.dispose()


def wait_for(condition, limit: float = 120.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            return float("inf")
        time.sleep(0.02)
    return time.monotonic()


def staleness(directory: Path, webhooks: bool, orders: int, rng: random.Random) -> tuple[list[float], list[float]]:
    run = Run(directory, webhooks, quantity=50)
    to_shop, to_other = [], []
    try:
        for n in range(orders):
            time.sleep(rng.uniform(0, 3))
            on_shopify = n % 2 == 0
            store, other = (run.shopify, run.woo) if on_shopify else (run.woo, run.shopify)
            product = rng.randint(1, PRODUCTS)
            other_variant = other.products[product - 1].variants[0]
            expected = other_variant.available[LOCATION_ID] - 1
            external, placed = run.place(store, product)
            to_shop.append(wait_for(lambda: run.in_shop(external)) - placed)
            to_other.append(wait_for(lambda: other_variant.available[LOCATION_ID] <= expected) - placed)
    finally:
        run.close()
    return to_shop, to_other


def races(directory: Path, gaps: list[float]) -> int:
    """Units oversold with the watcher running, in real time."""
    run = Run(directory, webhooks=False, quantity=1)
    oversold = 0
    try:
        for n, gap in enumerate(gaps):
            product = n + 1
            first, second = (run.shopify, run.woo) if n % 2 == 0 else (run.woo, run.shopify)
            run.place(first, product)
            time.sleep(gap)
            if second.products[product - 1].variants[0].available[LOCATION_ID] >= 1:
                run.place(second, product)
                oversold += 1
    finally:
        run.close()
    return oversold


def races_under_cron(directory: Path, gaps: list[float], rng: random.Random) -> int:
    """Units oversold in the same races under cron every 15 minutes and the daily export, on a
    simulated day (tomorrow, in UTC, so the export is due once, at the first run after 06:00)."""
    run = Run(directory, webhooks=False, quantity=1, watcher=False)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    slot = 86_400 / len(gaps)
    starts = [day + timedelta(seconds=(n + rng.uniform(0.05, 0.9)) * slot) for n in range(len(gaps))]
    ticks = [day + timedelta(minutes=15 * k) for k in range(24 * 4 + 1)]
    oversold = syncs = exports = 0

    def cron_until(moment: datetime) -> None:
        nonlocal syncs, exports
        while ticks and ticks[0] <= moment:
            report = run_sync(run.engine, options=SyncOptions(now=ticks.pop(0)), connectors=run.connectors,
                              log=lambda message: None)
            syncs += 1
            exports += sum(channel.export_ran for channel in report.channels)
    try:
        for n, (start, gap) in enumerate(zip(starts, gaps, strict=True)):
            product = n + 1
            first, second = (run.shopify, run.woo) if n % 2 == 0 else (run.woo, run.shopify)
            cron_until(start)
            run.place(first, product)
            cron_until(start + timedelta(seconds=gap))
            if second.products[product - 1].variants[0].available[LOCATION_ID] >= 1:
                run.place(second, product)
                oversold += 1
        cron_until(day + timedelta(days=1))
    finally:
        run.close()
    print(f"cron: {syncs} syncs over the simulated day, {exports} daily exports (one per store)")
    return oversold


def spread(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)], ordered[-1]


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--races", type=int, default=10)
    args = parser.parse_args(argv)
    rng = random.Random(19)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for webhooks in (False, True):
            label = "webhooks" if webhooks else "polling"
            floor = WEBHOOK_P95_FLOOR if webhooks else POLLING_P95_FLOOR
            (Path(tmp) / label).mkdir()
            shop, other = staleness(Path(tmp) / label, webhooks, args.orders, rng)
            for what, values in (("order to the shop's inbox", shop), ("order to the other store's stock", other)):
                p50, p95, most = spread(values)
                print(f"{label}: {what}: p50 {p50:.2f} s, p95 {p95:.2f} s, max {most:.2f} s")
                figures += [info(f"{label}, {what}, p50", p50, "s"),
                            at_most(f"{label}, {what}, p95", p95, floor, "s"),
                            info(f"{label}, {what}, max", most, "s")]
        gaps = [rng.uniform(0, 30) for _ in range(args.races)]
        (Path(tmp) / "races").mkdir()
        watched = races(Path(tmp) / "races", gaps)
        (Path(tmp) / "cron").mkdir()
        cron = races_under_cron(Path(tmp) / "cron", gaps, rng)
        print(f"races for the last unit: {args.races}; oversold with the watcher {watched}, with cron {cron}")
        figures += [info("last-unit races", args.races, "races"),
                    info("units oversold, cron every 15 min + daily export", cron, "units"),
                    at_most("units oversold, tandem --watch (fewer than cron)", watched, max(cron - 1, 0), "units")]
    return figures


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
