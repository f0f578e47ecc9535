"""Catalog import speed against raw sqlite3, its peak memory, and start-up times. Prints figures;
asserts nothing.

    uv run python -m bench.catalog_import [--rows 100000] [--memory-rows 1000000]

The memory figures import a --memory-rows file in a child process, then re-price every row of
it in another, and report each child's peak resident memory (the import is streamed: floor 300 MB at
1,000,000 lines) and rows/s, against the same child importing a 100,000-line file: streaming must
not be slower per row at ten times the size.

Each import is timed three times, interleaved with the raw baselines, and the best of each is
kept. Floors (from the foundation issue): import >= 0.5 x a raw sqlite3 import of the same rows
(csv.reader straight into executemany, no checks); a write-only comparison is printed too;
`tandem --help` <= 0.2 s; `tandem` start to the home screen's first paint <= 1.2 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.table import Figure, at_least, at_most, info, print_table
from core.audit import Actor
from core.catalog_import import Problems, import_catalog, read_catalog
from core.db import open_database
from core.demo import catalog_csv, demo_catalog_rows

RUNS = 3
FLOORS = {"import_ratio": 0.5, "help_seconds": 0.2, "first_paint_seconds": 1.2, "peak_mb": 300,
          "per_row_ratio": 0.8}


def fresh_database(directory: Path, name: str) -> Path:
    path = directory / name
    open_database(f"sqlite:///{path}").dispose()
    return path


def time_tandem_import(db: Path, data: bytes) -> float:
    engine = open_database(f"sqlite:///{db}")
    start = time.perf_counter()
    import_catalog(engine, data, "Main Street", Actor("bench"))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


RAW_PRODUCT_INSERT = (
    "INSERT INTO product (sku, description, brand, barcode_raw, gtin14, barcode_status, part_number,"
    " part_number_key, price, msrp, non_inventory, gift_card_placeholder, active, version,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_STOCK_INSERT = (
    "INSERT INTO stock (product_id, location_id, on_hand, committed, version, updated_at)"
    " VALUES (?, 1, ?, 0, 1, ?)"
)
NOW = "2026-01-01 00:00:00"


def _raw_connection(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def time_raw_import(db: Path, data: bytes) -> float:
    """The least an import of this file can do: csv.reader straight into executemany, no checks."""
    conn = _raw_connection(db)
    start = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader)
    at = {name: index for index, name in enumerate(header)}
    records = list(reader)
    conn.execute("INSERT INTO location (name, created_at) VALUES ('Main Street', ?)", (NOW,))
    conn.executemany(RAW_PRODUCT_INSERT, [
        (r[at["sku"]], r[at["description"]], r[at["brand"]], r[at["upc"]], r[at["upc"]], None,
         r[at["part_number"]], r[at["part_number"]], r[at["price"]], r[at["msrp"]], 0, 0, 1, 1, NOW, NOW)
        for r in records
    ])
    conn.executemany(RAW_STOCK_INSERT, [(i + 1, r[at["quantity"]], NOW) for i, r in enumerate(records)])
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def time_raw_executemany(db: Path, data: bytes) -> float:
    """Only the writing: the same rows, already parsed, through plain sqlite3."""
    rows = [row for _, chunk in read_catalog(io.BytesIO(data), Problems()) for row in chunk]
    products = [row[:13] + (1, NOW, NOW) for row in rows]
    stock = [(index + 1, row[13], NOW) for index, row in enumerate(rows)]
    conn = _raw_connection(db)
    start = time.perf_counter()
    conn.execute("INSERT INTO location (name, created_at) VALUES ('Main Street', ?)", (NOW,))
    conn.executemany(RAW_PRODUCT_INSERT, products)
    conn.executemany(RAW_STOCK_INSERT, stock)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


CHILD = """
import sys, time
from pathlib import Path
from core.catalog_import import import_catalog
from core.db import open_database
engine = open_database(sys.argv[1])
for path in sys.argv[2:]:
    start = time.perf_counter()
    report = import_catalog(engine, Path(path), "Main Street")
    print(report.rows, time.perf_counter() - start)
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child would report
# the bench's own size when it was started (the bench holds its 100,000-row catalog by then).
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def write_catalog(path: Path, rows: int, price: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("sku,description,brand,upc,part_number,price,quantity\n")
        for n in range(rows):
            out.write(f"SKU-{n:07d},Product number {n} in the big catalog,Brand {n % 97},,MPN-{n},{price},{n % 13}\n")
    return path


def import_in_child(directory: Path, name: str, files: list[Path],
                    fresh: bool = True) -> tuple[list[tuple[int, float]], float]:
    """(rows, seconds) per file and the child's peak resident memory in MB."""
    db = fresh_database(directory, name) if fresh else directory / name
    out = subprocess.run([sys.executable, "-c", CHILD, f"sqlite:///{db}", *map(str, files)],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    timings = [(int(rows), float(seconds)) for rows, seconds in (line.split() for line in out[:len(files)])]
    return timings, int(out[len(files)]) / 1024


def measure_memory(directory: Path, rows: int) -> list[Figure]:
    big = write_catalog(directory / "big.csv", rows, "9.99")
    repriced = write_catalog(directory / "big-repriced.csv", rows, "10.49")
    small = write_catalog(directory / "small.csv", rows // 10, "9.99")
    size_mb = big.stat().st_size / 1e6
    (_, small_seconds), *_ = import_in_child(directory, "small.sqlite", [small])[0]
    # Each in a process of its own, so each peak is its own (a process's high-water mark never falls).
    [(_, new_seconds)], import_peak = import_in_child(directory, "big.sqlite", [big])
    [(_, repriced_seconds)], reprice_peak = import_in_child(directory, "big.sqlite", [repriced], fresh=False)
    small_rate, new_rate = rows // 10 / small_seconds, rows / new_seconds
    print(f"{rows:,}-line catalog ({size_mb:.0f} MB): new {new_rate:,.0f} rows/s, peak {import_peak:,.0f} MB; "
          f"re-priced {rows / repriced_seconds:,.0f} rows/s, peak {reprice_peak:,.0f} MB; "
          f"{rows // 10:,} lines: {small_rate:,.0f} rows/s")
    return [
        at_most(f"import peak memory, {rows:,} lines", import_peak, FLOORS["peak_mb"], "MB"),
        at_most(f"re-price peak memory, {rows:,} lines", reprice_peak, FLOORS["peak_mb"], "MB"),
        info(f"import of {rows:,} new lines", new_rate, "rows/s"),
        info(f"re-pricing {rows:,} lines", rows / repriced_seconds, "rows/s"),
        at_least(f"rows/s at {rows:,} / at {rows // 10:,}", new_rate / small_rate, FLOORS["per_row_ratio"], "ratio"),
    ]


def time_help(runs: int = 7) -> float:
    tandem = Path(sys.executable).with_name("tandem")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(tandem), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_first_paint(db: Path, runs: int = 3) -> tuple[float | None, float | None]:
    """Start `tandem` in a real terminal (tmux, 80x24) and watch for the home screen. The first start
    is not counted: it writes the bytecode an installed Tandem has from its install
    (`--compile-bytecode`), and a machine with PYTHONDONTWRITEBYTECODE set would else compile every
    module at every start."""
    if not shutil.which("tmux"):
        return None, None
    tandem = Path(sys.executable).with_name("tandem")
    paints, figures = [], []
    for run in range(-1, runs):
        session = f"tandem-bench-{run}"
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                        f"env -u PYTHONDONTWRITEBYTECODE {tandem} --db sqlite:///{db}"], check=True)
        painted = shown = None
        try:
            while time.perf_counter() - start < 10 and shown is None:
                screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                        capture_output=True, text=True).stdout
                now = time.perf_counter() - start
                if painted is None and "Catalog" in screen:
                    painted = now
                if "products" in screen:
                    shown = now
                time.sleep(0.005)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        if run >= 0:
            paints.append(painted)
            figures.append(shown)
    if None in paints:
        return None, None
    return statistics.median(paints), statistics.median(figures)


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000, help="0 skips the memory figure")
    args = parser.parse_args(argv)
    rows = demo_catalog_rows(target=args.rows)[: args.rows]
    data = catalog_csv(rows)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        # Interleaved runs, best of each: the machine's noise hits both sides alike.
        raw_import = raw_write = ours = float("inf")
        for run_number in range(RUNS):
            raw_import = min(raw_import, time_raw_import(fresh_database(directory, f"raw{run_number}.sqlite"), data))
            raw_write = min(raw_write, time_raw_executemany(fresh_database(directory, f"w{run_number}.sqlite"), data))
            ours = min(ours, time_tandem_import(fresh_database(directory, f"tandem{run_number}.sqlite"), data))
        again = time_tandem_import(directory / "tandem0.sqlite", data)
        help_seconds = time_help()
        paint, figures = time_first_paint(directory / "tandem0.sqlite")
        memory = measure_memory(directory, args.memory_rows) if args.memory_rows else []

    n = len(rows)
    print(f"catalog rows                          {n:>9,}")
    print(f"raw: csv.reader + executemany         {n / raw_import:>9,.0f} rows/s  ({raw_import:.2f} s)")
    print(f"raw: executemany of parsed rows only  {n / raw_write:>9,.0f} rows/s  ({raw_write:.2f} s)")
    print(f"tandem import, new catalog            {n / ours:>9,.0f} rows/s  ({ours:.2f} s: read, check, write)")
    print(f"tandem import, same file again        {n / again:>9,.0f} rows/s  ({again:.2f} s: nothing changes)")
    results = [
        info(f"catalog import, {n:,} rows", ours, "s"),
        at_least("catalog import / raw csv+executemany", raw_import / ours, FLOORS["import_ratio"], "ratio"),
        info("catalog import / raw write only", raw_write / ours, "ratio"),
        info("catalog re-import, nothing changed", again, "s"),
        at_most("tandem --help", help_seconds, FLOORS["help_seconds"], "s"),
    ]
    if paint is not None:
        results += [at_most("start to home first paint", paint, FLOORS["first_paint_seconds"], "s"),
                    info(f"start to figures shown ({n:,} products)", figures, "s")]
    return results + memory


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
