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
