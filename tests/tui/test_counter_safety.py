"""Counter paths that once lost money or left a sale stuck, walked from the keyboard at 80x24 on the
demo shop and checked in the database: `s` never completes a pickup, a sale screen offers only what
its state allows, a link made from a sale can be undone there, a listing marked "not sold online"
leaves no sale stranded, and no letter typed in a search ever quits Tandem."""

from sqlalchemy import func, select

from core.models import Payment, ProductLink, Stock, WebSale, WebSaleLine
from tui.app import TandemApp
from tui.screens.catalog import CatalogScreen
from tui.dialogs.confirm import ConfirmScreen
from tui.dialogs.pickup import PickupScreen
from tui.screens.resolver import ResolverScreen
from tui.screens.returns import ReturnsScreen
from tui.screens.sale import SaleScreen

from tests.tui.pilot_helpers import open_sale, press_and_settle, settle


def sale_row(engine, order_number):
    with engine.connect() as conn:
        return conn.execute(select(WebSale.__table__).where(WebSale.order_number == order_number)).one()


def payments(engine, sale_id) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Payment).where(Payment.sale_id == sale_id)).scalar()


def committed(engine) -> dict:
    with engine.connect() as conn:
        return {(p, l): c for p, l, c in conn.execute(select(Stock.product_id, Stock.location_id, Stock.committed))}


def footer_keys(app) -> set[str]:
    return {binding.action for _, binding, enabled, _ in app.screen.active_bindings.values() if enabled}


async def first_number(app, pilot, predicate) -> str:
    await press_and_settle(app, pilot, "s")
    number = next(r.order_number for r in app.screen.page.rows if predicate(r))
    await press_and_settle(app, pilot, "escape")
    return number


async def test_s_on_a_pickup_sale_neither_completes_nor_captures(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await first_number(app, pilot, lambda r: r.status == "ready for pickup")
        await open_sale(app, pilot, number)
        assert "shipped" not in footer_keys(app) and "pickup" in footer_keys(app)
        await press_and_settle(app, pilot, "s")
        await press_and_settle(app, pilot, "y")  # even a reflex "yes" finds no question to answer
        sale = sale_row(demo_engine, number)
        assert sale.state == "ready" and payments(demo_engine, sale.id) == 0
        assert isinstance(app.screen, SaleScreen)


async def test_shipped_asks_first_on_a_sale_the_shop_ships(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await first_number(app, pilot, lambda r: r.status == "ready to ship")
        await open_sale(app, pilot, number)
        assert "pickup" not in footer_keys(app), "no pickup checks for a sale that ships"
        await press_and_settle(app, pilot, "p")
        assert not isinstance(app.screen, PickupScreen)
        await press_and_settle(app, pilot, "s")
        assert isinstance(app.screen, ConfirmScreen)
        await press_and_settle(app, pilot, "n")
        assert sale_row(demo_engine, number).state == "ready"
        await press_and_settle(app, pilot, "s", "y")
        await settle(app, pilot, 0.2)
        sale = sale_row(demo_engine, number)
        assert sale.state == "completed" and payments(demo_engine, sale.id) == 1


async def test_a_completed_sale_offers_no_pickup_nor_any_other_action(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "s", "h")
        rows = app.screen.page.rows
        index = next(i for i, r in enumerate(rows) if r.state == "completed")
        for _ in range(index):
            await pilot.press("down")
        await press_and_settle(app, pilot, "enter")
        assert isinstance(app.screen, SaleScreen) and app.screen.detail.sale.state == "completed"
        offered = footer_keys(app)
        assert not offered & {"pickup", "shipped", "gift_card", "resolve", "cancel_sale", "undo_match", "customer"}
        await press_and_settle(app, pilot, "p")
        assert isinstance(app.screen, SaleScreen), "no pickup dialog on a completed sale"
        await press_and_settle(app, pilot, "x")
        assert isinstance(app.screen, SaleScreen)


async def test_a_link_made_from_a_sale_is_undone_there_with_its_stock(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        number = await first_number(app, pilot, lambda r: r.state == "waiting_match")
        await open_sale(app, pilot, number)
        lines = app.screen.detail.lines
        waiting = next(i for i, line in enumerate(lines) if line.needs_product and line.in_resolver)
        listing = lines[waiting].listing_id
        for _ in range(waiting):
            await pilot.press("down")
        before = committed(demo_engine)
        await press_and_settle(app, pilot, "m")
        assert isinstance(app.screen, ResolverScreen)
        await press_and_settle(app, pilot, "1")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, SaleScreen)
        assert app.screen.detail.lines[waiting].sku is not None
        assert "undo_match" in footer_keys(app), "the sale screen offers the u the resolver promised"
        await press_and_settle(app, pilot, "u")
        await settle(app, pilot, 0.2)
        with demo_engine.connect() as conn:
            assert conn.execute(select(ProductLink.id).where(ProductLink.listing_id == listing,
                                                             ProductLink.manual.is_(True))).first() is None
        assert app.screen.detail.lines[waiting].sku is None
        assert sale_row(demo_engine, number).state == "waiting_match"
        assert committed(demo_engine) == before, "undo gives back exactly the units the link committed"


async def test_not_sold_online_asks_with_the_count_and_strands_no_sale(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "m")
        assert isinstance(app.screen, ResolverScreen)
        item = app.screen.item
        assert item.waiting_lines > 0, "the queue starts with listings holding up sales"
        await press_and_settle(app, pilot, "x")
        assert isinstance(app.screen, ConfirmScreen)
        assert f"{item.waiting_lines} line" in app.screen.question
        await press_and_settle(app, pilot, "y", "escape")
        with demo_engine.connect() as conn:
            line_id, number = conn.execute(
                select(WebSaleLine.id, WebSale.order_number).join(WebSale, WebSale.id == WebSaleLine.sale_id)
                .where(WebSaleLine.listing_id == item.listing_id, WebSaleLine.product_id.is_(None))).first()
        await open_sale(app, pilot, number)
        lines = app.screen.detail.lines
        index = next(i for i, line in enumerate(lines) if line.id == line_id)
        for _ in range(index):
            await pilot.press("down")
        assert "resolve" in footer_keys(app), "the stranded line can still be given a product"
        await press_and_settle(app, pilot, "m")
        assert isinstance(app.screen, CatalogScreen) and app.screen.pick_for is not None
        await settle(app, pilot, 0.2)
        await press_and_settle(app, pilot, "enter")  # out of the search box to the list
        await press_and_settle(app, pilot, "enter")  # choose the highlighted product
        await settle(app, pilot, 0.2)
        if isinstance(app.screen, ConfirmScreen):  # its shop price is far from the web price: asked first
            assert "Put the line on" in app.screen.question
            await press_and_settle(app, pilot, "y")
            await settle(app, pilot, 0.2)
        assert isinstance(app.screen, SaleScreen)
        with demo_engine.connect() as conn:
            assert conn.execute(select(WebSaleLine.product_id).where(WebSaleLine.id == line_id)).scalar() is not None
        assert sale_row(demo_engine, number).state != "waiting_match" or any(
            line.needs_product for line in app.screen.detail.lines)


async def test_letters_typed_in_returns_never_quit(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "t")
        assert isinstance(app.screen, ReturnsScreen)
        await pilot.press(*"quinn")
        await press_and_settle(app, pilot, "enter")  # the search moves focus to the list of sales found
        await pilot.press(*"quentin q")
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, ReturnsScreen)
        await press_and_settle(app, pilot, "escape")
        assert app.is_running and not isinstance(app.screen, ReturnsScreen), "esc is back"
