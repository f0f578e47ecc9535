"""The Rules screen and a product's web view, from the keyboard: a manager adds a safety stock for
a brand, sees how many products it moves, and the catalog shows shop → rule → store."""

from sqlalchemy import select

from core.models import ChannelRule, Product, ProductLink, RuleKind, RuleScope
from core.rules import Rule, save_rule
from core.staff import actor_for
from tui.app import TandemApp
from tui.dialogs.product_web import ProductWebScreen
from tui.dialogs.rule import RuleScreen
from tui.screens.rules import RulesScreen

from tests.tui.pilot_helpers import press_and_settle, settle, settle_until
from tests.tui.test_approval import hire, type_text


async def test_safety_stock_added_on_the_rules_screen_by_a_manager_says_what_it_moves(demo_engine):
    hire(demo_engine)
    app = TandemApp(demo_engine, person=actor_for(demo_engine, "max"))
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "w")
        assert isinstance(app.screen, RulesScreen)
        await press_and_settle(app, pilot, "a")
        assert isinstance(app.screen, RuleScreen)
        await press_and_settle(app, pilot, "tab", "tab")  # the kind (keep units back), the scope (a brand)
        await type_text(pilot, "Lumen Lights")
        await press_and_settle(app, pilot, "tab")
        await type_text(pilot, "2")
        await settle_until(app, pilot, lambda: "moves" in str(app.screen.query_one("#rule-preview").render()))
        preview = str(app.screen.query_one("#rule-preview").render())
        assert preview.startswith("keep 2 back · brand Lumen Lights — moves ")
        await press_and_settle(app, pilot, "enter")
        await settle_until(app, pilot, lambda: isinstance(app.screen, RulesScreen) and app.screen.rows)
        await settle(app, pilot, 0.2)
        assert [(rule.what(), rule.where(), rule.changed_by) for _store, rule in app.screen.rows] == [
            ("keep 2 back", "brand Lumen Lights", "max")]
    with demo_engine.connect() as conn:
        saved = conn.execute(select(ChannelRule.kind, ChannelRule.target, ChannelRule.units, ChannelRule.changed_by)
                             ).all()
    assert [tuple(row) for row in saved] == [("safety_stock", "Lumen Lights", 2, "max")]


async def test_price_rule_shown_on_the_catalogs_product_web_view(demo_engine):
    with demo_engine.connect() as conn:
        sku, channel = conn.execute(select(Product.sku, ProductLink.channel_id).join(
            ProductLink, ProductLink.product_id == Product.id).where(Product.sku.like("NW%"))
            .order_by(Product.sku)).first()
    hire(demo_engine)
    save_rule(demo_engine, channel, Rule(RuleKind.PRICE, RuleScope.BRAND, "Northwind Cycles", percent=-10,
                                         ending=".99"), actor_for(demo_engine, "max"))
    app = TandemApp(demo_engine, person=actor_for(demo_engine, "max"))
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "c")
        await type_text(pilot, sku)
        await settle(app, pilot, 0.3)
        await press_and_settle(app, pilot, "enter", "w")
        await settle_until(app, pilot, lambda: isinstance(app.screen, ProductWebScreen))
        shown = "\n".join(str(line.render()) for line in app.screen.query("Line"))
    assert f"{sku} on the web stores" in shown
    assert "price -10% ending .99 · brand Northwind Cycles" in shown
    assert "quantity" in shown and "→" in shown


async def test_safety_stock_held_back_sale_accepted_with_k_by_a_manager_a_cashier_asked_for_approval(demo_engine):
    from sqlalchemy import update

    from core.inbox import inbox
    from core.models import LineStock, WebSale, WebSaleLine
    from tui.dialogs.approval import ApprovalScreen
    from tui.dialogs.confirm import ConfirmScreen
    from tui.screens.sale import SaleScreen

    from tests.tui.pilot_helpers import open_sale

    hire(demo_engine)
    row = next(r for r in inbox(demo_engine, status="ready").rows if not r.shipping)
    with demo_engine.begin() as conn:  # as the settle stage leaves a sale a rule held back
        lines = [line for line, in conn.execute(select(WebSaleLine.id).where(WebSaleLine.sale_id == row.sale_id))]
        from core.sync.settle import release_lines

        release_lines(conn, lines)
        conn.execute(update(WebSale).where(WebSale.id == row.sale_id).values(
            held_back_reason="XX-1: 1 ordered, 0 free for the web after 2 held back (keep 2 back · brand X)"))
    cashier = TandemApp(demo_engine, person=actor_for(demo_engine, "cara"))
    async with cashier.run_test(size=(80, 24)) as pilot:
        await open_sale(cashier, pilot, row.order_number)
        shown = str(cashier.screen.query_one("#sale-summary").render())
        assert "held back: a manager decides" in shown and "Held back by a web-store rule: XX-1" in shown
        await press_and_settle(cashier, pilot, "p")
        assert isinstance(cashier.screen, SaleScreen), "no pickup while held back"
        await press_and_settle(cashier, pilot, "k")
        assert isinstance(cashier.screen, ApprovalScreen), "a cashier's k asks for a manager"
    manager = TandemApp(demo_engine, person=actor_for(demo_engine, "max"))
    async with manager.run_test(size=(80, 24)) as pilot:
        await open_sale(manager, pilot, row.order_number)
        await press_and_settle(manager, pilot, "k")
        assert isinstance(manager.screen, ConfirmScreen)
        await press_and_settle(manager, pilot, "y")
        await settle_until(manager, pilot, lambda: isinstance(manager.screen, SaleScreen)
                           and not manager.screen.detail.sale.held_back_reason)
    with demo_engine.connect() as conn:
        sale = conn.execute(select(WebSale.held_back_reason, WebSale.held_back_accepted_by)
                            .where(WebSale.id == row.sale_id)).one()
        states = {state for state, in conn.execute(select(WebSaleLine.stock_state)
                                                   .where(WebSaleLine.sale_id == row.sale_id))}
    assert tuple(sale) == (None, "max") and LineStock.COMMITTED.value in states
