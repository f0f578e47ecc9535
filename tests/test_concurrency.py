"""Two staff terminals and the headless sync at the same time, on SQLite (WAL) and PostgreSQL.

The shop's web store is the demo store on a loopback port, speaking Shopify. While `tandem
--sync` runs over and over in its own processes (new web orders keep arriving, quantities go
out), two people work in two Tandem sessions: they resolve listings and complete pickups, and
twice they reach for the same thing. The one who comes second is told, and their change is not
applied over the first one's; no database error reaches either of them; and a second sync
started while one runs is turned away with exit code 3.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import open_database
from core.demo import DEMO_CHANNEL, DEMO_SEED, create_demo_database
from core.demo_store.app import LoopbackServer
from core.demo_store.runtime import build_demo_store
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.models import ProductLink, SaleState, WebSale
from core.secrets import save_secret
from core.settings import Settings
from core.sync import SyncOptions, apply_channel_settings, run_sync
from tui.app import TandemApp
from tui.dialogs.pickup import PickupScreen
from tui.screens.resolver import ResolverScreen

from tests.tui.pilot_helpers import back_home, open_sale, press_and_settle, settle

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "shpat_concurrency_test_token"


def config_for(directory: Path, store_url: str) -> Path:
    """The demo shop's channel, pointed at the web store on loopback instead of the built-in one."""
    config = directory / "config.toml"
    config.write_text(f'[channels."{DEMO_CHANNEL}"]\nplatform = "shopify"\nurl = "{store_url}"\n'
                      f'location = "Main Street"\nstore_location_id = "{LOCATION_ID}"\nexport_time = "00:00"\n')
    save_secret(directory / "secrets.toml", DEMO_CHANNEL, "access_token", TOKEN)
    return config


def more_orders(store, count: int, start: int) -> None:
    """New web orders for the next sync to find."""
    variants = [p.variants[0] for p in store.products[:-1]]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.lock:
        for n in range(start, start + count):
            variant = variants[n % len(variants)]
            store.orders.append(DemoOrder(
                number=90_000 + n, name=f"#W{n}", created_at=stamp, updated_at=stamp, email=f"c{n}@example.com",
                customer=f"Web customer {n}", phone=None, address=["1 Main St"],
                lines=[DemoOrderLine(900_000 + n, variant, "Item", 1, variant.price, Decimal("0.08"))]))


class SyncLoop(threading.Thread):
    """`tandem --sync` again and again in its own processes, as a busy cron would run it."""

    def __init__(self, command: list[str], store):
        super().__init__(daemon=True)
        self.command, self.store = command, store
        self.stop = threading.Event()
        self.results: list[subprocess.CompletedProcess] = []

    def run(self) -> None:
        batch = 0
        while not self.stop.is_set():
            more_orders(self.store, 40, batch * 40)
            batch += 1
            self.results.append(subprocess.run(self.command, cwd=ROOT, capture_output=True, text=True, timeout=120))


@pytest.fixture
def shop(database_url, tmp_path):
    with synced_shop(database_url, tmp_path) as made:
        yield made


