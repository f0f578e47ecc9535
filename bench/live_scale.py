"""What noticing and exporting changes costs as a shop's history grows: the change sequence.

    uv run python -m bench.live_scale [--sizes 10000,100000,1000000] [--consoles 50] [--idle 60]
                                      [--postgres URL]

For each size N, a database with N products (each linked to a web listing, stocked, already
exported) and N past sales, made with set-based SQL, on a SQLite file and, where a server is given
(`--postgres`, or TANDEM_TEST_POSTGRES_URL), on PostgreSQL:

- one change check: what a console does to see whether anything changed (the newest change's
  number; on SQLite first `PRAGMA data_version`);
- one quantity change, then the watcher's round for its store (`export_changes`, against a store
  that takes everything): time, change rows and plan rows read, database work (SQLite VM steps,
  PostgreSQL tuples read), the longest write transaction (SQLite: the write lock held); then
  1,000 changes in one transaction, the same;
- `--consoles` processes each running the console's change listener (core.changes, what the
  console runs, without drawing) plus one `tandem --watch` process polling a loopback store:
  their CPU time over `--idle` seconds of quiet (read from /proc, so Linux only), PostgreSQL's
  server processes' apart; then changes committed one at a time, and the time until each of the
  consoles has read what changed (the new sales and the home screen's counts), p95.

Every figure is printed at every size, so the growth shows; floors are the 1M-row targets.
On PostgreSQL each console holds two or three connections (its listener's and its pool's): 50
consoles need the server's `max_connections` at 200 or more.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event, text

from bench.table import Figure, at_most, info, print_table

ROOT = Path(__file__).resolve().parents[1]
CHECK_MS, PLAN_ONE_MS, LOCK_MS, PLAN_THOUSAND_S = 1.0, 20.0, 20.0, 0.5
IDLE_CPU_PERCENT = 5.0
SEEN_P95 = {"sqlite": 2.0, "postgresql": 0.5}
CHANGES_SEEN = 10
TICK = os.sysconf("SC_CLK_TCK")


# --- the shop -------------------------------------------------------------------------------------


def numbers(dialect: str, count: int) -> str:
    if dialect == "postgresql":
        return f"SELECT generate_series(1, {count}) AS i"
    return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) SELECT i FROM n"


def build(url: str, size: int, store_url: str) -> Engine:
    """N products stocked at one location, each listed and linked on one Shopify store with its
    quantity and price already exported, and N completed sales; the store's position at the end."""
    from core.changes import current_position, save_position
    from core.db import migrate, open_database

    engine = open_database(url)
    migrate(engine)
    dialect = engine.dialect.name
    now = "CURRENT_TIMESTAMP"
    yes, no = ("true", "false") if dialect == "postgresql" else ("1", "0")
    statements = [
        f"INSERT INTO location (id, name, created_at, active) VALUES (1, 'Shop', {now}, {yes})",
        f"INSERT INTO saleschannel (id, name, platform, base_url, location_id, safety_buffer, settings_json, "
        f"supplier_fulfillment, active, version, created_at) VALUES (1, 'Web', 'shopify', '{store_url}', 1, 0, "
        f"'{{}}', {no}, {yes}, 1, {now})",
        f"INSERT INTO product (id, sku, description, price, non_inventory, gift_card_placeholder, active, version, "
        f"created_at, updated_at) SELECT i, 'SKU' || i, 'Product ' || i, 1000 + i % 500, {no}, {no}, {yes}, 1, "
        f"{now}, {now} FROM ({numbers(dialect, size)}) AS n",
        f"INSERT INTO stock (product_id, location_id, on_hand, committed, version, updated_at) "
        f"SELECT i, 1, 5 + i % 7, 0, 1, {now} FROM ({numbers(dialect, size)}) AS n",
        f"INSERT INTO weblisting (id, channel_id, external_id, external_product_id, inventory_item_id, title, price, "
        f"match_state, first_seen_at, last_seen_at, updated_at, version) SELECT i, 1, 'v' || i, 'p' || i, "
        f"'ii' || i, 'Product ' || i, 1000 + i % 500, 'matched', {now}, {now}, {now}, 1 "
        f"FROM ({numbers(dialect, size)}) AS n",
        f"INSERT INTO productlink (channel_id, listing_id, product_id, method, manual, linked_by, linked_at, "
        f"last_exported_quantity, last_exported_price) SELECT 1, i, i, 'sku', {no}, 'bench', {now}, 5 + i % 7, "
        f"1000 + i % 500 FROM ({numbers(dialect, size)}) AS n",
        f"INSERT INTO websale (channel_id, external_id, order_number, state, fulfillment, currency, subtotal, "
        f"shipping_charged, shipping_tax_rate, shipping_tax, tax_total, total, authorized_amount, captured_amount, "
        f"ordered_at, imported_at, version) SELECT 1, 'o' || i, '#' || i, 'completed', 'store', 'CAD', 1000, 0, 0, "
        f"0, 0, 1000, 1000, 1000, {now}, {now}, 1 FROM ({numbers(dialect, size)}) AS n",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        if dialect == "postgresql":
            for table in ("location", "saleschannel", "product", "weblisting"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        # The history's change rows were read long ago (the watcher prunes them): keep the numbering.
        position = current_position(conn)
        conn.execute(text("DELETE FROM change"))
        save_position(conn, 1, position)
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return engine


# --- what a round costs ---------------------------------------------------------------------------


class TakesEverything:
    """A store that takes every quantity and price at once: the round's own cost, not the network's."""

    stock_batch_size, price_batch_size = 250, 250
    needs_inventory_item, prices_per_product = True, False

    def __init__(self):
        from core.connectors.http import RequestCounter

        self.counter = RequestCounter()
        self.quantities = 0

    def set_stock(self, updates):
        self.counter.requests += 1
        self.quantities += len(updates)

    def set_prices(self, updates):
        self.counter.requests += 1


class DatabaseWork:
    """SQLite: VM steps (a progress handler on every connection) and the longest write transaction;
    PostgreSQL: tuples read, from the statistics views."""

    def __init__(self, engine: Engine):
        self.engine, self.steps, self.longest_write, self._began = engine, 0, 0.0, {}
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", self._count_steps)
            engine.dispose()
            event.listen(engine, "begin", self._begin)
            event.listen(engine, "commit", self._end)

    def _count_steps(self, dbapi_connection, _record):
        def step():
            self.steps += 10
            return 0
        dbapi_connection.set_progress_handler(step, 10)

    def _begin(self, conn):
        if conn.get_execution_options().get("tandem_writes"):
            self._began[id(conn)] = time.perf_counter()

    def _end(self, conn):
        began = self._began.pop(id(conn), None)
        if began is not None:
            self.longest_write = max(self.longest_write, time.perf_counter() - began)

    def tuples_read(self) -> int:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return conn.execute(text("SELECT coalesce(sum(seq_tup_read), 0) + coalesce(sum(idx_tup_fetch), 0) "
                                     "FROM pg_stat_user_tables")).scalar_one()

    @contextmanager
    def measured(self, into: dict):
        self.steps, self.longest_write = 0, 0.0
        before = self.tuples_read() if self.engine.dialect.name == "postgresql" else 0
        if self.engine.dialect.name == "postgresql":
            time.sleep(0.6)  # statistics reach the views after the backend reports them (every 500 ms at most)
        started = time.perf_counter()
        yield
        into["seconds"] = time.perf_counter() - started
        if self.engine.dialect.name == "postgresql":
            time.sleep(0.6)
            into["work"] = self.tuples_read() - before
        else:
            into["work"] = self.steps
            into["lock"] = self.longest_write


def change_stock(engine: Engine, products: range) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE stock SET on_hand = on_hand + 1 WHERE location_id = 1 AND product_id BETWEEN "
                          ":first AND :last"), {"first": products.start, "last": products.stop - 1})


