"""The sales inbox, a sale, and its actions, from the keyboard, checked in the database."""

from sqlalchemy import select
from textual import events

from core.models import AuditEntry, GiftCard, Payment, WebSale
from tui.app import TandemApp
from tui.dialogs.pickup import PickupScreen
from tui.screens.resolver import ResolverScreen
from tui.screens.sale import SaleScreen

from tests.tui.pilot_helpers import open_sale, press_and_settle, settle, settle_until


def sale_row(engine, order_number):
    with engine.connect() as conn:
        return conn.execute(select(WebSale.__table__).where(WebSale.order_number == order_number)).one()


def first_with(app, state):
    """The newest open sale in `state` (the inbox's status filter shows the same)."""
    from core.inbox import inbox

    return inbox(app.engine(), status=state).rows[0].order_number


async def test_the_inbox_lists_open_sales_newest_first_and_filters(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "s")
        rows = list(app.screen.page.rows)
        assert len(rows) == 18, "a page is what the table shows at 80×24"
        while app.screen.page.has_more:
            await press_and_settle(app, pilot, "pagedown")
            rows += app.screen.page.rows
        assert len(rows) == 37 and all(a.ordered_at >= b.ordered_at for a, b in zip(rows, rows[1:]))
        assert {r.status.split(" until")[0] for r in rows} >= {"ready for pickup", "needs match", "held", "gift card to issue"}
        await press_and_settle(app, pilot, "pageup", "pageup")
        assert app.screen.page.rows == rows[:18]
        await press_and_settle(app, pilot, "f", "f")
        assert {r.state for r in app.screen.page.rows} == {"waiting_match"}
        await press_and_settle(app, pilot, "h")
        assert {r.state for r in app.screen.page.rows} == {"cancelled", "completed"}
        await press_and_settle(app, pilot, "h", "c")
        assert "from Demo web store" in str(app.screen.query_one("#inbox-filter").render())
        assert app.screen.page.total == 37


async def open_pickup_checks(app, pilot) -> str:
    """The pickup checks of the newest sale picked up at the counter, reached as staff reach them."""
    await press_and_settle(app, pilot, "s")
    number = next(r.order_number for r in app.screen.page.rows if r.status == "ready for pickup")
    await press_and_settle(app, pilot, "escape")
    await open_sale(app, pilot, number)
    await press_and_settle(app, pilot, "p")
    return number


async def test_complete_pickup_with_the_three_checks(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await open_pickup_checks(app, pilot)
        assert isinstance(app.screen, PickupScreen)
        await press_and_settle(app, pilot, "1", "2", "enter")
        assert isinstance(app.screen, PickupScreen), "two checks out of three are not enough"
        await press_and_settle(app, pilot, "3", "enter")
        await settle(app, pilot, 0.2)
        sale = sale_row(demo_engine, number)
        assert sale.state == "completed" and sale.completed_by
        with demo_engine.connect() as conn:
            assert conn.execute(select(Payment.amount).where(Payment.sale_id == sale.id)).scalar() == sale.total
        await press_and_settle(app, pilot, "escape")
        assert number not in [r.order_number for r in app.screen.page.rows], "completed sales leave the inbox"


async def test_the_checks_and_enter_typed_in_one_burst_complete_the_pickup(sqlite_demo_engine):
    """1, 2, 3, Enter as fast as a person (or a macro key) types them: read in that order, never
    Enter first and the checks after."""
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await open_pickup_checks(app, pilot)
        # As a terminal delivers them: all four keys queued before the first is handled.
        for key, character in (("1", "1"), ("2", "2"), ("3", "3"), ("enter", "\r")):
            event = events.Key(key, character)
            event.set_sender(app)
            app._driver.send_message(event)
        await settle(app, pilot, 0.3)
        assert sale_row(sqlite_demo_engine, number).state == "completed"


async def issue_a_card(app, pilot, card: str) -> str:
    """As staff do: the inbox's first sale with a card to issue, opened, g and the card's number.
    Returns the sale's order number."""
    await press_and_settle(app, pilot, "s")
    number = first_with(app, "gift_card_to_issue")
    await press_and_settle(app, pilot, "escape")
    await open_sale(app, pilot, number)
    await press_and_settle(app, pilot, "g")
    await pilot.press(*card, "enter")
    await settle_until(app, pilot, lambda: any(line.gift_card == card for line in app.screen.detail.lines))
    return number


async def test_issue_a_gift_card_from_the_sale(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await issue_a_card(app, pilot, "GC-7001")
        with demo_engine.connect() as conn:
            assert conn.execute(select(GiftCard.number, GiftCard.balance)).one() == ("GC-7001", sale_row(demo_engine, number).total)
        assert sale_row(demo_engine, number).state == "ready"


async def test_a_line_that_needs_a_match_jumps_to_the_resolver_and_back(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "s")
        number = first_with(app, "waiting_match")
        await press_and_settle(app, pilot, "escape")
        await open_sale(app, pilot, number)
        lines = app.screen.detail.lines
        for _ in range(next(i for i, line in enumerate(lines) if line.sku is None)):
            await pilot.press("down")
        await press_and_settle(app, pilot, "m")
        assert isinstance(app.screen, ResolverScreen) and app.screen.page.total == 1
        await press_and_settle(app, pilot, "1")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, SaleScreen), "back on the sale once the line is resolved"
        assert all(line.sku for line in app.screen.detail.lines) or sale_row(demo_engine, number).state != "waiting_match"


async def test_cancel_asks_first_and_releases_stock(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "s")
        number = next(r.order_number for r in app.screen.page.rows if r.status == "ready to ship")
        await press_and_settle(app, pilot, "escape")
        await open_sale(app, pilot, number)
        await press_and_settle(app, pilot, "x", "n")
        assert sale_row(demo_engine, number).state == "ready"
        await press_and_settle(app, pilot, "x", "y")
        await settle(app, pilot, 0.2)
        assert sale_row(demo_engine, number).state == "cancelled"
        with demo_engine.connect() as conn:
            assert conn.execute(select(AuditEntry.action).where(AuditEntry.action == "cancel")).scalar() == "cancel"


def test_inbox_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "s")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


