"""The nightly sync end to end, as cron runs it: `tandem --sync` in its own process against the
demo store on a loopback port, over real HTTP.

    uv run python -m bench.nightly_sync [--products 100000 --orders 5000 --changed 0.2]
    uv run python -m bench.nightly_sync --memory [--products 1000000]

The shop has 5 locations and 100,000 products, all listed on the web store and already synced
once. Then a day goes by: 5,000 web orders arrive and 20 % of the stock changes at every location.
The nightly run is measured: wall time, HTTP requests (every one: GraphQL, bulk files, uploads)
against the least the platform allows for the same work, the answers refused for rate limits, and
the sync process's peak memory (its own high-water resident size, read from /proc while it runs;
the store runs in this process and is not counted).

The Shopify store has the Standard plan's rate limit (a 2,000-point bucket refilled at 100 points
a second) and charges each query's requested cost up front, refunding the difference to its actual
cost, as Shopify does. The least Shopify allows: the catalog and the day's orders by one bulk query
each (start, one look at its state, one file), and quantities by aliased inventorySetQuantities
calls of 250, a hundred to a request (the 1,000-point cap at 10 points a mutation). WooCommerce's
least: pages and batches of 100, its documented maximum.

Channel rules are on 30 % of the products (`--rules 0.3`): a safety stock on some categories, a
price rule (-5 %, ending .99) on some brands with a floor under part of them. Each platform's night
runs twice in this process, without rules and with them, and the figures compare the two: the
rules may cost at most a little time and no requests. A rule change after the night (one brand's
price) is then measured too: it sends just the products it moves.

`--memory` is the large-shop check: the first sync of a 1,000,000-product shop (every listing
read and matched, every quantity sent) must stay under 500 MB.
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.export import barcode
from bench.table import Figure, at_most, info, print_table
from core.audit import Actor
from core.catalog_import import import_catalog
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoProduct, DemoStore, DemoVariant
from core.models import RuleKind, RuleScope
from core.rules import Rule, save_rule
from core.sync import apply_channel_settings
from core.sync.export import plan_export
from core.locations import location_table
from core.secrets import save_secret
from core.dbtypes import utcnow

ROOT = Path(__file__).resolve().parents[1]
MANAGER = Actor("bench", role="manager")
LOCATIONS = [f"Shop {n}" for n in range(1, 6)]
MEMORY_FLOOR_MB = 500
REQUEST_RATIO_FLOOR = 1.05  # WooCommerce: its least is pages and batches at the documented maximum
SHOPIFY_NIGHT_FLOOR = 200  # requests (1,758 before bulk operations and aliased mutations)
STANDARD_PLAN = {"bucket_size": 2_000, "restore_rate": 100}  # Shopify's Standard plan rate limit
NO_RATE_LIMIT = {"bucket_size": 10_000_000, "restore_rate": 10_000_000}  # what this bench had before
RULES_TIME_FLOOR = 1.5  # the night with rules / the night without, in the same process
RULES_REQUEST_FLOOR = 1.02  # rules decide values, not how they are sent
BRANDS, CATEGORIES = 50, 20
rate_limit = STANDARD_PLAN


def least_requests(platform: str, listings: int, orders: int, quantities: int) -> int:
    if platform == "shopify":
        bulk_read = 3  # start, one look at its state, the result file
        return bulk_read * 2 + math.ceil(quantities / (250 * 100))
    return math.ceil(listings / 100) + math.ceil(orders / 100) + math.ceil(quantities / 100)


def price(n: int) -> Decimal:
    return Decimal(f"{n % 90 + 5}.{n % 100:02d}")


def catalog(numbers, quantity) -> bytes:
    rows = "".join(f"P{n},Product {n},{barcode(n)},{price(n)},{quantity(n)},B{n % BRANDS},C{n % CATEGORIES},"
                   f"{price(n) - 2 if n % 3 == 0 else ''}\n" for n in numbers)
    return ("sku,description,upc,price,quantity,brand,category,map\n" + rows).encode()


def shop_rules(share: float) -> list[Rule]:
    """Rules reaching `share` of the products: a safety stock on that share of the categories, a
    price rule (and a floor under some) on that share of the brands."""
    categories, brands = round(CATEGORIES * share), round(BRANDS * share)
    rules = [Rule(RuleKind.SAFETY_STOCK, RuleScope.CATEGORY, f"C{c}", units=2) for c in range(categories)]
    rules += [Rule(RuleKind.PRICE, RuleScope.BRAND, f"B{b}", percent=Decimal("-5"), ending=".99")
              for b in range(brands)]
    rules += [Rule(RuleKind.PRICE_FLOOR, RuleScope.BRAND, f"B{b}", percent=Decimal("97")) for b in range(0, brands, 2)]
    return rules


def build_store(products: int) -> DemoStore:
    return DemoStore([DemoProduct(n, f"Product {n}", [DemoVariant(n, "Default Title", f"P{n}", barcode(n), price(n),
                                                                   available={LOCATION_ID: 0})])
                      for n in range(1, products + 1)], **rate_limit)


def add_orders(store: DemoStore, count: int, rng: random.Random) -> None:
    """A day of web orders, one to three lines each, a few seconds apart."""
    variants = [p.variants[0] for p in store.products]
    start = datetime.now(UTC) - timedelta(hours=20)
    for n in range(count):
        stamp = (start + timedelta(seconds=7 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [DemoOrderLine(10 * n + k, variant, variant.title, rng.randint(1, 2), variant.price, Decimal("0.08"))
                 for k, variant in enumerate(rng.sample(variants, rng.randint(1, 3)))]
        store.orders.append(DemoOrder(number=100_000 + n, name=f"#{100_000 + n}", created_at=stamp, updated_at=stamp,
                                      email=f"c{n}@example.com", customer=f"Customer {n}", phone=None,
                                      address=["1 Main St"], lines=lines))


@dataclass
class SyncRun:
    seconds: float
    peak_mb: float
    exit_code: int
    output: str
    errors: str


def peak_resident_mb(pid: int) -> float | None:
    """The process's own high-water resident size (VmHWM). Not wait4's ru_maxrss: Linux carries
    that over from the parent across fork and exec, so it would count this process's store."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_sync_process(url: str, config: Path, *options: str) -> SyncRun:
    """`tandem --sync` as cron starts it, its high-water memory read while it runs."""
    command = [sys.executable, "-m", "cli", "--sync", "--json", "--db", url, "--config", str(config), *options]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, peak_resident_mb(process.pid) or 0.0)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    return SyncRun(seconds, peak, process.returncode, out, err)