def round_after(engine: Engine, work: DatabaseWork, changed: range) -> dict:
    from core.sync.export import export_changes

    change_stock(engine, changed)
    store, figures = TakesEverything(), {}
    with work.measured(figures):
        report, changes = export_changes(engine, 1, store)
    assert report.quantities_sent == len(changed), (report, len(changed))
    figures.update(change_rows=changes.rows, planned=report.quantities_sent)
    return figures


def change_check_ms(engine: Engine, runs: int = 2000) -> tuple[float, float]:
    """The console's check when nothing changed (data_version on SQLite; nothing at all is asked of
    PostgreSQL, which notifies) and the newest change's number, read when something did."""
    from core.changes import latest_change

    quiet = 0.0
    if engine.dialect.name == "sqlite":
        import sqlite3

        connection = sqlite3.connect(engine.url.database)
        started = time.perf_counter()
        for _ in range(runs):
            connection.execute("PRAGMA data_version").fetchone()
        quiet = (time.perf_counter() - started) / runs * 1000
        connection.close()
    with engine.connect() as conn:
        started = time.perf_counter()
        for _ in range(runs):
            latest_change(conn)
        return quiet, (time.perf_counter() - started) / runs * 1000


# --- consoles and a watcher, as processes ---------------------------------------------------------


