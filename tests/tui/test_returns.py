"""The returns and tax editor, from the keyboard: the whole flow and its refusals."""

from decimal import Decimal

from sqlalchemy import select

from core.i18n import money
from core.audit import Actor
from core.models import AuditEntry, Payment, ReturnLine, SaleReturn, WebSale, WebSaleLine
from core.pickup import complete_sale
from tui.app import TandemApp
from tui.dialogs.tax_rate import TaxRateScreen
from tui.screens.returns import ReturnsScreen

from tests.tui.pilot_helpers import press_and_settle, settle


def a_completed_sale_with_shipping(engine) -> str:
    with engine.connect() as conn:
        sale = next(s for s in conn.execute(
            select(WebSale.__table__).where(WebSale.state == "ready", WebSale.shipping_charged > 0).order_by(WebSale.id))
            if conn.execute(select(WebSaleLine.tax_rate).where(WebSaleLine.sale_id == s.id)
                            .order_by(WebSaleLine.id)).first()[0] > 0)
    complete_sale(engine, sale.id, Actor("anna"), sale.version, pickup=False)
    return sale.order_number


async def open_return(app, pilot, order_number):
    await press_and_settle(app, pilot, "t")
    assert isinstance(app.screen, ReturnsScreen)
    await pilot.press(*order_number, "enter")
    await settle(app, pilot)
    await press_and_settle(app, pilot, "enter")
    assert app.screen.view is not None and app.screen.view.order_number == order_number


async def test_the_whole_return_flow(demo_engine):
    number = a_completed_sale_with_shipping(demo_engine)
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_return(app, pilot, number)
        first = app.screen.view.lines[0]
        assert first.charged_tax_rate > 0, "the demo sale's first line was taxed online"
        await press_and_settle(app, pilot, "plus")
        assert app.screen.view.lines[0].quantity == -1
        await press_and_settle(app, pilot, "t")
        await pilot.press(*"0", "enter", *"untaxed online", "enter")
        await settle(app, pilot, 0.2)
        assert app.screen.view.lines[0].tax_rate == Decimal("0")
        await press_and_settle(app, pilot, "s")
        assert app.screen.view.lines[-1].is_shipping and app.screen.view.lines[-1].quantity == -1
        total = app.screen.view.totals[2]
        assert f"total {money(total)}" in str(app.screen.query_one("#refund-total").render())
        await press_and_settle(app, pilot, "c", "y")
        await settle(app, pilot, 0.2)
        assert app.screen.view.state == "completed"
        # A posted return offers nothing more: no key named, none in the footer.
        assert "units" not in str(app.screen.query_one("#refund-total").render())
        enabled = {b.action for _k, b, on, _t in app.active_bindings.values() if on}
        assert not {"more", "less", "tax", "restock", "shipping", "amount", "confirm"} & enabled
    with demo_engine.connect() as conn:
        posted = conn.execute(select(SaleReturn.refund_total, SaleReturn.state)).one()
        refund = conn.execute(select(Payment.amount).where(Payment.amount < 0)).scalar()
        audit = conn.execute(select(AuditEntry.note).where(AuditEntry.action == "tax_rate")).scalar()
    assert posted == (total, "completed") and refund == total
    assert audit == "untaxed online"


async def test_impossible_input_is_refused_and_nothing_changes(demo_engine):
    number = a_completed_sale_with_shipping(demo_engine)
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_return(app, pilot, number)
        sold = app.screen.view.lines[0].sold
        await press_and_settle(app, pilot, *["plus"] * (sold + 1))
        assert app.screen.view.lines[0].quantity == -sold
        assert any("can still come back" in n.message for n in app._notifications)
        before = app.screen.view.lines[0].tax_rate
        await press_and_settle(app, pilot, "t")
        await pilot.press(*"150", "enter", *"typo", "enter")
        await settle(app, pilot, 0.2)
        dialog = app.screen
        assert isinstance(dialog, TaxRateScreen), "a refused rate keeps the dialog open"
        assert "between 0 and 100" in str(dialog.query_one("#tax-rate-problem").render())
        assert (dialog.query_one("#rate").value, dialog.query_one("#reason").value) == ("150", "typo"), \
            "what was typed is kept"
        assert dialog.query_one("#rate").has_focus, "the cursor is on the field to correct"
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.view.lines[0].tax_rate == before
        await press_and_settle(app, pilot, "s")
        shipping = app.screen.view.lines[-1]
        await press_and_settle(app, pilot, *["down"] * (len(app.screen.view.lines) - 1), "a")
        await pilot.press(*"99.00", "enter")
        await settle(app, pilot, 0.2)
        assert app.screen.view.lines[-1].unit_price == shipping.unit_price
        assert any("at most the" in n.message for n in app._notifications)
        await press_and_settle(app, pilot, "a")
        await pilot.press(*"5.00", "enter")
        await settle(app, pilot, 0.2)
        assert app.screen.view.lines[-1].unit_price == Decimal("5.00")
        await press_and_settle(app, pilot, *["up"] * len(app.screen.view.lines))
        await press_and_settle(app, pilot, "minus")
        await press_and_settle(app, pilot, *["minus"] * sold)
        assert app.screen.view.lines[0].quantity == 0
        assert app.screen.view.lines[-1].quantity == -1, "the shipping refund remains"
    with demo_engine.connect() as conn:
        assert conn.execute(select(SaleReturn.state)).scalar() == "draft"
        assert conn.execute(select(ReturnLine.quantity)).scalars().all().count(0) >= 1


