"""A day at the counter (issue: find anything, see everything, live, at any terminal size): each
point at 80×24 and at 120×36."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from textual.widgets import DataTable

from core.audit import Actor
from core.db import make_engine
from core.demo_store.catalog import DEMO_SEED
from core.demo_store.runtime import demo_store
from core.demo_store.store import DemoOrder, DemoOrderLine
from core.inbox import inbox
from core.models import ProductLink, WebSale
from core.pickup import PickupChecks, complete_sale
from tui.app import TandemApp
from tui.dialogs.pickup import PickupScreen
from tui.screens.catalog import CatalogScreen
from tui.screens.faq import FaqScreen
from tui.screens.home import HomeScreen
from tui.screens.inbox import InboxScreen
from tui.screens.resolver import ResolverScreen
from tui.screens.returns import ReturnsScreen
from tui.screens.syncs import SyncsScreen

from tests.tui.pilot_helpers import open_sale, press_and_settle, settle, settle_until

SIZES = [(80, 24), (120, 36)]
ANNA = Actor("anna", "192.0.2.1")


def cells(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(row)[column]) for row in range(table.row_count)]


def bottom_line(app) -> str:
    return str(app.screen.query_one("#always").render())


async def wait_for(app, pilot, condition, seconds: float = 20.0) -> None:
    """Until `condition()` holds, without pressing anything; the bound is generous, the wait is not."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


# --- layout that adapts ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_look_alike_candidates_stay_told_apart_and_the_queue_fills_the_height(sqlite_demo_engine, size):
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "m")
        await settle(app, pilot, 0.2)
        screen = app.screen
        assert isinstance(screen, ResolverScreen)
        candidates = screen.query_one("#candidates", DataTable)
        names = cells(candidates, 3)
        full = [candidate.description for candidate in screen.candidates]
        assert len(names) == len(full) >= 5
        assert len(set(names)) == len(set(full)), f"cut names that differ must still differ: {names}"
        width = candidates.columns[candidates.ordered_columns[3].key].width
        assert all(len(name) <= width for name in names)
        if size == (120, 36):
            assert names == full, "at 120 columns nothing of a candidate's name is cut"
        queue = screen.query_one("#queue", DataTable)
        shown = queue.size.height - 1
        assert shown >= (15 if size == (120, 36) else 5), "the queue takes the height it is given"
        assert queue.row_count >= shown
        assert "help" in bottom_line(app) and "quit" in bottom_line(app)


@pytest.mark.parametrize("size", SIZES)
async def test_every_screen_says_how_to_get_help_and_leave(sqlite_demo_engine, size):
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=size) as pilot:
        for keys in (["s"], ["escape", "t"], ["escape", "escape", "a"], ["escape", "m"], ["escape", "c"],
                     ["escape", "l"], ["escape", "f"], ["escape", "h"]):
            await press_and_settle(app, pilot, *keys)
            line = bottom_line(app)
            assert "F1 help" in line and "^q quit" in line, (type(app.screen).__name__, line)
            assert app.screen.query_one("#always").region.right <= size[0]
            assert app.screen.query_one("#always").region.width > 0


@pytest.mark.parametrize("size", SIZES)
async def test_the_inbox_page_is_a_screenful_and_pages_with_pgdn(sqlite_demo_engine, size):
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "s")
        table = app.screen.query_one("#sales", DataTable)
        assert len(app.screen.page.rows) == table.size.height - 1, "a page fills the table, no more"
        first = [row.order_number for row in app.screen.page.rows]
        await press_and_settle(app, pilot, "pagedown")
        assert not set(first) & {row.order_number for row in app.screen.page.rows}
        await press_and_settle(app, pilot, "pageup")
        assert [row.order_number for row in app.screen.page.rows] == first
        for column in range(len(table.columns)):
            if column != 2 or size == (120, 36):  # at 80 columns a long customer name may end in "…"
                assert not any(cell.endswith("…") for cell in cells(table, column)), (column, cells(table, column))


