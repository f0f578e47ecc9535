"""Every benchmark in one command, one table: figure, value, floor, pass or fail.

    uv run python -m bench.run_all [--quick]

`--quick` runs each at a tenth of its size (and the memory check at 100,000 products) to see
that everything still works; the floors are meant for the full sizes. Each benchmark prints its
own details as it goes; the table at the end gathers the figures, and the exit code is 1 if any
figure fails its floor.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import catalog_import, export, inbox, listener, matching, nightly_sync, staleness
from bench.table import Figure, print_table

FULL = [
    ("catalog import", catalog_import.run, []),
    ("matching", matching.run, []),
    ("export", export.run, []),
    ("inbox", inbox.run, []),
    ("nightly sync", nightly_sync.run, []),
    ("memory, 1,000,000 products", nightly_sync.run, ["--memory"]),
    ("staleness", staleness.run, []),
    ("webhook listener under attack", listener.run, []),
]
QUICK = [
    ("catalog import", catalog_import.run, ["--rows", "10000", "--memory-rows", "100000"]),
    ("matching", matching.run, ["--products", "10000"]),
    ("export", export.run, ["--products", "10000", "--changed", "2000"]),
    ("inbox", inbox.run, ["--products", "10000", "--orders", "1000"]),
    ("nightly sync", nightly_sync.run, ["--products", "10000", "--orders", "500"]),
    ("memory, 100,000 products", nightly_sync.run, ["--memory", "--products", "100000"]),
    ("staleness", staleness.run, ["--orders", "6", "--races", "3"]),
    ("webhook listener under attack", listener.run, ["--sockets", "100", "--forged", "100", "--copies", "30"]),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of each size, to check they all run")
    args = parser.parse_args()
    figures: list[Figure] = []
    started = time.perf_counter()
    for title, run, argv in QUICK if args.quick else FULL:
        print(f"\n== {title} ==", flush=True)
        section = time.perf_counter()
        figures += run(argv)
        print(f"({time.perf_counter() - section:.0f} s)", flush=True)
    print(f"\nAll benchmarks, {time.perf_counter() - started:.0f} s on this machine:\n")
    print_table(figures)
    failed = [f.name for f in figures if f.passed is False]
    if failed:
        print(f"\n{len(failed)} below their floor: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
