"""Matching at scale, and the resolver's search latency. Prints figures; asserts nothing.

    uv run python -m bench.matching [--products 100000]

Floors (from the matching issue): full-match time ratio 100k/10k <= 12 (about linear);
resolver search p95 <= 50 ms per keystroke at 100,000 products.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path


from bench.table import Figure, at_most, info, print_table
from core.audit import Actor
from core.catalog import search_products
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.db import open_database
from core.demo import catalog_csv, demo_catalog_rows
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel
from core.models import MatchState, Platform

FLOORS = {"scaling_ratio": 12.0, "search_p95_ms": 50.0}
TYPED = ["kestrel chain 11", "helmet road m", "KC-CH0", "cobalt tyre 700x28", "lumen 800"]


def listings_for(rows: list[dict], rng: random.Random) -> list[ListingData]:
    """Web listings with the collisions a real store has."""
    listings = []
    for n, row in enumerate(rows):
        roll = rng.random()
        upc, part = row["upc"], row["part_number"]
        if roll < 0.60:
            barcode, part_number = upc.zfill(14) if upc else None, None  # GTIN, another form
        elif roll < 0.80:
            barcode, part_number = None, part.lower()  # part number only
        elif roll < 0.85:
            barcode, part_number = upc or None, part  # both
        elif roll < 0.90:
            other = rows[rng.randrange(len(rows))]
            barcode, part_number = upc or None, other["part_number"]  # may conflict
        else:
            barcode, part_number = None, None  # nothing to go on
        listings.append(ListingData(f"V{n}", row["description"], product_code=f"W-{n}",
                                    barcode=barcode, part_number=part_number))
    # Some products listed twice: ambiguous on purpose.
    for n in range(0, len(rows), 97):
        listings.append(ListingData(f"D{n}", rows[n]["description"], barcode=rows[n]["upc"] or None))
    return listings


def build(directory: Path, size: int, seed: int = 7):
    url = f"sqlite:///{directory / f'match-{size}.sqlite'}"
    engine = open_database(url)
    rows = demo_catalog_rows(seed=seed, target=size)[:size]
    import_catalog(engine, catalog_csv(rows), "Shop", Actor("bench"))
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.DEMO, "http://127.0.0.1")
        store_listings(conn, channel, listings_for(rows, random.Random(seed)))
    return engine, channel, rows


def timed_match(engine, channel, full: bool):
    start = time.perf_counter()
    with engine.begin() as conn:
        summary = match_channel(conn, channel, full=full)
    return time.perf_counter() - start, summary


def search_latencies(engine) -> list[float]:
    latencies = []
    for phrase in TYPED:
        for end in range(1, len(phrase) + 1):
            start = time.perf_counter()
            search_products(engine, phrase[:end], limit=9, with_total=False)
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    args = parser.parse_args(argv)
    small = args.products // 10
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        engine_small, channel_small, _ = build(directory, small)
        small_time, _ = timed_match(engine_small, channel_small, full=True)
        engine, channel, rows = build(directory, args.products)
        full_time, summary = timed_match(engine, channel, full=True)

        # 1% of listings and 1% of products change, then an incremental run.
        rng = random.Random(11)
        changed = [ListingData(f"V{n}", rows[n]["description"] + " (new)", barcode=rows[n]["upc"] or None)
                   for n in rng.sample(range(args.products), args.products // 100)]
        with engine.begin() as conn:
            store_listings(conn, channel, changed)
        touched = [r["sku"] for r in rows[:: 100]]
        catalog = "sku,description,price\n" + "".join(f"{sku},Changed {sku},1.00\n" for sku in touched)
        import_catalog(engine, catalog.encode(), "Shop", Actor("bench"))
        incremental_time, incremental = timed_match(engine, channel, full=False)
        latencies = search_latencies(engine)

    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"products x listings                 {args.products:,} x {summary.examined:,}")
    print(f"states: matched {summary.count(MatchState.MATCHED):,}, ambiguous "
          f"{summary.count(MatchState.AMBIGUOUS):,}, conflict {summary.count(MatchState.CONFLICT):,}, "
          f"unmatched {summary.count(MatchState.UNMATCHED):,}")
    print(f"incremental run examined {incremental.examined:,} listings, {incremental_time / full_time:.0%} of full")
    return [
        info(f"full match, {small:,} x {small:,}", small_time, "s"),
        info(f"full match, {args.products:,} x {args.products:,}", full_time, "s"),
        at_most(f"match time ratio {args.products:,} / {small:,}", full_time / small_time,
                FLOORS["scaling_ratio"], "ratio"),
        info("incremental match after 1% changes", incremental_time, "s"),
        info("resolver search per keystroke p50", p50, "ms"),
        at_most("resolver search per keystroke p95", p95, FLOORS["search_p95_ms"], "ms"),
    ]


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
