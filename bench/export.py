"""The export at scale: 100,000 matched products, 20,000 of them with a new quantity and a new
price, sent to the demo store on a loopback port over real HTTP; and the first sync of a small
Shopify store. Prints figures; asserts nothing.

    uv run python -m bench.export [--products 100000 --changed 20000]

Floors: Shopify sends the 20,000 prices in at most 100 requests (a bulk mutation: staged upload,
the file, the run, looks at its state, the result file) and the quantities at its least, aliased
inventorySetQuantities calls of 250 (ceil(changed / 5,000) requests of 20 calls); WooCommerce sends
both in products/batch requests of 100, its documented maximum (ceil(changed / 100)); an immediate
second run sends 0 requests. The first sync of a 53-listing Shopify store with 10 orders, 43
quantities and 3 prices to send takes at most 4 requests, none throttled.

The Shopify store has the Standard plan's rate limit (2,000 points, 100 a second).
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.table import Figure, at_most, info, print_table
from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.shopify import ShopifyConnector
from core.connectors.woocommerce import WooCommerceConnector
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoProduct, DemoStore, DemoVariant
from core.sync import SyncOptions, apply_channel_settings, run_sync
from core.sync.export import run_export
from core.identifiers import with_check_digit
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel
from core.models import Platform

STOCK_PER_REQUEST = {"shopify": 5_000, "woocommerce": 100}  # Shopify: 20 aliased calls of 250 (the platform allows 100)
PRICE_REQUESTS_FLOOR = 100
SMALL_FIRST_SYNC_FLOOR = 4
PRICE_KINDS = {"set_prices", "stage_upload", "bulk_upload", "bulk_mutation", "bulk_status", "bulk_file"}


def barcode(n: int) -> str:
    return with_check_digit(f"2{n:011d}")


def build(directory: Path, platform: str, products: int):
    engine = open_database(f"sqlite:///{directory / f'{platform}.sqlite'}")
    rows = "".join(f"P{n},Product {n},{barcode(n)},{n % 50 + 1}.00,{n % 9}\n" for n in range(1, products + 1))
    import_catalog(engine, ("sku,description,upc,price,quantity\n" + rows).encode(), "Shop", Actor("bench"))
    store = DemoStore([DemoProduct(n, f"Product {n}", [DemoVariant(n, "Default Title", f"P{n}", barcode(n),
                                                                      Decimal(f"{n % 50 + 1}.00"))])
                       for n in range(1, products + 1)],
                      bucket_size=2_000, restore_rate=100)
    listings = [ListingData(
        external_id=f"gid://shopify/ProductVariant/{n}" if platform == "shopify" else f"product:{n}",
        title=f"Product {n}", barcode=barcode(n), price=Decimal(f"{n % 50 + 1}.00"),
        external_product_id=f"gid://shopify/Product/{n}" if platform == "shopify" else str(n),
        inventory_item_id=f"gid://shopify/InventoryItem/{n}") for n in range(1, products + 1)]
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform(platform), "http://127.0.0.1")
        store_listings(conn, channel, listings)
        match_channel(conn, channel)
    return engine, channel, store


def connector_for(platform: str, url: str, store: DemoStore):
    if platform == "shopify":
        return ShopifyConnector(url, store.access_token, location_id=LOCATION_ID)
    return WooCommerceConnector(url, store.consumer_key, store.consumer_secret)


def measure(directory: Path, platform: str, products: int, changed: int) -> dict:
    engine, channel, store = build(directory, platform, products)
    with LoopbackServer(store) as server:
        connector = connector_for(platform, server.url, store)
        run_export(engine, channel, connector)  # the first export sends everything
        step = products // changed
        changes = "".join(f"P{n},Product {n},{n % 50 + 1}.50,{n % 9 + 10}\n" for n in range(1, products + 1, step))
        import_catalog(engine, ("sku,description,price,quantity\n" + changes).encode(), "Shop", Actor("bench"))
        before = dict(connector.counter.by_kind)
        start = time.perf_counter()
        report, _ = run_export(engine, channel, connector)
        seconds = time.perf_counter() - start
        by_kind = {kind: count - before.get(kind, 0) for kind, count in connector.counter.by_kind.items()}
        again, _ = run_export(engine, channel, connector)

        def changed_here(v) -> bool:
            return (v.number - 1) % step == 0

        correct = all(v.available.get(LOCATION_ID) == v.number % 9 + (10 if changed_here(v) else 0)
                      and v.price == Decimal(f"{v.number % 50 + 1}.{50 if changed_here(v) else 0}")
                      for _, v in store.variants())
        throttled = store.throttled
        connector.close()
    price_requests = sum(count for kind, count in by_kind.items() if kind in PRICE_KINDS)
    return {"sent": report.quantities_sent, "prices": report.prices_sent, "requests": report.requests,
            "price_requests": price_requests, "stock_requests": report.requests - price_requests,
            "seconds": seconds, "second_run_requests": again.requests, "store_correct": correct,
            "throttled": throttled, "by_kind": by_kind}


def small_first_sync(directory: Path) -> dict:
    """A new shop's first sync against a small Shopify store: 53 listings (43 of them the shop's),
    10 orders of one to three lines, 43 quantities and 3 prices to send."""
    rng = random.Random(53)
    products = [DemoProduct(n, f"Product {n}", [DemoVariant(n, "Default Title", f"P{n}", barcode(n),
                                                            Decimal(f"{n % 50 + 1}.00"), available={LOCATION_ID: 0})])
                for n in range(1, 54)]
    variants = [p.variants[0] for p in products[:43]]
    orders = [DemoOrder(number=500 + n, name=f"#{500 + n}", created_at=f"2026-11-28T1{n}:00:00Z",
                        updated_at=f"2026-11-28T1{n}:00:00Z", email=f"c{n}@example.com", customer=f"Customer {n}",
                        phone=None, address=["1 Main St"],
                        lines=[DemoOrderLine(10 * n + k, v, v.title, 1, v.price, Decimal("0.08"))
                               for k, v in enumerate(rng.sample(variants, rng.randint(1, 3)))])
              for n in range(10)]
    store = DemoStore(products, orders, bucket_size=2_000, restore_rate=100)
    engine = open_database(f"sqlite:///{directory / 'small.sqlite'}")
    rows = "".join(f"P{n},Product {n},{barcode(n)},{n % 50 + 1}.{'25' if n in (5, 17, 31) else '00'},{n % 6 + 2}\n"
                   for n in range(1, 44))
    import_catalog(engine, ("sku,description,upc,price,quantity\n" + rows).encode(), "Shop", Actor("bench"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Shop",
                                                "store_location_id": LOCATION_ID, "export_time": "00:00"}})
        connector = ShopifyConnector(server.url, store.access_token, location_id=LOCATION_ID)
        report = run_sync(engine, options=SyncOptions(export_now=True), connectors={"Web": connector},
                          log=lambda message: None)
        connector.close()
    result = report.channels[0]
    engine.dispose()
    return {"requests": sum(store.requests.values()), "throttled": store.throttled, "by_name": dict(store.requests),
            "listings": result.listings_seen, "orders": result.orders_imported,
            "quantities": result.items_exported, "prices": result.prices_exported}


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=20_000)
    parser.add_argument("--log", action="store_true",
                        help="log at INFO to a file, as tandem --sync does (a line per item sent)")
    args = parser.parse_args(argv)
    if args.log:
        import os

        from core.logs import setup_logging

        os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="tandem-bench-log-")
        print(f"log: {setup_logging()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for platform in ("shopify", "woocommerce"):
            figures = measure(Path(tmp), platform, args.products, args.changed)
            least_stock = math.ceil(figures["sent"] / STOCK_PER_REQUEST[platform])
            print(f"{platform}: {args.products:,} matched products, {figures['sent']:,} new quantities and "
                  f"{figures['prices']:,} new prices; one item per call would make "
                  f"{figures['sent'] + figures['prices']:,} requests; store holds the shop's quantities and prices: "
                  f"{'yes' if figures['store_correct'] else 'NO'}; by kind: "
                  + ", ".join(f"{kind} {count:,}" for kind, count in sorted(figures["by_kind"].items()) if count))
            results += [
                info(f"{platform} export, {figures['sent']:,} quantities and prices", figures["seconds"], "s"),
                info(f"{platform} export requests, all", figures["requests"], "requests"),
                at_most(f"{platform} export requests for {figures['prices']:,} prices", figures["price_requests"],
                        PRICE_REQUESTS_FLOOR if platform == "shopify" else math.ceil(figures["prices"] / 100),
                        "requests"),
                at_most(f"{platform} export requests for quantities / full requests", figures["stock_requests"] / least_stock,
                        1.0, "ratio"),
                at_most(f"{platform} immediate second export", figures["second_run_requests"], 0, "requests"),
                Figure(f"{platform} store holds the shop's quantities and prices", float(figures["store_correct"]),
                       "", "yes", figures["store_correct"]),
            ]
            if platform == "shopify":
                results.append(at_most("shopify export, throttled answers", figures["throttled"], 0, "answers"))
        small = small_first_sync(Path(tmp))
        print(f"small Shopify store, first sync: {small['listings']} listings, {small['orders']} orders, "
              f"{small['quantities']} quantities, {small['prices']} prices sent: {small['requests']} requests "
              f"({', '.join(f'{name} {count}' for name, count in sorted(small['by_name'].items()))}), "
              f"{small['throttled']} throttled")
        results += [
            at_most("small Shopify store, first sync requests", small["requests"], SMALL_FIRST_SYNC_FLOOR, "requests"),
            at_most("small Shopify store, first sync throttled answers", small["throttled"], 0, "answers"),
        ]
    return results


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