@contextmanager
def synced_shop(database_url, tmp_path):
    """The demo shop synced once with its web store on loopback; with the command that syncs it
    again in a process of its own, as cron would."""
    create_demo_database(database_url)
    store = build_demo_store(DEMO_SEED, now=datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
    store.access_token = TOKEN
    with LoopbackServer(store) as server:
        config = config_for(tmp_path, server.url)
        engine = open_database(database_url)
        apply_channel_settings(engine, {DEMO_CHANNEL: {
            "platform": "shopify", "url": server.url, "location": "Main Street",
            "store_location_id": LOCATION_ID, "export_time": "00:00"}})
        # The loopback store's orders carry their own times; one sync takes them in before people start.
        from tests.core.connectors.conftest import shopify

        connector = shopify(server, lambda s: None, token=TOKEN)
        assert run_sync(engine, options=SyncOptions(export_now=True), connectors={DEMO_CHANNEL: connector},
                        log=lambda m: None).exit_code == 0
        command = [sys.executable, "-m", "cli", "--sync", "--export-now", "--db", database_url,
                   "--config", str(config)]
        settings = Settings(config_file=config, config_file_exists=True, data_dir=tmp_path,
                            database_url=database_url, database_source="test")
        yield engine, store, command, settings
        engine.dispose()


def record_notifications(app) -> list[tuple[str, str]]:
    """Every message the app shows, kept (on screen they fade after a few seconds)."""
    shown: list[tuple[str, str]] = []
    show = app.notify

    def notify(message, *args, **kwargs):
        shown.append((str(message), kwargs.get("severity", "information")))
        return show(message, *args, **kwargs)

    app.notify = notify
    return shown


def errors_in(shown: list[tuple[str, str]]) -> list[str]:
    return [message for message, severity in shown if severity == "error" or "locked" in message.lower()]


async def ready_for_pickup(app, pilot) -> list[str]:
    """The orders the inbox shows as ready for pickup, as a person reads them off the screen."""
    await press_and_settle(app, pilot, "s")
    ready = [r.order_number for r in app.screen.page.rows if r.status == "ready for pickup"]
    await press_and_settle(app, pilot, "escape")
    return ready


async def pickup(app, pilot):
    await press_and_settle(app, pilot, "p")
    assert isinstance(app.screen, PickupScreen)
    await press_and_settle(app, pilot, "1", "2", "3", "enter")
    await settle(app, pilot, 0.3)


async def test_two_sessions_and_the_sync_at_once(shop, database_url):
    engine, store, command, settings = shop
    loop = SyncLoop(command, store)
    # Two terminals: each its own process in real life, here each its own connections. Neither
    # re-reads its screen by itself here (tests/tui/test_counter_day.py covers that), so the second
    # acts on what it showed before the first's decision, as a person quicker than the refresh would.
    first = TandemApp(open_database(database_url), settings=settings, hears_changes=False)
    second = TandemApp(open_database(database_url), settings=settings, hears_changes=False)
    first_saw, second_saw = record_notifications(first), record_notifications(second)
    loop.start()
    try:
        async with first.run_test(size=(80, 24)) as one, second.run_test(size=(80, 24)) as two:
            # Both open the same ready sale; the first completes the pickup, then the second tries.
            order = (await ready_for_pickup(first, one))[0]
            await open_sale(first, one, order)
            await open_sale(second, two, order)
            await pickup(first, one)
            await pickup(second, two)
            with engine.connect() as conn:
                sale = conn.execute(select(WebSale.state, WebSale.completed_by, WebSale.version)
                                    .where(WebSale.order_number == order)).one()
            assert sale.state == SaleState.COMPLETED.value
            assert any("Not completed" in message for message, _ in second_saw), second_saw

            # Both open the resolver on the same listing; the first links it, the second is told.
            await back_home(first, one)
            await back_home(second, two)
            await press_and_settle(first, one, "m")
            await press_and_settle(second, two, "m")
            assert isinstance(first.screen, ResolverScreen) and isinstance(second.screen, ResolverScreen)
            listing = first.screen.item.listing_id
            assert second.screen.item.listing_id == listing
            chosen = first.screen.candidates[0].product_id
            await press_and_settle(first, one, "1")
            await press_and_settle(second, two, "2")
            with engine.connect() as conn:
                linked = conn.execute(select(ProductLink.product_id).where(ProductLink.listing_id == listing)).scalar()
            assert linked == chosen, "the first decision stands"
            assert any("already resolved" in message or "someone else" in message
                       for message, _ in second_saw), second_saw

            # Then each works through their own part of the queue while syncs keep running.
            for _ in range(6):
                await press_and_settle(first, one, "1")
                await press_and_settle(second, two, "s")
            # More pickups, one each, on different sales.
            await press_and_settle(first, one, "escape")
            await press_and_settle(second, two, "escape")
            ready = await ready_for_pickup(first, one)
            for app, pilot, order in ((first, one, ready[0]), (second, two, ready[1])):
                await open_sale(app, pilot, order)
                await pickup(app, pilot)
                with engine.connect() as conn:
                    assert conn.execute(select(WebSale.state).where(WebSale.order_number == order)).scalar() == \
                        SaleState.COMPLETED.value
                await back_home(app, pilot)
            assert errors_in(first_saw) == [] and errors_in(second_saw) == []
    finally:
        loop.stop.set()
        loop.join(timeout=180)
    assert len(loop.results) >= 2, "syncs ran all through the sessions"
    assert all(r.returncode == 0 for r in loop.results), [r.stderr for r in loop.results if r.returncode]
    assert not any("locked" in r.stderr.lower() for r in loop.results)
    with engine.connect() as conn:
        web_orders = conn.execute(select(WebSale.id).where(WebSale.order_number.like("#W%"))).all()
    assert len(web_orders) == 40 * len(loop.results), "every order of every sync arrived, once"


def test_a_second_sync_is_turned_away_with_code_3_while_the_first_runs(shop):
    engine, store, command, _ = shop
    # The first sync's first request hangs, lock held, until the second has been turned away:
    # however slowly this machine starts the second process, the first is still running.
    store.timeout_seconds = 28.0  # under the client's own 30 s timeout
    store.fail_next("timeout")
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # a loaded machine may take long to start a process
        while store.faults and time.monotonic() < deadline:
            time.sleep(0.05)  # until the first sync has the lock and its first request hangs
        assert not store.faults, "the first sync never reached the store"
        second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert first.poll() is None, "the first sync was still running"
        assert second.returncode == 3
        assert "another tandem --sync is running" in second.stderr
    finally:
        store.hang_over.set()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