# --- search everywhere staff look ----------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_the_inbox_finds_by_name_email_phone_and_a_scan_without_a_key_first(demo_engine, size):
    app = TandemApp(demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "s")
        assert isinstance(app.screen, InboxScreen) and app.screen.query_one("#sales").has_focus
        with demo_engine.connect() as conn:
            sale = conn.execute(select(WebSale.order_number, WebSale.customer_name, WebSale.customer_phone)
                                .where(WebSale.customer_phone.is_not(None), WebSale.state != "completed")
                                .order_by(WebSale.id)).first()
        # A scanner types digits then Enter, with the cursor in the table: the search box takes them.
        await pilot.press(*sale.customer_phone[-4:], "enter")
        await settle(app, pilot, 0.3)
        assert app.screen.query_one("#sales").has_focus, "Enter takes the cursor to what was found"
        found = {row.customer_name if hasattr(row, "customer_name") else row.customer for row in app.screen.page.rows}
        assert found == {sale.customer_name}
        await press_and_settle(app, pilot, "slash")
        await pilot.press(*["backspace"] * 4, *sale.customer_name.split()[-1].lower())
        await settle(app, pilot, 0.4)
        assert {row.customer for row in app.screen.page.rows} == {sale.customer_name}
        assert "matching" in str(app.screen.query_one("#inbox-filter").render())
        await press_and_settle(app, pilot, "escape")
        assert app.screen.query_one("#inbox-search").value == "", "esc clears the search first"
        await settle(app, pilot, 0.3)
        assert app.screen.page.total == inbox(demo_engine).total


@pytest.mark.parametrize("size", SIZES)
async def test_returns_find_a_sale_by_customer_name_and_the_link_dialog_by_name(demo_engine, size):
    with demo_engine.connect() as conn:
        sale = conn.execute(select(WebSale.__table__).where(WebSale.state == "ready", WebSale.shipping_charged == 0)
                            .order_by(WebSale.id)).first()
    complete_sale(demo_engine, sale.id, ANNA, sale.version, checks=PickupChecks(True, True, True))
    app = TandemApp(demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "t")
        assert isinstance(app.screen, ReturnsScreen) and app.screen.query_one("#find").has_focus
        await pilot.press(*sale.customer_name.split()[0].lower(), "enter")
        await settle(app, pilot, 0.4)
        options = app.screen.query_one("#found")
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(text.startswith(sale.order_number) for text in texts), texts


@pytest.mark.parametrize("size", SIZES)
async def test_the_catalog_takes_a_scan_as_soon_as_it_opens(sqlite_demo_engine, size):
    from core.models import Product

    with sqlite_demo_engine.connect() as conn:
        barcode, sku = conn.execute(select(Product.barcode_raw, Product.sku).where(
            Product.barcode_status == "valid").order_by(Product.id)).first()
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "c")
        assert isinstance(app.screen, CatalogScreen)
        await pilot.press(*barcode, "enter")
        await settle(app, pilot, 0.4)
        table = app.screen.query_one("#products", DataTable)
        assert table.has_focus and cells(table, 0) == [sku]


# --- live -----------------------------------------------------------------------------------------------


def add_web_order(number: int, name: str) -> None:
    store = demo_store(DEMO_SEED)
    variant = store.products[0].variants[0]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.lock:
        store.orders.append(DemoOrder(number=number, name=name, created_at=now, updated_at=store.touch(),
                                      email="new.customer@example.com", customer="New Customer", phone=None,
                                      address=["New Customer", "1 Main St"],
                                      lines=[DemoOrderLine(number * 10, variant, store.products[0].title, 1,
                                                           variant.price)]))