class Shop:
    """A shop database with its locations and catalog, and its web store on loopback."""

    def __init__(self, directory: Path, platform: str, products: int, locations: list[str], rng: random.Random,
                 rules: list[Rule] = ()):
        self.platform, self.products = platform, products
        self.url = f"sqlite:///{directory / f'{platform}-{len(rules)}.sqlite'}"
        self.engine = open_database(self.url)
        with self.engine.begin() as conn:
            conn.execute(location_table.insert(), [{"name": name, "created_at": utcnow()} for name in locations])
        for name in locations:
            import_catalog(self.engine, catalog(range(1, products + 1), lambda n: rng.randint(0, 20)), name,
                           Actor("bench"))
        self.store = build_store(products)
        self.server = LoopbackServer(self.store).__enter__()
        self.config = directory / f"{platform}.toml"
        self.config.write_text(
            f'[channels.Web]\nplatform = "{platform}"\nurl = "{self.server.url}"\nlocation = "{locations[0]}"\n'
            f'store_location_id = "{LOCATION_ID}"\nexport_time = "00:00"\ntime_zone = "UTC"\n')
        # The channel as the settings make it, so its rules are there before the first sync.
        apply_channel_settings(self.engine, {"Web": {"platform": platform, "url": self.server.url,
                                                     "location": locations[0], "store_location_id": LOCATION_ID,
                                                     "export_time": "00:00", "time_zone": "UTC"}})
        for rule in rules:
            save_rule(self.engine, "Web", rule, MANAGER)
        secrets = directory / "secrets.toml"
        if platform == "shopify":
            save_secret(secrets, "Web", "access_token", self.store.access_token)
        else:
            save_secret(secrets, "Web", "consumer_key", self.store.consumer_key)
            save_secret(secrets, "Web", "consumer_secret", self.store.consumer_secret)

    def sync(self, *options: str) -> SyncRun:
        run = run_sync_process(self.url, self.config, *options)
        if run.exit_code != 0:
            raise SystemExit(f"the sync failed ({run.exit_code}): {run.errors[-2000:]}")
        return run

    def in_step(self) -> bool:
        """Nothing left to send: the store holds what the shop has."""
        with self.engine.connect() as conn:
            plan = plan_export(conn, 1)
        return not plan.stock and not plan.prices

    def close(self) -> None:
        self.server.__exit__(None, None, None)
        self.engine.dispose()


