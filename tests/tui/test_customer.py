"""Linking a web sale to a POS customer found by typing, from the keyboard at 80x24 on the demo shop."""

from sqlalchemy import select

from core.models import PosCustomer, WebSale
from tui.app import TandemApp
from tui.dialogs.customer import CustomerScreen
from tui.screens.sale import SaleScreen

from core.customers import add_customer
from tests.tui.pilot_helpers import open_sale, press_and_settle


async def test_staff_find_a_pos_customer_by_phone_and_link_it(demo_engine):
    with demo_engine.begin() as conn:
        customer = add_customer(conn, name="Corner Cycles (account)", email="desk@corner.example", phone="555-7788")
        number = conn.execute(select(WebSale.order_number).where(WebSale.pos_customer_id.is_(None),
                                                                  WebSale.state == "ready")
                              .order_by(WebSale.ordered_at.desc())).scalars().first()
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_sale(app, pilot, number)
        await press_and_settle(app, pilot, "l")
        assert isinstance(app.screen, CustomerScreen)
        await press_and_settle(app, pilot, *"7788")  # typed in the search box, where `c` is just a letter
        await press_and_settle(app, pilot, "enter", "enter")
        assert isinstance(app.screen, SaleScreen)
    with demo_engine.connect() as conn:
        linked = conn.execute(select(WebSale.pos_customer_id, WebSale.customer_link)
                              .where(WebSale.order_number == number)).one()
        kept = conn.execute(select(PosCustomer.email, PosCustomer.phone).where(PosCustomer.id == customer)).one()
    assert tuple(linked) == (customer, "person")
    assert tuple(kept) == ("desk@corner.example", "555-7788")