@pytest.mark.parametrize("size", SIZES)
async def test_another_terminals_decision_and_a_background_sync_appear_with_the_cursor_kept(demo_engine, size):
    from core.sync.runner import run_sync

    app = TandemApp(demo_engine, refresh_seconds=0.2)
    rings = []
    app.bell = lambda: rings.append(True)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "s", "down", "down", "down")
        screen = app.screen
        table = screen.query_one("#sales", DataTable)
        kept = screen.page.rows[table.cursor_row]
        other = next(row for row in screen.page.rows if row.state == "ready" and row.sale_id != kept.sale_id
                     and row.shipping == 0)
        # A second session (its own connection pool, as another terminal has) completes a pickup.
        second = make_engine(demo_engine.url.render_as_string(hide_password=False))
        try:
            sale = second.connect().execute(select(WebSale.version).where(WebSale.id == other.sale_id)).scalar()
            complete_sale(second, other.sale_id, ANNA, sale, checks=PickupChecks(True, True, True))
            await wait_for(app, pilot, lambda: other.order_number not in [r.order_number for r in screen.page.rows])
            assert screen.page.rows[table.cursor_row].sale_id == kept.sale_id, "the cursor stays on its sale"
            # And a sync runs in the background, from another process's point of view.
            add_web_order(5999, "#1999")
            sync = threading.Thread(target=lambda: run_sync(second, log=lambda message: None))
            sync.start()
            await wait_for(app, pilot, lambda: "#1999" in [r.order_number for r in screen.page.rows])
            sync.join()
        finally:
            second.dispose()
        assert screen.page.rows[table.cursor_row].sale_id == kept.sale_id
        assert any("#1999" in n.message and n.title == "New web sale" for n in app._notifications)
        assert rings, "a sale that needs someone rings the terminal bell"


@pytest.mark.parametrize("size", SIZES)
async def test_the_bell_can_be_turned_off(sqlite_demo_engine, tmp_path, size):
    from core.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text("[console]\nbell = false\nrefresh_seconds = 0.2\n")
    app = TandemApp(sqlite_demo_engine, settings=load_settings(config_path=config, environ={}))
    rings = []
    app.bell = lambda: rings.append(True)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "s")
        await pilot.pause(0.5)
        add_web_order(5998, "#1998")
        app.start_sync()
        await wait_for(app, pilot, lambda: any("#1998" in n.message for n in app._notifications))
        await wait_for(app, pilot, lambda: not app.sync_running)
        assert not rings


@pytest.mark.parametrize("size", SIZES)
async def test_a_sync_started_from_the_console_shows_its_progress_and_results(demo_engine, size):
    app = TandemApp(demo_engine, refresh_seconds=0.2)
    said = []
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot, 0.2)
        original = app._sync_said
        app._sync_said = lambda message: (said.append(message), original(message))
        await press_and_settle(app, pilot, "y")
        assert app.sync_running or said
        await wait_for(app, pilot, lambda: not app.sync_running)
        assert any("web listings read" in message for message in said), said
        assert any(n.title == "Sync finished" and "Demo web store: ok" in n.message for n in app._notifications)
        await settle(app, pilot, 0.5)
        assert isinstance(app.screen, HomeScreen)
        assert "web stores ok" in str(app.screen.query_one("#sync .detail").render())
        await press_and_settle(app, pilot, "h")
        assert isinstance(app.screen, SyncsScreen)
        await settle(app, pilot, 0.2)
        runs = app.screen.query_one("#runs", DataTable)
        assert runs.row_count >= 2 and "new orders" in str(runs.get_row_at(0)[3])
        await press_and_settle(app, pilot, "enter")  # the highlighted store alone
        await wait_for(app, pilot, lambda: not app.sync_running)
        await settle(app, pilot, 0.5)
        assert runs.row_count >= 3