@dataclass
class Night:
    seconds: float
    requests: int
    throttled: int
    minimum: int
    work: int  # requests less the bulk operations' status polls, whose number follows the platform's pace
    complete: bool
    peak_mb: float
    rule_change: tuple[int, int, float] | None = None  # products moved, requests, seconds


def one_night(directory: Path, platform: str, products: int, orders: int, changed: float,
              rules: list[Rule]) -> Night:
    import json

    rng = random.Random(2026)
    shop = Shop(directory, platform, products, LOCATIONS, rng, rules)
    try:
        first = shop.sync("--export-now")
        add_orders(shop.store, orders, rng)
        touched = rng.sample(range(1, products + 1), int(products * changed))
        for name in LOCATIONS:
            import_catalog(shop.engine, catalog(sorted(touched), lambda n: rng.randint(0, 30)), name, Actor("bench"))
        before, throttled_before = dict(shop.store.requests), shop.store.throttled
        night = shop.sync("--export-now")
        by_name = {name: count - before.get(name, 0) for name, count in shop.store.requests.items()
                   if count != before.get(name, 0)}
        requests = sum(by_name.values())
        throttled = shop.store.throttled - throttled_before
        result = json.loads(night.output)["channels"][0]
        minimum = least_requests(platform, products, orders, result["items_exported"])
        ruled = f"with {len(rules)} rules" if rules else "without rules"
        print(f"{platform} {ruled}: first sync {first.seconds:.1f} s, {first.peak_mb:.0f} MB; the night: "
              f"{result['orders_imported']:,} orders, {result['items_exported']:,} quantities sent, "
              f"{requests:,} requests (least possible {minimum:,}), {throttled} throttled "
              f"({dict(shop.store.throttled_by) or 'none'} since the start); by kind: "
              + ", ".join(f"{name or '?'} {count:,}" for name, count in sorted(by_name.items())), flush=True)
        complete = result["orders_imported"] == orders and shop.in_step()
        work = requests - by_name.get("TandemBulkStatus", 0)
        outcome = Night(night.seconds, requests, throttled, minimum, work, complete, night.peak_mb)
        if rules:
            # One brand's price rule changes: the next run sends the products it moves.
            effect = save_rule(shop.engine, "Web", Rule(RuleKind.PRICE, RuleScope.BRAND, "B1", percent=Decimal("-8"),
                                                        ending=".99"), MANAGER)
            before = sum(shop.store.requests.values())
            change = shop.sync("--export-now")
            sent = json.loads(change.output)["channels"][0]
            print(f"{platform}: a brand's price rule changed: {effect.moved:,} products moved, "
                  f"{sent['prices_exported']:,} prices sent, {sum(shop.store.requests.values()) - before:,} requests, "
                  f"{change.seconds:.1f} s", flush=True)
            outcome.rule_change = (effect.prices, sent["prices_exported"], change.seconds)
            outcome.complete = outcome.complete and shop.in_step()
        return outcome
    finally:
        shop.close()