def console_process(url: str) -> None:
    """What a console runs to notice changes, without drawing: the listener, and on each change the
    reads its screen would make (new sales, the home screen's counts). Prints when it has read."""
    from core.changes import ChangeListener, arrived_since, newest_sale_id
    from core.db import open_database
    from core.overview import shop_overview

    engine = open_database(url)
    newest = [newest_sale_id(engine)]

    def on_change():
        arrived = arrived_since(engine, newest[0])
        newest[0] = max([newest[0], *(sale.id for sale in arrived)])
        shop_overview(engine)
        print(f"seen {time.time():.6f}", flush=True)

    listener = ChangeListener(engine, on_change).start()
    listener.ready.wait(30)
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes it
    listener.stop()


def watcher_process(url: str, store_url: str, token: str) -> None:
    from core.connectors.shopify import ShopifyConnector
    from core.db import open_database
    from core.sync.watch import watch

    engine = open_database(url)
    stop = threading.Event()
    connector = ShopifyConnector(store_url, token, location_id="1")
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("ready", flush=True)
    watch(engine, stop, connectors={"Web": connector}, full_sync_seconds=None)


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.live_scale", *args], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def live(engine: Engine, url: str, consoles: int, idle: float, store_url: str, token: str) -> dict:
    children = [spawn("--console", url) for _ in range(consoles)]
    watcher = spawn("--watcher", url, store_url, token)
    seen: list[list[float]] = [[] for _ in children]
    try:
        for child in [*children, watcher]:
            assert child.stdout.readline().strip() == "ready"

        def read(index: int, child: subprocess.Popen) -> None:
            for line in child.stdout:
                if line.startswith("seen "):
                    seen[index].append(float(line.split()[1]))

        for index, child in enumerate(children):
            threading.Thread(target=read, args=(index, child), daemon=True).start()
        time.sleep(5)  # the watcher's first round, the processes settled
        pids = [child.pid for child in [*children, watcher]]
        server = postgres_pids() if engine.dialect.name == "postgresql" else []
        ours, theirs, started = cpu_seconds(pids), cpu_seconds(server), time.monotonic()
        time.sleep(idle)
        elapsed = time.monotonic() - started
        idle_cpu = (cpu_seconds(pids) - ours) / elapsed * 100
        server_cpu = (cpu_seconds(server) - theirs) / elapsed * 100 if server else 0.0
        for child in seen:
            child.clear()
        latencies = []
        for n in range(CHANGES_SEEN):
            before = [len(child) for child in seen]
            made = time.time()
            change_stock(engine, range(n + 1, n + 2))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(len(child) == count for child, count in zip(seen, before)):
                time.sleep(0.01)
            latencies += [child[count] - made if len(child) > count else 10.0 for child, count in zip(seen, before)]
            time.sleep(1.0)
        latencies.sort()
        return {"idle_cpu": idle_cpu, "server_cpu": server_cpu,
                "p95": latencies[int(len(latencies) * 0.95) - 1], "max": latencies[-1]}
    finally:
        for child in [*children, watcher]:
            try:
                child.stdin.close()
            except OSError:
                pass
        for child in [*children, watcher]:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


# --- the run --------------------------------------------------------------------------------------