# --- keys one way everywhere ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_question_mark_is_help_unless_it_is_text(sqlite_demo_engine, size):
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "t", "question_mark")
        assert isinstance(app.screen, FaqScreen), "in an empty search box, ? opens the help"
        await press_and_settle(app, pilot, "escape")
        await pilot.press(*"ab", "question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, ReturnsScreen) and app.screen.query_one("#find").value == "ab?"
        await press_and_settle(app, pilot, "f1")
        assert isinstance(app.screen, FaqScreen), "F1 always opens the help"


@pytest.mark.parametrize("size", SIZES)
async def test_the_resolver_explains_on_w_and_undoes_several_decisions(demo_engine, size):
    app = TandemApp(demo_engine)
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "m")
        await settle(app, pilot, 0.2)
        decided = []
        for _ in range(3):
            decided.append(app.screen.item.listing_id)
            await press_and_settle(app, pilot, "1")
            await settle(app, pilot, 0.2)
        with demo_engine.connect() as conn:
            assert set(conn.execute(select(ProductLink.listing_id).where(
                ProductLink.listing_id.in_(decided))).scalars()) == set(decided)
        await press_and_settle(app, pilot, "u")
        await settle(app, pilot, 0.2)
        await press_and_settle(app, pilot, "u")
        await settle(app, pilot, 0.2)
        with demo_engine.connect() as conn:
            assert set(conn.execute(select(ProductLink.listing_id).where(
                ProductLink.listing_id.in_(decided))).scalars()) == {decided[0]}, "the two last, newest first"
        await press_and_settle(app, pilot, "u")
        await settle(app, pilot, 0.2)
        await press_and_settle(app, pilot, "u")
        assert any("Nothing left to undo" in n.message for n in app._notifications)
        await press_and_settle(app, pilot, "w")
        assert type(app.screen).__name__ == "WhyScreen"
        await press_and_settle(app, pilot, "escape", "f1")
        assert isinstance(app.screen, FaqScreen) and app.screen.context == "resolver"


@pytest.mark.parametrize("size", SIZES)
async def test_pickup_checks_read_the_same_without_colour(demo_engine, size):
    number = inbox(demo_engine, status="ready").rows
    number = next(row.order_number for row in number if row.shipping == 0)
    app = TandemApp(demo_engine)
    async with app.run_test(size=size) as pilot:
        await open_sale(app, pilot, number)
        await press_and_settle(app, pilot, "p", "1")
        assert isinstance(app.screen, PickupScreen)
        boxes = {box.id: str(box.render()) for box in app.screen.query("TickBox")}
        assert boxes["card"].startswith("[x]") and boxes["signature"].startswith("[ ]"), boxes


@pytest.mark.parametrize("size", SIZES)
async def test_a_tax_rate_without_a_reason_keeps_the_typed_rate(sqlite_demo_engine, size):
    from tests.tui.test_returns import a_completed_sale_with_shipping, open_return

    number = a_completed_sale_with_shipping(sqlite_demo_engine)
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=size) as pilot:
        await open_return(app, pilot, number)
        await press_and_settle(app, pilot, "plus", "t")
        await pilot.press(*"5.5", "enter", "enter")  # the typed rate replaces the one shown; Enter on no reason
        await settle(app, pilot)
        assert app.screen.query_one("#rate").value == "5.5"
        assert "why" in str(app.screen.query_one("#tax-rate-problem").render())
        await pilot.press(*"exempt item", "enter")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, ReturnsScreen) and app.screen.view.lines[0].tax_rate == Decimal("5.5")


@pytest.mark.parametrize("size", SIZES)
async def test_cancelling_says_what_happens_to_the_web_authorisation(demo_engine, size):
    number = next(row.order_number for row in inbox(demo_engine, status="ready").rows)
    app = TandemApp(demo_engine)
    async with app.run_test(size=size) as pilot:
        await open_sale(app, pilot, number)
        await press_and_settle(app, pilot, "x")
        assert "releases the card authorisation" in app.screen.question
        await press_and_settle(app, pilot, "y")
        await settle(app, pilot, 0.3)
        assert any("Shopify releases" in n.message or "demo web store" in n.message.lower()
                   or "releases the card authorisation" in n.message for n in app._notifications)
        order = next(o for o in demo_store(DEMO_SEED).orders if o.name == number)
        assert order.cancelled_at is not None and order.financial_status == "VOIDED"


