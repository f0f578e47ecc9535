"""The export at scale: 100,000 matched products, 20,000 of them changed, sent to the demo store
on a loopback port over real HTTP. Prints figures; asserts nothing.

    uv run python -m bench.export [--products 100000 --changed 20000]

Floor (from the connectors issue): API requests / the platform's minimum = 1.0, where the minimum
is ceil(changed / 250) for Shopify (inventorySetQuantities) and ceil(changed / 100) for WooCommerce
(products/batch); and an immediate second run sends 0 requests.
"""

from __future__ import annotations

import argparse
import math
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
from core.demo_store.store import LOCATION_ID, DemoProduct, DemoStore, DemoVariant
from core.sync.export import run_export
from core.identifiers import with_check_digit
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel
from core.models import Platform

BATCH = {"shopify": 250, "woocommerce": 100}


def barcode(n: int) -> str:
    return with_check_digit(f"2{n:011d}")


def build(directory: Path, platform: str, products: int):
    engine = open_database(f"sqlite:///{directory / f'{platform}.sqlite'}")
    rows = "".join(f"P{n},Product {n},{barcode(n)},{n % 50 + 1}.00,{n % 9}\n" for n in range(1, products + 1))
    import_catalog(engine, ("sku,description,upc,price,quantity\n" + rows).encode(), "Shop", Actor("bench"))
    store = DemoStore([DemoProduct(n, f"Product {n}", [DemoVariant(n, "Default Title", f"P{n}", barcode(n),
                                                                      Decimal(f"{n % 50 + 1}.00"))])
                       for n in range(1, products + 1)],
                      bucket_size=1_000_000, restore_rate=1_000_000)
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
        changes = "".join(f"P{n},Product {n},{n % 50 + 1}.00,{n % 9 + 10}\n"
                          for n in range(1, products + 1, products // changed))
        import_catalog(engine, ("sku,description,price,quantity\n" + changes).encode(), "Shop", Actor("bench"))
        start = time.perf_counter()
        report, _ = run_export(engine, channel, connector)
        seconds = time.perf_counter() - start
        again, _ = run_export(engine, channel, connector)
        correct = all(v.available.get(LOCATION_ID) == (v.number % 9 + (10 if (v.number - 1) % (products // changed) == 0 else 0))
                      for _, v in store.variants())
        connector.close()
    return {"sent": report.quantities_sent, "requests": report.requests, "seconds": seconds,
            "second_run_requests": again.requests, "store_correct": correct}


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=20_000)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for platform in ("shopify", "woocommerce"):
            figures = measure(Path(tmp), platform, args.products, args.changed)
            minimum = math.ceil(figures["sent"] / BATCH[platform])
            print(f"{platform}: {args.products:,} matched products, {figures['sent']:,} changed; one item per call "
                  f"would make {figures['sent']:,} requests; store holds the shop's quantities: "
                  f"{'yes' if figures['store_correct'] else 'NO'}")
            results += [
                info(f"{platform} export, {figures['sent']:,} changes", figures["seconds"], "s"),
                info(f"{platform} export requests (minimum {minimum:,})", figures["requests"], "requests"),
                at_most(f"{platform} export requests / platform minimum",
                        figures["requests"] / minimum if minimum else 0, 1.0, "ratio"),
                at_most(f"{platform} immediate second export", figures["second_run_requests"], 0, "requests"),
                Figure(f"{platform} store holds the shop's quantities", float(figures["store_correct"]), "",
                       "yes", figures["store_correct"]),
            ]
    return results


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
