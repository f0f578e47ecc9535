"""Roles at the console: the footer follows the person's role, a cashier's manager action asks for a
manager's name and PIN at the same terminal, and a console opened without an SSH key's name asks
who is at the counter. (`pytest -k approval` selects these tests.)"""

from sqlalchemy import select

from core.audit import Actor
from core.inbox import inbox
from core.models import AuditEntry, WebSale
from core.staff import actor_for, add_staff, set_pin
from tui.app import TandemApp
from tui.dialogs.approval import ApprovalScreen
from tui.dialogs.confirm import ConfirmScreen
from tui.screens.sale import SaleScreen

from tests.tui.pilot_helpers import open_sale, press_and_settle, settle


def hire(engine) -> None:
    add_staff(engine, "olga", "owner", Actor("root"))
    olga = actor_for(engine, "olga")
    add_staff(engine, "max", "manager", olga)
    add_staff(engine, "cara", "cashier", olga)
    set_pin(engine, "max", "2468", olga)
    set_pin(engine, "cara", "1357", olga)


def footer(app) -> set[str]:
    return {active.binding.id for active in app.screen.active_bindings.values() if active.binding.show}


async def type_text(pilot, text: str) -> None:
    for character in text:
        await pilot.press(character)


async def test_approval_a_cashier_does_not_see_cancel_and_a_manager_approves_it_at_the_counter(demo_engine):
    hire(demo_engine)
    number = inbox(demo_engine, status="ready").rows[0].order_number
    manager = TandemApp(demo_engine, person=actor_for(demo_engine, "max"))
    async with manager.run_test(size=(80, 24)) as pilot:
        await open_sale(manager, pilot, number)
        assert isinstance(manager.screen, SaleScreen) and "sale.cancel" in footer(manager)
    cashier = TandemApp(demo_engine, person=actor_for(demo_engine, "cara"))
    async with cashier.run_test(size=(80, 24)) as pilot:
        await open_sale(cashier, pilot, number)
        assert "sale.cancel" not in footer(cashier) and "sale.pickup" in footer(cashier)
        await press_and_settle(cashier, pilot, "x")
        assert isinstance(cashier.screen, ApprovalScreen), "the key asks for a manager"
        await type_text(pilot, "max")
        await press_and_settle(cashier, pilot, "enter")
        await type_text(pilot, "0000")
        await press_and_settle(cashier, pilot, "enter")
        await settle(cashier, pilot, 0.3)
        assert isinstance(cashier.screen, ApprovalScreen), "a wrong PIN approves nothing"
        assert "do not match" in str(cashier.screen.query_one("#approval-said").render())
        await type_text(pilot, "2468")
        await press_and_settle(cashier, pilot, "enter")
        await settle(cashier, pilot, 0.3)
        assert isinstance(cashier.screen, ConfirmScreen)
        await press_and_settle(cashier, pilot, "y")
        await settle(cashier, pilot, 0.5)
    with demo_engine.connect() as conn:
        sale = conn.execute(select(WebSale.id, WebSale.state).where(WebSale.order_number == number)).one()
        audited = conn.execute(select(AuditEntry.actor, AuditEntry.approved_by).where(
            AuditEntry.entity == "websale", AuditEntry.entity_id == str(sale.id), AuditEntry.action == "cancel")).all()
    assert sale.state == "cancelled" and audited == [("cara", "max")]


async def test_approval_refused_leaves_the_sale_as_it_was(demo_engine):
    hire(demo_engine)
    number = inbox(demo_engine, status="ready").rows[0].order_number
    cashier = TandemApp(demo_engine, person=actor_for(demo_engine, "cara"))
    async with cashier.run_test(size=(80, 24)) as pilot:
        await open_sale(cashier, pilot, number)
        await press_and_settle(cashier, pilot, "x")
        await press_and_settle(cashier, pilot, "escape")
        assert isinstance(cashier.screen, SaleScreen)
    with demo_engine.connect() as conn:
        assert conn.execute(select(WebSale.state).where(WebSale.order_number == number)).scalar() == "ready"


async def test_approval_the_help_and_palette_say_what_needs_a_manager(demo_engine):
    from tui.actions import BY_ID, described

    hire(demo_engine)
    cashier = TandemApp(demo_engine, person=actor_for(demo_engine, "cara"))
    async with cashier.run_test(size=(80, 24)):
        assert described(BY_ID["sale.cancel"]).endswith("needs a manager")
        assert described(BY_ID["home.staff"]).endswith("needs the owner")
        assert described(BY_ID["sale.pickup"]) == "Complete pickup: checks, capture, done"


async def test_approval_a_console_opened_without_a_name_asks_who_is_at_the_counter(demo_engine):
    hire(demo_engine)
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, 0.3)
        assert isinstance(app.screen, ApprovalScreen)
        await type_text(pilot, "cara")
        await press_and_settle(app, pilot, "enter")
        await type_text(pilot, "1357")
        await press_and_settle(app, pilot, "enter")
        await settle(app, pilot, 0.3)
        assert not isinstance(app.screen, ApprovalScreen)
        assert app.person.user == "cara" and app.sub_title == "cara · cashier"


async def test_approval_a_console_that_cannot_read_the_staff_list_may_do_nothing(sqlite_demo_engine, monkeypatch):
    """Fails closed: not as the owner while the staff list is unknown."""
    from core.audit import current_actor
    from tui.screens.home import HomeScreen

    hire(sqlite_demo_engine)

    def out_of_reach(engine):
        raise OSError("database out of reach")

    monkeypatch.setattr("core.staff.any_staff", out_of_reach)
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, 0.3)
        assert current_actor().role == "none"
        await press_and_settle(app, pilot, "p")
        assert isinstance(app.screen, HomeScreen), "the Staff screen stays closed"