# --- first run ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_an_empty_shop_says_what_to_do_first_with_the_commands(tmp_path, size):
    from core.db import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    app = TandemApp(engine)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot, 0.3)
        first_run = app.screen.query_one("#first-run")
        text = str(first_run.render())
        for command in ("tandem --import-catalog", "[channels.", "tandem --paths", "tandem --set-secret",
                        "tandem --sync", "tandem --demo"):
            assert command in text, command
        menu = app.screen.query_one("#menu")
        assert first_run.region.bottom <= menu.region.y
        assert menu.region.bottom <= size[1] - 1, "the whole menu shows above the bottom line"
        assert not app.screen.query_one("#cards").display


# --- pictures (looked at before they were accepted) -------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_syncs_snapshot(snap_compare, sqlite_demo_engine, size):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "h")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES)
def test_first_run_snapshot(snap_compare, tmp_path, size):
    from core.db import open_database

    async def go(pilot):
        await settle(pilot.app, pilot, 0.2)

    engine = open_database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert snap_compare(TandemApp(engine), terminal_size=size, run_before=go)


@pytest.mark.parametrize("keys", [["s"], ["m"], ["s", "enter"], ["c"]], ids=["inbox", "resolver", "sale", "catalog"])
def test_wide_snapshot(snap_compare, sqlite_demo_engine, keys):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, *keys)
        await settle(pilot.app, pilot, 0.2)

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(120, 36), run_before=go)


@pytest.mark.parametrize("size", SIZES)
async def test_a_barcode_scanned_in_the_resolver_searches_and_links_nothing(sqlite_demo_engine, size):
    from sqlalchemy import func

    from core.models import Product

    with sqlite_demo_engine.connect() as conn:
        barcode, sku = conn.execute(select(Product.barcode_raw, Product.sku).where(
            Product.barcode_status == "valid", Product.barcode_raw.like("4%")).order_by(Product.id)).first()
        links = conn.execute(select(func.count()).select_from(ProductLink)).scalar()
    app = TandemApp(sqlite_demo_engine)
    # The scanner's keys arrive together and end with Enter; here no pause may split them, however slow
    # the machine: only Enter (or another key) reads them.
    app.scan_gap = 600
    async with app.run_test(size=size) as pilot:
        await press_and_settle(app, pilot, "m")
        await pilot.press(*barcode, "enter")
        await settle(app, pilot, 0.4)
        screen = app.screen
        assert screen.query_one("#search").display and screen.query_one("#search").value == barcode
        assert [candidate.sku for candidate in screen.candidates] == [sku]
        with sqlite_demo_engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ProductLink)).scalar() == links, "no link was made"


async def test_a_settings_file_written_while_the_console_is_open_is_read_again(tmp_path):
    from core.db import open_database
    from core.settings import load_settings
    from core.shoptime import set_shop_zone

    config = tmp_path / "config.toml"
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    settings = load_settings(db_url=url, config_path=config)
    app = TandemApp(open_database(url), settings=settings, hears_changes=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot, 0.3)
            text = str(app.screen.query_one("#first-run").render())
            assert "→ Set the shop's time zone" in text, "a first run asks for the time zone"
            config.write_text('[shop]\ntime_zone = "America/Toronto"\n')
            await settle_until(app, pilot, lambda: app.settings.time_zone == "America/Toronto", bound=30)
            await settle_until(app, pilot, lambda: "✓ Set the shop's time zone"
                               in str(app.screen.query_one("#first-run").render()), bound=30)
            config.write_text('[shop]\ntime_zone = "Mars/Olympus"\n')  # a typo while editing
            await settle(app, pilot, 2.5)
            assert app.settings.time_zone == "America/Toronto", "a file that cannot be used changes nothing"
    finally:
        set_shop_zone(None)