def test_returns_snapshot_80x24(snap_compare, sqlite_demo_engine):
    number = a_completed_sale_with_shipping(sqlite_demo_engine)

    async def go(pilot):
        await open_return(pilot.app, pilot, number)
        await press_and_settle(pilot.app, pilot, "plus", "s")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


def test_accounts_snapshot_80x24(snap_compare, sqlite_demo_engine):
    from tests.tui.conftest import PINNED_SYNC_TIME
    from tui.screens.accounts import AccountsScreen

    async def go(pilot):
        await settle(pilot.app, pilot)
        pilot.app.push_screen(AccountsScreen(day=PINNED_SYNC_TIME.astimezone().date()))
        await settle(pilot.app, pilot)

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


async def test_a_is_the_accounts_screen_and_e_changes_an_account(demo_engine):
    from core.models import PaymentType
    from tui.screens.accounts import AccountsScreen

    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "a")
        assert isinstance(app.screen, AccountsScreen)
        await press_and_settle(app, pilot, "e")
        await pilot.press("end", *" (Stripe)", "enter")
        await settle(app, pilot, 0.2)
        await press_and_settle(app, pilot, "p")
    with demo_engine.connect() as conn:
        online = conn.execute(select(PaymentType.account, PaymentType.card_present).where(PaymentType.name == "Online card")).one()
    assert online == ("Online merchant account (Stripe)", False), "an online payment never becomes card-present"


async def test_plus_pressed_twice_in_a_burst_brings_back_two_units(sqlite_demo_engine):
    """Both presses reach the screen before the first is saved, as a fast hand or a held key sends
    them: each counts, from what is saved rather than from what the screen last showed."""
    from textual import events

    with sqlite_demo_engine.begin() as conn:
        sale = conn.execute(select(WebSale.__table__).join(WebSaleLine, WebSaleLine.sale_id == WebSale.id)
                            .where(WebSale.state == "ready", WebSaleLine.quantity >= 2).order_by(WebSale.id)).first()
    complete_sale(sqlite_demo_engine, sale.id, Actor("anna"), sale.version, pickup=False)
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_return(app, pilot, sale.order_number)
        row = next(i for i, line in enumerate(app.screen.view.lines) if line.sold >= 2)
        for _ in range(row):
            await pilot.press("down")
        await settle(app, pilot)
        for _ in range(2):
            event = events.Key("plus", "+")
            event.set_sender(app)
            app._driver.send_message(event)
        await settle(app, pilot, 0.3)
        await app.workers.wait_for_complete()
        await settle(app, pilot, 0.1)
        line_id = app.screen.view.lines[row].id
        assert app.screen.view.lines[row].quantity == -2, "the screen shows both presses"
    with sqlite_demo_engine.connect() as conn:
        assert conn.execute(select(ReturnLine.quantity).where(ReturnLine.id == line_id)).scalar() == -2


async def test_a_draft_overtaken_by_another_terminal_offers_to_redo_it(sqlite_demo_engine):
    from core.returns import complete_return, return_view, set_quantity, start_return
    from tui.dialogs.confirm import ConfirmScreen

    number = a_completed_sale_with_shipping(sqlite_demo_engine)
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_return(app, pilot, number)
        await press_and_settle(app, pilot, "plus")
        first = app.screen.view.lines[0]
        # Another terminal posts a return of every unit of that line first.
        theirs = start_return(sqlite_demo_engine, app.screen.view.sale_id, Actor("bo"))
        line = next(l for l in return_view(sqlite_demo_engine, theirs).lines if l.sale_line_id == first.sale_line_id)
        set_quantity(sqlite_demo_engine, line.id, first.sold, Actor("bo"))
        complete_return(sqlite_demo_engine, theirs, Actor("bo"), return_view(sqlite_demo_engine, theirs).version)
        await press_and_settle(app, pilot, "c", "y")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, ConfirmScreen), "it says what changed and offers to redo the draft"
        assert f"{first.title}: 1 asked, 0 left" in app.screen.question
        await press_and_settle(app, pilot, "y")
        await settle(app, pilot, 0.2)
        assert isinstance(app.screen, ReturnsScreen) and app.screen.view.lines[0].quantity == 0
        assert app.screen.view.state == "draft"


async def test_gift_a_return_of_a_card_names_the_card_and_what_comes_off_it(sqlite_demo_engine):
    from core.gift_cards import issue_gift_card
    from core.inbox import inbox, sale_detail
    from core.pickup import PickupChecks
    from tui.dialogs.confirm import ConfirmScreen

    row = next(r for r in inbox(sqlite_demo_engine).rows if r.state == "gift_card_to_issue")
    card_line = next(line for line in sale_detail(sqlite_demo_engine, row.sale_id).lines if line.gift_card_placeholder)
    issue_gift_card(sqlite_demo_engine, card_line.id, "GC-7001", Actor("anna"))
    sale = sale_detail(sqlite_demo_engine, row.sale_id).sale
    complete_sale(sqlite_demo_engine, sale.id, Actor("anna"), sale.version, pickup=not sale.shipping_charged,
                  checks=PickupChecks(True, True, True))
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_return(app, pilot, row.order_number)
        await press_and_settle(app, pilot, "c")
        assert not isinstance(app.screen, ConfirmScreen), "nothing to post until something comes back"
        index = next(i for i, line in enumerate(app.screen.view.lines) if line.gift_card)
        for _ in range(index):
            await pilot.press("down")
        await press_and_settle(app, pilot, "plus")
        assert "card GC-7001: $" in str(app.screen.query_one("#refund-total").render())
        await press_and_settle(app, pilot, "c")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Gift card GC-7001: $" in app.screen.question and "take the card back" in app.screen.question
