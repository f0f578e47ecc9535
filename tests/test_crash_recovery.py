"""Kill `tandem --sync` with SIGKILL anywhere, run it again, and nothing is lost or doubled.

A shop with two web stores (Shopify and WooCommerce, both the demo store on loopback ports) is
synced once cleanly. Then, many times over, the same shop starts from the same state, a sync is
killed at one point (a step of its own, found by counting what the clean run did, or a random
moment), and a second sync runs to the end. After that rerun the database must equal the clean
run's (sales, lines, stock, links, export marks, cursors; on SQLite every table, row for row)
and each store must hold exactly the quantities and prices the clean run left there. The same
runs again, fewer of them, on PostgreSQL.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import DateTime, MetaData, select, text

from core.audit import Actor
from core.catalog_import import import_catalog
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.models import ProductLink, SalesChannel, WebListing
from core.secrets import save_secret

from tests.conftest import BACKENDS, drop_postgres_database, new_postgres_database
from tests.core.connectors.conftest import KEY, SECRET, TOKEN, make_store
from tests.crash_harness import TARGETS

REQUEST = "core.connectors.http:StoreClient.request"

ROOT = Path(__file__).resolve().parents[1]
# (kills at the sync's own steps, kills at random moments): at least 50 on SQLite, where every
# table is compared whole; fewer on PostgreSQL, which repeats the check on a chain's database.
RUNS = {"sqlite": (48, 16), "postgresql": (16, 8)}
# The runs are dealt out in this many parts, each a test of its own, so the suite's workers share
# them instead of one worker running them all (every part builds the same plans, takes its share).
PARTS = 4
# Rows a crashed run legitimately leaves behind: its own "running" sync record, and the change
# sequence, which numbers every write (a killed run and its rerun write more than one clean run).
NOT_COMPARED = {"syncrun", "change"}
# Each copy of the shop has its stores on ports of its own. A listing mirrors what the store said
# when last read: a rerun reads again listings whose price the killed run's export had already
# changed on the store, so it sees the new price. The export marks on the links are what must
# come out the same.
PER_RUN_COLUMNS = {"saleschannel.base_url", "weblisting.price"}
# Edit counters for the optimistic checks count statements, and a rerun's pages break differently
# (two lines for one product in one page are one update, in two pages two); the values they
# guard are compared.
EDIT_COUNTER = "version"
# Cursors whose value is the moment something ran, not what was read: a store's place in the
# change sequence, a number that counts writes (the export marks it stands for are compared), and
# its rate-limit bucket as last seen.
MOMENT_CURSORS = {"matched_at", "changes_exported", "rate_limit"}


def build_stores():
    shopify = make_store(products=520, orders=26, lines=2)
    woo = make_store(products=330, orders=12, lines=3)
    for order in shopify.orders[::5]:
        order.cancelled_at = order.updated_at
    return shopify, woo


def catalog(store) -> bytes:
    """Every web product has its shop product; a few shop prices differ, so prices go out too."""
    rows = ["sku,description,upc,part_number,price,quantity"]
    for _, v in store.variants():
        price = v.price + 1 if v.number % 40 == 0 else v.price
        rows.append(f"POS-{v.number},Product {v.number},{v.barcode},{v.mpn},{price},{v.number % 9}")
    return ("\n".join(rows) + "\n").encode()


class Template:
    """The shop before any sync (its catalog imported, nothing else), copied for each run: a file
    copy on SQLite, a database cloned from it on PostgreSQL."""

    def __init__(self, backend: str, root: Path):
        self.backend, self.root = backend, root
        self._copying = threading.Lock()  # PostgreSQL clones one database from a template at a time
        self.url = f"sqlite:///{root / 'shop.sqlite'}" if backend == "sqlite" else new_postgres_database()
        shopify, _ = build_stores()
        engine = open_database(self.url)
        import_catalog(engine, catalog(shopify), "Main Street", Actor("t"))
        engine.dispose()  # on SQLite the last connection folds the write-ahead log back into the file

    def copy(self, directory: Path) -> str:
        if self.backend == "sqlite":
            shutil.copy(self.root / "shop.sqlite", directory / "shop.sqlite")
            return f"sqlite:///{directory / 'shop.sqlite'}"
        with self._copying:
            return new_postgres_database(self.url)

    def drop(self, url: str) -> None:
        if self.backend == "postgresql":
            drop_postgres_database(url)

    def close(self) -> None:
        self.drop(self.url)


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    made = Template(request.param, tmp_path_factory.mktemp("crash-template"))
    yield made
    made.close()


class Run:
    """One copy of the shop, its two stores on loopback, and `tandem --sync` against them."""

    def __init__(self, template: Template, directory: Path):
        directory.mkdir(parents=True)
        self.directory, self.template = directory, template
        self.url = template.copy(directory)
        self.stores = build_stores()
        self.servers = [LoopbackServer(store).__enter__() for store in self.stores]
        self.config = directory / "config.toml"
        self.config.write_text(
            f'[channels.Web]\nplatform = "shopify"\nurl = "{self.servers[0].url}"\nlocation = "Main Street"\n'
            f'store_location_id = "{LOCATION_ID}"\nexport_time = "00:00"\ntime_zone = "UTC"\n'
            f'[channels.Woo]\nplatform = "woocommerce"\nurl = "{self.servers[1].url}"\nlocation = "Main Street"\n'
            f'export_time = "00:00"\ntime_zone = "UTC"\n')
        secrets = directory / "secrets.toml"
        save_secret(secrets, "Web", "access_token", TOKEN)
        save_secret(secrets, "Woo", "consumer_key", KEY)
        save_secret(secrets, "Woo", "consumer_secret", SECRET)

    def command(self, *harness: str) -> list[str]:
        tandem = ["--sync", "--json", "--db", self.url, "--config", str(self.config)]
        return [sys.executable, "-m", "tests.crash_harness", *harness, "--", *tandem]

    def run(self, *harness: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*harness), cwd=ROOT, capture_output=True, text=True, timeout=300)

    def finish(self) -> subprocess.CompletedProcess:
        rerun = self.run("--count", str(self.directory / "rerun-counts.json"))
        assert rerun.returncode == 0, rerun.stderr
        return rerun

    def close(self) -> None:
        for server in self.servers:
            server.__exit__(None, None, None)
        self.template.drop(self.url)

    def store_state(self) -> list[dict]:
        return [{v.number: (v.available[LOCATION_ID], v.price) for _, v in store.variants()} for store in self.stores]

    def export_marks(self) -> dict[str, dict[int, tuple]]:
        """Per channel: variant number -> (quantity, price) the links say the store accepted."""
        engine = open_database(self.url)
        with engine.connect() as conn:
            rows = conn.execute(
                select(SalesChannel.name, WebListing.external_id, ProductLink.last_exported_quantity,
                       ProductLink.last_exported_price)
                .join(WebListing, WebListing.id == ProductLink.listing_id)
                .join(SalesChannel, SalesChannel.id == ProductLink.channel_id)).all()
        engine.dispose()
        marks: dict[str, dict[int, tuple]] = {}
        for channel, external_id, quantity, price in rows:
            number = int(external_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
            marks.setdefault(channel, {})[number] = (quantity, price)
        return marks

    def database_state(self) -> dict[str, list[tuple]]:
        engine = open_database(self.url)
        try:
            state = business_state(engine)
            if self.template.backend == "sqlite":
                # Row ids come out the same on SQLite, so every table can be compared whole. (On
                # PostgreSQL a killed transaction still uses up sequence numbers.)
                state |= every_table(engine)
            return state
        finally:
            engine.dispose()


def business_state(engine) -> dict[str, list[tuple]]:
    """What the shop knows, by the names people and stores use, not by row ids."""
    queries = {
        "sales": "SELECT c.name, s.external_id, s.order_number, s.state, s.fulfillment, s.remote_status, s.total, "
                 "s.authorized_amount, s.captured_amount, s.customer_email, s.held_until IS NULL "
                 "FROM websale s JOIN saleschannel c ON c.id = s.channel_id",
        "sale lines": "SELECT s.external_id, l.external_id, p.sku, l.quantity, l.unit_price, l.stock_state "
                      "FROM websaleline l JOIN websale s ON s.id = l.sale_id LEFT JOIN product p ON p.id = l.product_id",
        "stock": "SELECT p.sku, loc.name, st.on_hand, st.committed FROM stock st "
                 "JOIN product p ON p.id = st.product_id JOIN location loc ON loc.id = st.location_id",
        "links": "SELECT c.name, w.external_id, w.match_state, p.sku, k.manual, k.last_exported_quantity, "
                 "k.last_exported_price FROM productlink k JOIN weblisting w ON w.id = k.listing_id "
                 "JOIN saleschannel c ON c.id = k.channel_id LEFT JOIN product p ON p.id = k.product_id",
        "listings": "SELECT c.name, w.external_id, w.match_state FROM weblisting w "
                    "JOIN saleschannel c ON c.id = w.channel_id",
        "cursors": "SELECT c.name, sc.name, sc.value FROM synccursor sc JOIN saleschannel c ON c.id = sc.channel_id "
                   f"WHERE sc.name NOT IN ({', '.join(repr(m) for m in MOMENT_CURSORS)})",
    }
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(text(sql)).all()), key=repr) for name, sql in queries.items()}


def every_table(engine) -> dict[str, list[tuple]]:
    """Every table but the sync records, without the columns that say when a row was written."""
    metadata = MetaData()
    metadata.reflect(engine)
    state = {}
    with engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            if name in NOT_COMPARED:
                continue
            columns = [c for c in table.columns
                       if not isinstance(c.type, DateTime) and c.name != EDIT_COUNTER
                       and f"{name}.{c.name}" not in PER_RUN_COLUMNS]
            query = select(*columns)
            if name == "synccursor":
                query = query.where(table.c.name.not_in(MOMENT_CURSORS))
            state[f"table {name}"] = sorted(conn.execute(query).all(), key=repr)
    return state


@pytest.fixture(scope="module")
def clean(template, tmp_path_factory):
    """The reference: one sync that nobody interrupts, and how many times it took each step."""
    run = Run(template, tmp_path_factory.mktemp("clean") / "run")
    counts_file = run.directory / "counts.json"
    finished = run.run("--count", str(counts_file))
    try:
        assert finished.returncode == 0, finished.stderr
        report = json.loads(finished.stdout)
        assert [c["status"] for c in report["channels"]] == ["ok", "ok"]
        yield {"database": run.database_state(), "stores": run.store_state(), "marks": run.export_marks(),
               "counts": json.loads(counts_file.read_text()), "report": report}
    finally:
        run.close()


def kill_points(counts: dict[str, int], rng: random.Random) -> list[tuple]:
    """Every step of the clean run, before and after its first, second, middle and last call."""
    points = []
    for target in TARGETS:
        total = counts.get(target, 0)
        for nth in sorted({1, 2, (total + 1) // 2, total} - {0}):
            if nth <= total:
                points += [(target, nth, "before"), (target, nth, "after")]
    rng.shuffle(points)
    return points


def test_the_clean_run_goes_through_every_step(clean):
    """The kill points below are only as good as the steps they come from."""
    counts = clean["counts"]
    assert all(counts.get(target, 0) > 0 for target in TARGETS), counts
    assert counts["core.sync.runner:store_orders"] >= 8, "several pages of orders"
    assert counts["core.connectors.shopify:ShopifyConnector.set_stock"] >= 3, "several export batches"
    assert counts["core.connectors.woocommerce:WooCommerceConnector.set_stock"] >= 4
    assert clean["report"]["channels"][0]["orders_imported"] == 26
    quantities = {n: available for n, (available, _) in clean["stores"][0].items()}
    assert any(q != 1 for q in quantities.values()), "the export changed the store's quantities"


@pytest.mark.parametrize("part", range(PARTS))
def test_a_sync_killed_at_any_point_and_rerun_ends_as_a_clean_run_does(template, clean, tmp_path, part):
    rng = random.Random(20261127)
    step_runs, random_runs = RUNS[template.backend]
    steps = kill_points(clean["counts"], rng)
    assert len(steps) >= step_runs
    plans = [("step", point) for point in steps[:step_runs]]
    # Random moments, placed by the run's own progress rather than by the clock (a loaded machine
    # must not move them past the end): a random request of the clean run, then a random wait.
    requests = clean["counts"][REQUEST]
    plans += [("random", (REQUEST, rng.randint(1, requests), rng.uniform(0, 0.05))) for _ in range(random_runs)]

    def crash_and_rerun(numbered):
        number, (kind, point) = numbered
        run = Run(template, tmp_path / f"run-{number}")
        try:
            if kind == "step":
                target, nth, when = point
                crashed = run.run(target, str(nth), when)
            else:
                target, nth, delay = point
                crashed = run.run("--within", target, str(nth), f"{delay:.4f}")
            assert crashed.returncode == -signal.SIGKILL, (point, crashed.stderr)
            run.finish()
            return kind, point, crashed.returncode, run.database_state(), run.store_state()
        finally:
            run.close()

    pool = ThreadPoolExecutor(max_workers=2)  # two cores: a crash and a rerun of another copy overlap
    try:
        mine = [(number, plan) for number, plan in enumerate(plans) if number % PARTS == part]
        for kind, point, code, database, stores in pool.map(crash_and_rerun, mine):
            differing = [table for table in clean["database"] if database[table] != clean["database"][table]]
            assert not differing, (f"{differing} differ after a kill at {point}",
                                   [(set(database[t]) ^ set(clean["database"][t])) for t in differing])
            assert stores == clean["stores"], f"a store's quantities or prices differ after a kill at {point}"
    finally:
        pool.shutdown(cancel_futures=True)


def test_the_export_marks_record_exactly_what_each_store_holds(clean):
    """What the database says each store accepted is what each store has, so a rerun resends
    nothing that arrived and skips nothing that did not."""
    marks = clean["marks"]
    assert set(marks) == {"Web", "Woo"}
    for channel, store in zip(("Web", "Woo"), clean["stores"]):
        assert len(marks[channel]) == len(store)
        assert marks[channel] == store, f"{channel}: marks and store disagree"