def fresh_postgres(url: str, name: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def measure(url: str, size: int, consoles: int, idle: float, dialect: str) -> list[Figure]:
    from core.demo_store.app import LoopbackServer
    from core.demo_store.store import DemoStore

    label = f"{dialect}, {size:,}"
    store = DemoStore([])
    with LoopbackServer(store) as server:
        started = time.perf_counter()
        engine = build(url, size, server.url)
        print(f"  {label}: built in {time.perf_counter() - started:.0f} s", flush=True)
        work = DatabaseWork(engine)
        quiet_ms, check_ms = change_check_ms(engine)
        # The watcher runs for months: its statements are compiled, its connections open. The
        # first round here pays for that; the figures are the median of the next five.
        round_after(engine, work, range(size - 1, size))
        rounds = sorted((round_after(engine, work, range(size // 2 + n, size // 2 + n + 1)) for n in range(5)),
                        key=lambda figures: figures["seconds"])
        one = rounds[2]
        one["lock"] = max(figures["lock"] for figures in rounds) if dialect == "sqlite" else 0.0
        thousand = round_after(engine, work, range(1, 1001))
        print(f"  {label}: one change: {one['seconds'] * 1000:.1f} ms, {one['change_rows']} change rows, "
              f"{one['planned']} planned, database work {one['work']:,}; 1,000 changes: "
              f"{thousand['seconds'] * 1000:.0f} ms, {thousand['change_rows']} change rows, database work "
              f"{thousand['work']:,}", flush=True)
        running = live(engine, url, consoles, idle, server.url, store.access_token)
        print(f"  {label}: idle CPU {running['idle_cpu']:.2f} % of a core ({consoles} consoles and a watcher), "
              f"seen p95 {running['p95']:.3f} s, max {running['max']:.3f} s", flush=True)
        engine.dispose()
    work_unit = "VM steps" if dialect == "sqlite" else "tuples"
    figures = [
        at_most(f"{label}: change check", check_ms, CHECK_MS, "ms"),
        info(f"{label}: change check, nothing committed", quiet_ms, "ms"),
        at_most(f"{label}: one change planned and marked, median", one["seconds"] * 1000, PLAN_ONE_MS, "ms"),
        info(f"{label}: one change planned and marked, slowest", rounds[-1]["seconds"] * 1000, "ms"),
        info(f"{label}: one change, change rows read", one["change_rows"]),
        info(f"{label}: one change, database work", one["work"], work_unit),
        at_most(f"{label}: 1,000 changes planned and marked", thousand["seconds"], PLAN_THOUSAND_S, "s"),
        info(f"{label}: 1,000 changes, database work", thousand["work"], work_unit),
        at_most(f"{label}: {consoles} consoles + watcher idle", running["idle_cpu"], IDLE_CPU_PERCENT, "% core"),
        at_most(f"{label}: change seen by {consoles} consoles, p95", running["p95"], SEEN_P95[dialect], "s"),
    ]
    if dialect == "sqlite":
        figures.insert(6, at_most(f"{label}: one change, write lock held (longest)", one["lock"] * 1000, LOCK_MS, "ms"))
    else:
        figures.append(info(f"{label}: PostgreSQL server idle CPU", running["server_cpu"], "% core"))
    return figures


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--consoles", type=int, default=50)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--postgres", default=os.environ.get("TANDEM_TEST_POSTGRES_URL"))
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = []
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            print(f"SQLite, {size:,} products and sales", flush=True)
            figures += measure(f"sqlite:///{Path(directory) / f'scale-{size}.sqlite'}", size, args.consoles,
                               args.idle, "sqlite")
        if args.postgres:
            for size in sizes:
                print(f"PostgreSQL, {size:,} products and sales", flush=True)
                figures += measure(fresh_postgres(args.postgres, f"tandem_scale_{size}"), size, args.consoles,
                                   args.idle, "postgresql")
        else:
            print("PostgreSQL: no server given (--postgres URL or TANDEM_TEST_POSTGRES_URL); SQLite only")
    return figures


def main() -> None:
    if sys.argv[1:2] == ["--console"]:
        return console_process(sys.argv[2])
    if sys.argv[1:2] == ["--watcher"]:
        return watcher_process(*sys.argv[2:5])
    figures = run()
    print()
    print_table(figures)
    sys.exit(1 if any(f.passed is False for f in figures) else 0)


if __name__ == "__main__":
    main()