def nightly(directory: Path, platform: str, products: int, orders: int, changed: float,
            share: float) -> list[Figure]:
    baseline = one_night(directory, platform, products, orders, changed, [])
    ruled = one_night(directory, platform, products, orders, changed, shop_rules(share))
    night = ruled
    figures = [
        info(f"{platform} nightly sync, wall time (no rules: {baseline.seconds:.1f} s)", night.seconds, "s"),
        at_most(f"{platform} night with rules on {share:.0%} / without", night.seconds / baseline.seconds,
                RULES_TIME_FLOOR, "ratio"),
        # Polls of a bulk operation's state are counted apart: how many depends on how long the
        # platform takes to run it, not on what is asked of it.
        at_most(f"{platform} night's requests with rules / without (polls apart: {night.requests - night.work} "
                f"/ {baseline.requests - baseline.work})", night.work / baseline.work, RULES_REQUEST_FLOOR, "ratio"),
        at_most(f"{platform} nightly sync, peak memory", night.peak_mb, MEMORY_FLOOR_MB, "MB"),
        Figure(f"{platform} nightly: every order in, store in step", float(night.complete), "", "yes", night.complete),
    ]
    moved, prices, seconds = night.rule_change
    figures.append(Figure(f"{platform} a rule change sends the prices it moves ({moved:,})", float(prices), "prices",
                          f"= {moved:,}", prices == moved))
    figures.append(info(f"{platform} a rule change's run, wall time", seconds, "s"))
    if platform == "shopify":
        figures[1:1] = [at_most(f"{platform} nightly sync, requests", night.requests, SHOPIFY_NIGHT_FLOOR, "requests"),
                        at_most(f"{platform} nightly sync, throttled answers", night.throttled, 0, "answers")]
    else:
        figures[1:1] = [info(f"{platform} nightly sync, requests", night.requests, "requests"),
                        at_most(f"{platform} nightly requests / platform's least ({night.minimum:,})",
                                night.requests / night.minimum, REQUEST_RATIO_FLOOR, "ratio")]
    return figures


def memory_check(directory: Path, products: int) -> list[Figure]:
    rng = random.Random(1)
    print(f"memory: building a {products:,}-product shop and its web store ...", flush=True)
    shop = Shop(directory, "shopify", products, LOCATIONS[:1], rng)
    try:
        first = shop.sync("--export-now")
        requests = sum(shop.store.requests.values())
        print(f"memory: first sync of {products:,} products took {first.seconds:.0f} s, {requests:,} requests "
              f"({shop.store.throttled} throttled): " + ", ".join(
                  f"{name} {count:,}" for name, count in sorted(shop.store.requests.items())), flush=True)
        return [
            info(f"first sync of {products:,} products, wall time", first.seconds, "s"),
            info(f"first sync of {products:,} products, requests", requests, "requests"),
            at_most(f"first sync of {products:,} products, throttled answers", shop.store.throttled, 0, "answers"),
            at_most(f"first sync of {products:,} products, peak memory", first.peak_mb, MEMORY_FLOOR_MB, "MB"),
            Figure(f"{products:,} products: store in step", float(shop.in_step()), "", "yes", shop.in_step()),
        ]
    finally:
        shop.close()


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--changed", type=float, default=0.2)
    parser.add_argument("--rules", type=float, default=0.3, help="the share of products under a channel rule")
    parser.add_argument("--platform", choices=["shopify", "woocommerce", "both"], default="both")
    parser.add_argument("--memory", action="store_true", help="the 1,000,000-product memory check instead")
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="a store with a bucket no run empties, to compare with runs made without pacing")
    args = parser.parse_args(argv)
    global rate_limit
    rate_limit = NO_RATE_LIMIT if args.no_rate_limit else STANDARD_PLAN
    with tempfile.TemporaryDirectory() as tmp:
        if args.memory:
            return memory_check(Path(tmp), args.products or 1_000_000)
        platforms = ["shopify", "woocommerce"] if args.platform == "both" else [args.platform]
        figures = []
        for platform in platforms:
            figures += nightly(Path(tmp), platform, args.products or 100_000, args.orders, args.changed, args.rules)
        return figures


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
