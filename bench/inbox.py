"""Web sales import and the inbox at scale. Prints figures; asserts nothing.

    uv run python -m bench.inbox [--products 100000 --orders 10000]

Imports 10,000 orders (30,000 lines) against 100,000 products the way the sync does (pages of
100 orders, one transaction each), then times the inbox's first page with 10,000 open sales:
the core query, and the screen from opening to its first rows (Textual's Pilot, in process).
Then each search staff use, from asking to its first rows on screen: the inbox by order number,
a word of the name, an email, a phone's last digits and a scanned barcode; returns by customer
name (2,000 of the sales completed); POS customers by name in the link dialog (20,000 of them).
Floor (from the inbox issue): the inbox opens in <= 150 ms; each search is held to the same.
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
from core.customers import search_customers
from core.inbox import inbox
from core.models import PosCustomer, WebSale
from core.returns import find_sales
from core.search import index_customers
from core.sync import import_orders

PAGE = 100
FLOOR_MS = 150.0
FIRST = ["Maya", "Tomás", "Priya", "Jonah", "Élodie", "Sam", "Ana", "Noor", "Kenji", "Olu", "Ines", "Lars"]
LAST = ["Lindqvist", "Ortega", "Raman", "Whitfield", "Martin", "Okafor", "Lima", "Haddad", "Sato", "Adeyemi",
        "Moreau", "Berg", "Kowalski", "Nguyen", "Silva", "Fischer", "Rossi", "Dubois", "Novak", "Quinn"]
SCANNED = "036000241457"  # the barcode on one line in a hundred


def person(n: int) -> tuple[str, str, str]:
    first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
    return f"{first} {last} {n}", f"{first.lower()}.{last.lower()}{n}@example.com", f"555-{n:04d}"


def orders(count: int, products: int, rng: random.Random) -> list[WebOrder]:
    start = datetime(2026, 11, 26, tzinfo=UTC)
    made = []
    for n in range(count):
        when = start + timedelta(seconds=8 * n)
        lines = [OrderLine(f"{n}-{k}", f"Product {p}", rng.randint(1, 3), Decimal("19.99"), product_code=f"P{p}",
                           barcode=SCANNED if n % 100 == 0 and k == 0 else None)
                 for k, p in enumerate(rng.sample(range(1, products + 1), 3))]
        name, email, phone = person(n % 3000)
        made.append(WebOrder(f"order-{n}", f"#{10000 + n}", "authorized", when, when, "USD", lines,
                             customer_name=name, customer_email=email, customer_phone=phone, total=Decimal("59.97")))
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


async def wait_until(condition, what: str = "the screen") -> None:
    deadline = time.perf_counter() + 30
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} never showed its rows")
        await asyncio.sleep(0.001)


async def screen_searches(url: str, inbox_searches: dict[str, str], returns_search: str, customer_search: str,
                          sale_id: int, version: int) -> dict[str, float]:
    """Milliseconds from asking each search to its first rows on screen (Textual's Pilot, in process)."""
    from textual.widgets import OptionList

    from tui.app import TandemApp
    from tui.dialogs.customer import CustomerScreen
    from tui.screens.inbox import InboxScreen
    from tui.screens.returns import ReturnsScreen

    timings: dict[str, float] = {}
    app = TandemApp(url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.push_screen(InboxScreen())
        await wait_until(lambda: isinstance(app.screen, InboxScreen) and app.screen.page is not None)
        screen = app.screen
        for what, typed in inbox_searches.items():
            start = time.perf_counter()
            screen.search_for(typed)
            await wait_until(lambda typed=typed: screen.shown_search == typed.strip())
            timings[what] = (time.perf_counter() - start) * 1000
            assert screen.page.rows, f"the bench's search for {typed!r} found nothing"
        await app.pop_screen()
        await app.push_screen(ReturnsScreen())
        await pilot.pause()
        await wait_until(lambda: isinstance(app.screen, ReturnsScreen))
        found = app.screen.query_one("#found", OptionList)
        start = time.perf_counter()
        app.screen.search(returns_search, True)
        await wait_until(lambda: found.display and found.option_count > 0, "returns")
        timings["returns, by customer name"] = (time.perf_counter() - start) * 1000
        await app.pop_screen()
        await app.push_screen(CustomerScreen(sale_id, version))
        await pilot.pause()
        await wait_until(lambda: isinstance(app.screen, CustomerScreen))
        await app.workers.wait_for_complete()
        options = app.screen.query_one("#customer-options", OptionList)
        start = time.perf_counter()
        app.screen.query_one("#customer-search").value = customer_search  # as typed (a paste)
        await wait_until(lambda: options.option_count and customer_search.split()[0] in str(
            options.get_option_at_index(0).prompt), "the link dialog")
        timings["link dialog, POS customer by name"] = (time.perf_counter() - start) * 1000
    return timings


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
        # 2,000 of the sales completed (for returns) and 20,000 POS customers (for the link dialog).
        with engine.begin() as conn:
            conn.execute(WebSale.__table__.update().where(WebSale.id % 5 == 0).values(state="completed"))
            conn.execute(PosCustomer.__table__.insert(), [
                {"name": person(n)[0], "email": person(n)[1], "phone": person(n)[2], "version": 1,
                 "created_at": datetime.now(UTC)} for n in range(20_000)])
            index_customers(conn, range(1, 20_001))
            sale = conn.execute(WebSale.__table__.select().where(WebSale.state != "completed").limit(1)).first()
        name, email, phone = person(min(1234, args.orders - 1) - 1)  # a sale still open (ids % 5 are completed)
        with engine.connect() as conn:
            completed = conn.execute(WebSale.__table__.select().where(WebSale.state == "completed")
                                     .order_by(WebSale.id.desc()).limit(1)).first()
        returns_name = completed.customer_name.split()[1]
        inbox_searches = {"inbox, by order number": f"#{10000 + args.orders - 7}", "inbox, by a word of the name":
                          name.split()[1].lower(), "inbox, by email": email[:12], "inbox, by phone's last digits":
                          phone[-4:], "inbox, by a scanned barcode": SCANNED}
        core_search_ms = {}
        for what, typed in inbox_searches.items():
            core_search_ms[what] = min(_timed(lambda typed=typed: inbox(engine, search=typed)) for _ in range(5))
        core_search_ms["returns, by customer name"] = min(
            _timed(lambda: find_sales(engine, returns_name)) for _ in range(5))
        core_search_ms["link dialog, POS customer by name"] = min(
            _timed(lambda: search_customers(engine, "kenji lima")) for _ in range(5))
        screens = [asyncio.run(screen_searches(url, inbox_searches, returns_name, "Kenji Lima", sale.id, sale.version))
                   for _ in range(3)]
    lines = sum(len(o.lines) for o in batch)
    print(f"orders imported                      {len(batch):>9,} ({lines:,} lines, {args.products:,} products)")
    print(f"open sales in the inbox              {page.total:>9,}")
    return [
        info(f"order import, {len(batch):,} orders", len(batch) / seconds, "orders/s"),
        info("the same orders again (no change)", len(batch) / again, "orders/s"),
        info("inbox first page, core query", statistics.median(core_ms), "ms"),
        at_most("inbox screen, open to first rows", statistics.median(screen_ms), FLOOR_MS, "ms"),
        *(info(f"{what}, core query", ms, "ms") for what, ms in core_search_ms.items()),
        *(at_most(f"{what}, to first rows on screen", statistics.median(run[what] for run in screens), FLOOR_MS, "ms")
          for what in screens[0]),
    ]


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