def test_sale_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "s", "enter")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


def test_pickup_checks_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "s")
        number = next(r.order_number for r in pilot.app.screen.page.rows if r.status == "ready for pickup")
        await press_and_settle(pilot.app, pilot, "escape")
        await open_sale(pilot.app, pilot, number)
        await press_and_settle(pilot.app, pilot, "p", "1")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


async def test_a_wrong_product_is_picked_again_after_a_price_question_and_undone(sqlite_demo_engine):
    """m on a line that already has its product opens the pick list; a product at another price asks
    first, showing both prices; u then takes exactly that pick back."""
    from core.models import Product, WebSaleLine
    from tui.dialogs.confirm import ConfirmScreen
    from tui.screens.catalog import CatalogScreen

    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "s")
        number = first_with(app, "ready")
        await press_and_settle(app, pilot, "escape")
        await open_sale(app, pilot, number)
        line = app.screen.detail.lines[0]
        assert line.sku and not line.gift_card_placeholder
        await press_and_settle(app, pilot, "m")
        assert isinstance(app.screen, CatalogScreen) and app.screen.pick_for == line.title
        table = app.screen.query_one("#products")
        rows = app.screen.page.rows
        other = next(i for i, row in enumerate(rows) if row.sku != line.sku
                     and abs(row.price - line.unit_price) > line.unit_price / 20)
        table.focus()
        table.move_cursor(row=other)
        await press_and_settle(app, pilot, "enter")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, ConfirmScreen), "a pick at another price asks first"
        question = app.screen.question
        assert rows[other].sku in question and f"{line.unit_price:.2f}" in question and f"{rows[other].price:.2f}" in question
        await press_and_settle(app, pilot, "y")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, SaleScreen) and app.screen.detail.lines[0].sku == rows[other].sku
        await press_and_settle(app, pilot, "u")
        await settle(app, pilot, 0.2)
        assert app.screen.detail.lines[0].sku == line.sku, "u took back exactly the pick"
        with sqlite_demo_engine.connect() as conn:
            by_hand = conn.execute(select(WebSaleLine.product_by_hand).where(WebSaleLine.id == line.id)).scalar()
            assert conn.execute(select(Product.sku).join(WebSaleLine, WebSaleLine.product_id == Product.id)
                                .where(WebSaleLine.id == line.id)).scalar() == line.sku
        assert not by_hand


async def test_gift_cancelling_a_sale_with_a_card_says_so_before_and_after(sqlite_demo_engine):
    """The question names the card to take back; the notice says what was taken back; the sale then
    shows the card voided and that nothing was captured."""
    from tui.dialogs.confirm import ConfirmScreen

    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await issue_a_card(app, pilot, "GC-7002")
        await press_and_settle(app, pilot, "x")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Gift card GC-7002 is voided: take the card back." in app.screen.question
        await press_and_settle(app, pilot, "y")
        await settle(app, pilot, 0.3)
        total = sale_row(sqlite_demo_engine, number).total
        assert any(f"Gift card GC-7002 voided: ${total:,.2f} taken back." in n.message for n in app._notifications)
        lines = {str(cell) for row in app.screen.query_one("#sale-lines").rows_data for cell in row[1]}
        assert "card GC-7002 (voided)" in lines
        assert "cancelled: nothing was captured" in str(app.screen.query_one("#sale-payment").render())
    with sqlite_demo_engine.connect() as conn:
        assert conn.execute(select(GiftCard.balance)).scalar() == 0


async def test_a_woocommerce_pickup_does_not_promise_a_capture_it_leaves_to_the_gateway(sqlite_demo_engine):
    from core.inbox import inbox
    from core.models import SalesChannel

    from sqlalchemy import update

    from core.demo import DEMO_SECOND_CHANNEL

    row = next(r for r in inbox(sqlite_demo_engine).rows if r.state == "ready" and not r.shipping)
    with sqlite_demo_engine.begin() as conn:  # a pickup sold on the demo's WooCommerce store
        woo = conn.execute(select(SalesChannel.id).where(SalesChannel.name == DEMO_SECOND_CHANNEL)).scalar()
        conn.execute(update(WebSale).where(WebSale.id == row.sale_id).values(channel_id=woo))
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot)
        app.push_screen(SaleScreen(row.sale_id))
        await press_and_settle(app, pilot, "p")
        assert isinstance(app.screen, PickupScreen)
        title = str(app.screen.query_one("#pickup-title").render())
        assert "recorded as captured by the website's payment gateway" in title and "will be captured" not in title
