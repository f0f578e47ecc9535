"""Web sales import and the inbox at scale. Prints figures; asserts nothing.

    uv run python -m bench.inbox [--products 100000 --orders 10000]

Imports 10,000 orders (30,000 lines) against 100,000 products the way the sync does (pages of
100 orders, one transaction each), then times the inbox's first page with 10,000 open sales:
the core query, and the screen from opening to its first rows (Textual's Pilot, in process).
Floor (from the inbox issue): the inbox opens in <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.table import Figure, at_most, info, print_table
from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import OrderLine, WebOrder
from core.db import open_database
from core.models import Platform
from core.sync import import_orders
from core.inbox import inbox

PAGE = 100
FLOOR_MS = 150.0


def orders(count: int, products: int, rng: random.Random) -> list[WebOrder]:
    start = datetime(2026, 11, 26, tzinfo=UTC)
    made = []
    for n in range(count):
        when = start + timedelta(seconds=8 * n)
        lines = [OrderLine(f"{n}-{k}", f"Product {p}", rng.randint(1, 3), Decimal("19.99"), product_code=f"P{p}")
                 for k, p in enumerate(rng.sample(range(1, products + 1), 3))]
        made.append(WebOrder(f"order-{n}", f"#{10000 + n}", "authorized", when, when, "USD", lines,
                             customer_name=f"Customer {n % 700}", customer_email=f"c{n % 700}@example.com",
                             total=Decimal("59.97")))
    return made


async def screen_first_page(url: str) -> float:
    from tui.app import TandemApp
    from tui.screens.inbox import InboxScreen

    app = TandemApp(url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        start = time.perf_counter()
        app.push_screen(InboxScreen())
        while not (isinstance(app.screen, InboxScreen) and app.screen.page is not None):
            await asyncio.sleep(0.002)
        return (time.perf_counter() - start) * 1000


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'inbox.sqlite'}"
        engine = open_database(url)
        catalog = "".join(f"P{n},Product {n},19.99,50\n" for n in range(1, args.products + 1))
        import_catalog(engine, ("sku,description,price,quantity\n" + catalog).encode(), "Shop", Actor("bench"))
        with engine.begin() as conn:
            channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com")
        batch = orders(args.orders, args.products, random.Random(5))
        start = time.perf_counter()
        for first in range(0, len(batch), PAGE):
            with engine.begin() as conn:
                import_orders(conn, channel, batch[first:first + PAGE])
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        for first in range(0, len(batch), PAGE):
            with engine.begin() as conn:
                import_orders(conn, channel, batch[first:first + PAGE])
        again = time.perf_counter() - start
        core_ms = []
        for _ in range(7):
            start = time.perf_counter()
            page = inbox(engine)
            core_ms.append((time.perf_counter() - start) * 1000)
        screen_ms = [asyncio.run(screen_first_page(url)) for _ in range(3)]
    lines = sum(len(o.lines) for o in batch)
    print(f"orders imported                      {len(batch):>9,} ({lines:,} lines, {args.products:,} products)")
    print(f"open sales in the inbox              {page.total:>9,}")
    return [
        info(f"order import, {len(batch):,} orders", len(batch) / seconds, "orders/s"),
        info("the same orders again (no change)", len(batch) / again, "orders/s"),
        info("inbox first page, core query", statistics.median(core_ms), "ms"),
        at_most("inbox screen, open to first rows", statistics.median(screen_ms), FLOOR_MS, "ms"),
    ]


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
