"""From the web store to the counter: the demo store on a loopback port, `tandem --sync`, the inbox
and the resolver from the keyboard, pickup with capture, and the next export."""

from decimal import Decimal

from sqlalchemy import select

from core.audit import Actor
from core.catalog_import import import_catalog
from cli import main
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine, DemoProduct, DemoVariant
from core.models import Payment, Product, Stock, WebSale
from core.secrets import save_secret
from core.settings import load_settings
from tui.app import TandemApp
from tui.screens.sale import SaleScreen

from tests.core.connectors.conftest import TOKEN, make_store
from tests.tui.pilot_helpers import press_and_settle, settle


def on_hand(engine, sku):
    with engine.connect() as conn:
        return tuple(conn.execute(select(Stock.on_hand, Stock.committed).join(Product, Product.id == Stock.product_id)
                                  .where(Product.sku == sku)).one())


async def test_web_order_to_pickup_to_next_export(tmp_path):
    store = make_store(products=5, orders=0)
    # A variant the rules cannot match (no barcode, no part number), and an order for it.
    odd = DemoVariant(number=99, title="Default Title", sku="WEB-ODD", barcode=None, price=Decimal("25.00"),
                      available={LOCATION_ID: 0})
    store.products.append(DemoProduct(number=99, title="Odd web-only name for a bell", variants=[odd]))
    store.orders.append(DemoOrder(number=700, name="#700", created_at="2026-11-26T15:00:00Z",
                                  updated_at="2026-11-26T15:00:00Z", email="kim@example.com", customer="Kim Park",
                                  phone=None, address=["Kim Park", "1 Main St"],
                                  lines=[DemoOrderLine(7001, odd, "Odd web-only name for a bell", 2, Decimal("25.00"))]))
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    engine = open_database(url)
    import_catalog(engine, b"sku,description,price,quantity\nBELL-1,Brass bicycle bell,25.00,6\n", "Main Street",
                   Actor("t"))
    with LoopbackServer(store) as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[channels.Web]\nplatform = "shopify"\nurl = "{server.url}"\nlocation = "Main Street"\n'
                          f'store_location_id = "{LOCATION_ID}"\nexport_time = "00:00"\n')
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
        assert main(["--sync", "--export-now", "--db", url, "--config", str(config)]) == 0

        app = TandemApp(url, settings=load_settings(db_url=url, config_path=config))
        async with app.run_test(size=(80, 24)) as pilot:
            await press_and_settle(app, pilot, "s")
            assert [(r.order_number, r.status) for r in app.screen.page.rows] == [("#700", "needs match")]
            await press_and_settle(app, pilot, "enter", "m")
            await pilot.press("slash", *"bell")
            await settle(app, pilot, 0.3)
            assert [c.sku for c in app.screen.candidates] == ["BELL-1"]
            await press_and_settle(app, pilot, "enter", "1")
            await settle(app, pilot, 0.3)
            assert isinstance(app.screen, SaleScreen)
            assert app.screen.detail.row.status == "ready for pickup"
            assert on_hand(engine, "BELL-1") == (6, 2), "the resolved line committed its units"
            await press_and_settle(app, pilot, "p", "1", "2", "3", "enter")
            await settle(app, pilot, 0.5)
            await press_and_settle(app, pilot, "escape")
            assert app.screen.page.rows == [], "the completed sale left the inbox"

        with engine.connect() as conn:
            sale = conn.execute(select(WebSale.state, WebSale.captured_amount, WebSale.id)).one()
            payment = conn.execute(select(Payment.amount, Payment.reference).where(Payment.sale_id == sale.id)).one()
        assert sale.state == "completed" and payment.amount == Decimal("50.00")
        assert payment.reference.startswith("gid://shopify/OrderTransaction/")
        assert store.orders[-1].financial_status == "PAID", "captured through the store's API"
        assert on_hand(engine, "BELL-1") == (4, 0)

        assert main(["--sync", "--export-now", "--db", url, "--config", str(config)]) == 0
        assert odd.available[LOCATION_ID] == 4, "the next export sent the new quantity"
