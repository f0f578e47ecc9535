"""Channel rules (core.rules): safety stock, in store only, web prices and their floors — what each
store is sent, which rule made it, and the orders that arrive for units a rule holds back.
`pytest -k "safety_stock or price_rule or price_floor"` selects these."""

from __future__ import annotations

import re
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.audit import Actor
from core.changes import STORE_KINDS
from core.catalog_import import import_catalog
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.models import (AuditEntry, Change, ChannelRule, Product, ProductLink, RuleKind, RuleScope, SalesChannel,
                         Stock, WebSale, WebSaleLine)
from core.roles import NotAllowed
from core.rules_view import product_on_channels
from core.rules import (ProductFacts, Rule, RuleBook, RuleError, preview_rule, remove_rule,
                        round_to_ending, save_rule)
from core.sales import accept_held_back
from core.inbox import inbox, sale_detail
from core.overview import shop_overview
from core.pickup import complete_sale
from core.sales import SaleError
from core.sync import SyncOptions, apply_channel_settings, run_sync
from core.sync.export import export_changes, plan_visibility

from tests.core.connectors.conftest import make_store, shopify, woo

MANAGER, CASHIER = Actor("mina", role="manager"), Actor("cal", role="cashier")
QUIET = {"log": lambda message: None}


# --- which rule wins ------------------------------------------------------------------------------

HELMET = ProductFacts("POS-1", "Acme", "Helmets", Decimal("50.00"))
OTHER_HELMET = ProductFacts("POS-2", "Acme", "Helmets", Decimal("60.00"))
PLAIN_HELMET = ProductFacts("POS-3", "Nobrand", "Helmets", Decimal("30.00"))
LOOSE = ProductFacts("POS-4", None, None, Decimal("20.00"))

BOOK = RuleBook.of([
    Rule(RuleKind.SAFETY_STOCK, RuleScope.CATEGORY, "helmets", units=2),
    Rule(RuleKind.SAFETY_STOCK, RuleScope.BRAND, "ACME", units=3),
    Rule(RuleKind.SAFETY_STOCK, RuleScope.PRODUCT, "pos-1", units=4),
    Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-10")),
    Rule(RuleKind.PRICE, RuleScope.CATEGORY, "Helmets", percent=Decimal("-20")),
    Rule(RuleKind.PRICE, RuleScope.BRAND, "Acme", amount=Decimal("-1.00")),
    Rule(RuleKind.PRICE, RuleScope.PRODUCT, "POS-1", amount=Decimal("5.00")),
], channel_buffer=1)


@pytest.mark.parametrize(("product", "sent", "rule"), [
    (HELMET, 10 - 4, "keep 4 back · product pos-1"),  # product over brand, category and channel
    (OTHER_HELMET, 10 - 3, "keep 3 back · brand ACME"),  # brand over category and channel
    (PLAIN_HELMET, 10 - 2, "keep 2 back · category helmets"),  # category over channel
    (LOOSE, 10 - 1, "channel safety stock 1"),  # the channel's own (safety_buffer)
])
def test_safety_stock_precedence_product_over_brand_over_category_over_channel(product, sent, rule):
    decision = BOOK.quantity(product, 10)
    assert (decision.value, decision.rule) == (sent, rule)


@pytest.mark.parametrize(("product", "price", "rule"), [
    (HELMET, Decimal("55.00"), "price +5.00 · product POS-1"),
    (OTHER_HELMET, Decimal("59.00"), "price -1.00 · brand Acme"),
    (PLAIN_HELMET, Decimal("24.00"), "price -20% · category Helmets"),
    (LOOSE, Decimal("18.00"), "price -10% · every product"),
])
def test_price_rule_precedence_product_over_brand_over_category_over_channel(product, price, rule):
    decision = BOOK.price(product)
    assert (decision.value, decision.rule) == (price, rule)


def test_safety_stock_never_sends_less_than_zero_and_in_store_only_over_a_price_falls_through_below_it():
    book = RuleBook.of([Rule(RuleKind.IN_STORE_ONLY, RuleScope.CATEGORY, "Bikes", above_price=Decimal("3000.00"))],
                       channel_buffer=1)
    dear = ProductFacts("B-1", "Velo", "Bikes", Decimal("3500.00"))
    cheap = ProductFacts("B-2", "Velo", "Bikes", Decimal("900.00"))
    assert book.quantity(dear, 5).value == 0 and book.quantity(dear, 5).rule == "in store only over 3000.00 · category Bikes"
    assert book.quantity(cheap, 5).value == 4  # not over 3,000: the channel's safety stock applies
    assert book.quantity(cheap, 0).value == 0


@pytest.mark.parametrize(("price", "ending", "rounded"), [
    (Decimal("47.50"), ".99", Decimal("47.99")),  # nearer up
    (Decimal("47.32"), ".99", Decimal("46.99")),  # nearer down
    (Decimal("38.00"), ".95", Decimal("37.95")),
    (Decimal("123.40"), "9.00", Decimal("119.00")),
    (Decimal("125.00"), "9.00", Decimal("129.00")),
    (Decimal("0.40"), ".99", Decimal("0.99")),  # never 0 or less
    (Decimal("12.345"), None, Decimal("12.35")),  # no ending: to the cent
])
def test_price_rule_rounds_to_price_endings(price, ending, rounded):
    assert round_to_ending(price, ending) == rounded


def test_price_rule_that_would_go_under_the_price_floor_stops_at_the_floor():
    book = RuleBook.of([Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-5"), ending=".99"),
                        Rule(RuleKind.PRICE_FLOOR, RuleScope.BRAND, "Acme", percent=Decimal("90")),
                        Rule(RuleKind.PRICE_FLOOR, RuleScope.PRODUCT, "G-2", amount=Decimal("48.50"))])
    with_map = ProductFacts("G-1", "Other", None, Decimal("40.00"), map_price=Decimal("39.00"))
    decision = book.price(with_map)  # 40 - 5 % = 38.00 -> 37.99, under the MAP
    assert decision.value == Decimal("39.00") and "minimum advertised price 39.00" in decision.rule
    by_hand = ProductFacts("G-2", "Acme", None, Decimal("50.00"), map_price=Decimal("30.00"))
    assert book.price(by_hand).value == Decimal("48.50")  # 47.99 under it; a product's floor set by hand beats its imported MAP
    brand = ProductFacts("G-3", "Acme", None, Decimal("100.00"), msrp=Decimal("110.00"))
    assert book.price(brand).value == Decimal("99.00")  # 94.99 under 90 % of the list price
    above = ProductFacts("G-4", "Other", None, Decimal("100.00"), map_price=Decimal("50.00"))
    assert book.price(above).value == Decimal("94.99")  # the floor only stops what goes under it


def test_price_rule_taking_more_than_the_price_keeps_the_shops_price_unless_a_floor_says():
    book = RuleBook.of([Rule(RuleKind.PRICE, RuleScope.CHANNEL, amount=Decimal("-50.00"))])
    cheap = ProductFacts("T-1", None, None, Decimal("30.00"))
    decision = book.price(cheap)
    assert decision.value == Decimal("30.00") and "would go to nothing" in decision.rule
    assert book.price(ProductFacts("T-2", None, None, Decimal("80.00"))).value == Decimal("30.00")
    floored = ProductFacts("T-3", None, None, Decimal("30.00"), map_price=Decimal("25.00"))
    assert book.price(floored).value == Decimal("25.00")


@pytest.mark.parametrize("rule", [
    Rule(RuleKind.SAFETY_STOCK, RuleScope.BRAND, "Acme", units=-1),
    Rule(RuleKind.SAFETY_STOCK, RuleScope.BRAND, "", units=2),
    Rule(RuleKind.SAFETY_STOCK, RuleScope.CHANNEL, units=2),
    Rule(RuleKind.PRICE, RuleScope.CHANNEL),
    Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-95")),
    Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-5"), ending="99"),
    Rule(RuleKind.PRICE_FLOOR, RuleScope.BRAND, "Acme"),
    Rule(RuleKind.PRICE_FLOOR, RuleScope.BRAND, "Acme", amount=Decimal("1"), percent=Decimal("90")),
])
def test_price_rule_or_safety_stock_that_cannot_be_is_refused_with_a_reason(engine, rule):
    with pytest.raises(RuleError) as refused:
        preview_rule(engine, 1, rule)
    assert str(refused.value)


# --- through the stores ---------------------------------------------------------------------------

# sku: (description, brand, category, price, map, quantity)
SHOP = {
    1: ("Helmet (last two)", "Acme", "Helmets", "50.00", "", 2),
    2: ("Helmet", "Acme", "Helmets", "60.00", "", 5),
    3: ("Road bike", "Velo", "Bikes", "3500.00", "", 3),
    4: ("Kid's bike", "Velo", "Bikes", "900.00", "", 3),
    5: ("Lamp", "Lumo", "Lights", "30.00", "", 4),
    6: ("Gloves", "Grip", "Gloves", "40.00", "39.00", 9),
}


def catalog(store) -> bytes:
    rows = ["sku,description,upc,part_number,brand,category,price,map,quantity"]
    for _product, v in store.variants():
        description, brand, category, price, map_price, quantity = SHOP[v.number]
        rows.append(f"POS-{v.number},{description},{v.barcode},{v.mpn},{brand},{category},{price},{map_price},{quantity}")
    return ("\n".join(rows) + "\n").encode()


THE_SHOPS_RULES = [
    Rule(RuleKind.SAFETY_STOCK, RuleScope.CATEGORY, "Helmets", units=2),  # keep the last two helmets
    Rule(RuleKind.IN_STORE_ONLY, RuleScope.CATEGORY, "Bikes", above_price=Decimal("3000")),  # no bikes over 3,000
    Rule(RuleKind.IN_STORE_ONLY, RuleScope.BRAND, "Lumo"),  # this brand only in store
    Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-5"), ending=".99"),  # shop price -5 %, never under MAP
]


@pytest.fixture(params=["shopify", "woocommerce"])
def ruled_shop(engine, request):
    platform = request.param
    store = make_store(products=6, orders=0)
    import_catalog(engine, catalog(store), "Main Street", MANAGER)
    with LoopbackServer(store) as server:
        settings = {"platform": platform, "url": server.url, "location": "Main Street"}
        if platform == "shopify":
            settings["store_location_id"] = LOCATION_ID
        apply_channel_settings(engine, {"Web": settings})
        connector = (shopify if platform == "shopify" else woo)(server, lambda s: None)
        sync(engine, connector)  # matched and exported as the shop has it
        yield engine, store, connector


def sync(engine, connector, full: bool = False):
    report = run_sync(engine, options=SyncOptions(export_now=True, full=full), connectors={"Web": connector}, **QUIET)
    assert report.exit_code == 0, report
    return report


def on_the_store(store) -> dict[str, tuple[int, Decimal]]:
    return {f"POS-{v.number}": (v.available[LOCATION_ID], v.price) for _p, v in store.variants()}


def product_id(engine, sku: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(Product.id).where(Product.sku == sku)).scalar_one()


def test_safety_stock_price_rule_and_price_floor_reach_both_platforms(ruled_shop, capsys):
    engine, store, connector = ruled_shop
    assert on_the_store(store)["POS-1"] == (2, Decimal("50.00"))
    for rule in THE_SHOPS_RULES:
        save_rule(engine, "Web", rule, MANAGER)
    # The dry run shows each value's way: the shop's, the rule, what the store gets.
    capsys.readouterr()
    run_sync(engine, options=SyncOptions(dry_run=True), connectors={"Web": connector}, **QUIET)
    planned = capsys.readouterr().out
    assert "available=0  (POS-1: 2 in the shop, keep 2 back · category Helmets)" in planned
    assert "available=0  (POS-3: 3 in the shop, in store only over 3000.00 · category Bikes)" in planned
    assert ("price=39.00  (POS-6: 40.00 in the shop, price -5% ending .99 · every product, stopped at minimum "
            "advertised price 39.00)") in planned
    assert on_the_store(store)["POS-1"] == (2, Decimal("50.00")), "a dry run sends nothing"
    sync(engine, connector)
    assert on_the_store(store) == {
        "POS-1": (0, Decimal("47.99")),  # the last two helmets held back: 0 online
        "POS-2": (3, Decimal("56.99")),
        "POS-3": (0, Decimal("3324.99")),  # a bike over 3,000: in store only
        "POS-4": (3, Decimal("854.99")),
        "POS-5": (0, Decimal("28.99")),  # the brand sold in store only
        "POS-6": (9, Decimal("39.00")),  # 37.99 would be under its minimum advertised price
    }
    # The shop still sells its last helmets: nothing moved in the POS.
    with engine.connect() as conn:
        assert conn.execute(select(Stock.on_hand, Stock.committed).join(Product, Product.id == Stock.product_id)
                            .where(Product.sku == "POS-1")).one() == (2, 0)
    # The product says which rule made what each store gets.
    [view] = product_on_channels(engine, product_id(engine, "POS-6"))
    assert (view.pos_available, view.quantity.value, view.price.value) == (9, 9, Decimal("39.00"))
    assert "minimum advertised price" in view.price.rule and "-5%" in view.price.rule
    [helmet] = product_on_channels(engine, product_id(engine, "POS-1"))
    assert (helmet.pos_available, helmet.quantity.value, helmet.quantity.rule) == (2, 0,
                                                                                 "keep 2 back · category Helmets")


def test_safety_stock_order_for_a_held_back_product_is_flagged_and_takes_its_unit_only_when_accepted(ruled_shop):
    engine, store, connector = ruled_shop
    save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)  # keep the last two helmets
    # Ordered before the rule reached the store, which still showed the two helmets.
    helmet = next(v for _p, v in store.variants() if v.number == 1)
    store.place_order(DemoOrder(number=900, name="#9000", created_at="2026-11-27T10:00:00Z",
                                updated_at="2026-11-27T10:00:00Z", email="r@example.com", customer="Rider",
                                phone=None, address=["Rider", "1 Main St", "Springfield"],
                                lines=[DemoOrderLine(9001, helmet, "Helmet", 1, Decimal("50.00"), Decimal("0"))]))
    sync(engine, connector)
    with engine.connect() as conn:
        sale = conn.execute(select(WebSale).where(WebSale.order_number == "#9000")).one()
        line_state = conn.execute(select(WebSaleLine.stock_state).where(WebSaleLine.sale_id == sale.id)).scalar()
        committed = conn.execute(select(Stock.committed).where(Stock.product_id == product_id(engine, "POS-1"))).scalar()
    assert "POS-1" in sale.held_back_reason and "keep 2 back" in sale.held_back_reason
    assert (line_state, committed) == ("none", 0)
    [row] = [row for row in inbox(engine).rows if row.order_number == "#9000"]
    assert row.status == "held back: a manager decides"
    assert "accept_held_back" in sale_detail(engine, sale.id).actions
    assert shop_overview(engine).held_back == 1  # the home screen's count
    assert "pickup" not in sale_detail(engine, sale.id).actions
    with pytest.raises(SaleError, match="a manager accepts it first"):
        complete_sale(engine, sale.id, MANAGER, sale.version)
    with pytest.raises(NotAllowed):
        accept_held_back(engine, sale.id, CASHIER, sale.version)
    accept_held_back(engine, sale.id, MANAGER, sale.version)
    sync(engine, connector)  # a later round does not flag it again
    with engine.connect() as conn:
        after = conn.execute(select(WebSale.held_back_reason, WebSale.held_back_accepted_by)
                             .where(WebSale.id == sale.id)).one()
        committed = conn.execute(select(Stock.committed).where(Stock.product_id == product_id(engine, "POS-1"))).scalar()
        accepted = conn.execute(select(AuditEntry.actor).where(AuditEntry.action == "held_back_accepted")).scalar()
    assert tuple(after) == (None, "mina") and committed == 1 and accepted == "mina"
    assert shop_overview(engine).held_back == 0


def test_safety_stock_order_within_what_the_web_may_sell_is_not_flagged(ruled_shop):
    engine, store, connector = ruled_shop
    save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)
    other = next(v for _p, v in store.variants() if v.number == 2)  # five on hand, two held back
    store.place_order(DemoOrder(number=901, name="#9001", created_at="2026-11-27T10:00:00Z",
                                updated_at="2026-11-27T10:00:00Z", email="r@example.com", customer="Rider",
                                phone=None, address=["Rider", "1 Main St", "Springfield"],
                                lines=[DemoOrderLine(9011, other, "Helmet", 3, Decimal("60.00"), Decimal("0"))]))
    sync(engine, connector)
    with engine.connect() as conn:
        reason = conn.execute(select(WebSale.held_back_reason).where(WebSale.order_number == "#9001")).scalar()
        committed = conn.execute(select(Stock.committed).where(Stock.product_id == product_id(engine, "POS-2"))).scalar()
    assert reason is None and committed == 3


@contextmanager
def shopify_shop(engine, store, shop_catalog: bytes):
    """The shop with `shop_catalog`, its Shopify store on loopback, matched and exported once."""
    import_catalog(engine, shop_catalog, "Main Street", MANAGER)
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        connector = shopify(server, lambda s: None)
        sync(engine, connector)
        yield connector


def test_price_rule_change_says_what_it_moves_and_the_change_path_sends_just_those(engine):
    store = make_store(products=6, orders=0)
    with shopify_shop(engine, store, catalog(store)) as connector:
        with engine.connect() as conn:
            channel = conn.execute(select(SalesChannel.id)).scalar_one()
        export_changes(engine, channel, connector)  # the watcher's position, after the first export
        rule = Rule(RuleKind.PRICE, RuleScope.BRAND, "Velo", percent=Decimal("-10"))
        assert preview_rule(engine, "Web", rule).moved == 2
        with engine.connect() as conn:
            last_change = conn.execute(select(func.max(Change.id))).scalar()
        effect = save_rule(engine, "Web", rule, MANAGER)
        assert (effect.moved, effect.prices, effect.quantities) == (2, 2, 0)
        with engine.connect() as conn:
            rows = conn.execute(select(Change.kind, Change.product_id).where(
                Change.id > last_change, Change.kind.in_(STORE_KINDS))).all()
        # One change per product moved, never the whole channel (the audit line wakes screens only).
        assert sorted(rows) == sorted(("product", product_id(engine, sku)) for sku in ("POS-3", "POS-4"))
        report, changes = export_changes(engine, channel, connector)
        assert (report.prices_sent, report.quantities_sent) == (2, 0) and not changes.whole_catalog
        assert on_the_store(store)["POS-3"][1] == Decimal("3150.00")
        remove_rule(engine, "Web", rule, MANAGER)
        report, _changes = export_changes(engine, channel, connector)
        assert report.prices_sent == 2 and on_the_store(store)["POS-3"][1] == Decimal("3500.00")


def test_price_rule_changes_are_refused_to_a_cashier_and_audited_under_the_manager(engine, ruled_shop_db):
    rule = Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-5"))
    with pytest.raises(NotAllowed):
        save_rule(engine, "Web", rule, CASHIER)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChannelRule)).scalar() == 0
    save_rule(engine, "Web", rule, MANAGER)
    save_rule(engine, "Web", Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-7")), MANAGER)
    with pytest.raises(NotAllowed):
        remove_rule(engine, "Web", rule, CASHIER)
    remove_rule(engine, "Web", rule, MANAGER)
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.old_value, AuditEntry.new_value)
                             .where(AuditEntry.entity == "channelrule").order_by(AuditEntry.id)).all()
    assert [tuple(row) for row in audit] == [
        ("mina", "rule_added", None, "price -5% · every product"),
        ("mina", "rule_changed", "price -5% · every product", "price -7% · every product"),
        ("mina", "rule_removed", "price -7% · every product", None),
    ]


@pytest.fixture
def ruled_shop_db(engine):
    from core.channels import add_channel
    from core.models import Platform

    with engine.begin() as conn:
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com")
    return engine


def readme_rules_file() -> str:
    """The rules file the README shows, as a shop would copy it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Channel rules"):]
    return section[section.index("```toml\n") + len("```toml\n"):section.index("```\n", section.index("```toml"))]


RULES_FILE = readme_rules_file()


def test_price_rule_file_loads_the_readmes_examples_and_the_cli_explains_a_product(engine, tmp_path, capsys):
    from cli import main

    store = make_store(products=6, orders=0)
    import_catalog(engine, catalog(store), "Main Street", MANAGER)
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        sync(engine, shopify(server, lambda s: None))
    url = str(engine.url)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_FILE)
    assert main(["--load-rules", str(rules), "--db", url]) == 0
    loaded = capsys.readouterr().out
    assert "Web: keep 2 back · category Helmets: moves 2 products\n" in loaded
    assert "Web: price -5% ending .99 · every product: moves 6 products\n" in loaded
    assert main(["--rules", "--db", url]) == 0
    listed = capsys.readouterr().out
    assert "in store only over 3000.00 · category Bikes" in listed and "in store only · brand Lumo" in listed
    assert main(["--explain", "POS-6", "--db", url]) == 0
    explained = capsys.readouterr().out
    assert "Web: quantity 9 in the shop → 9 (as in the shop)" in explained
    assert "Web: price 40.00 in the shop → 39.00 (price -5% ending .99 · every product, stopped at minimum " \
           "advertised price 39.00)" in explained
    # A file with one bad rule changes nothing, and says which rule.
    # A brand no product has is said (a typo?), and saved: the brand may come with the next import.
    rules.write_text('[[rules.Web]]\nbrand = "Acmee"\nsafety_stock = 1\n')
    assert main(["--load-rules", str(rules), "--db", url]) == 0
    assert "moves 0 products — no product of this store has brand Acmee" in capsys.readouterr().out
    rules.write_text('[[rules.Web]]\nbrand = "Acmee"\nsafety_stock = 1\nremove = true\n')
    assert main(["--load-rules", str(rules), "--db", url]) == 0
    rules.write_text(RULES_FILE + '\n[[rules.Web]]\nbrand = "Acme"\nsafety_stock = -1\n')
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(ChannelRule)).scalar()
    assert main(["--load-rules", str(rules), "--db", url]) == 1
    assert "rule 6 of Web: a safety stock is a whole number of units" in capsys.readouterr().err
    # Taking off a rule that is not there stops the file before anything is saved.
    rules.write_text('[[rules.Web]]\nbrand = "Grip"\nsafety_stock = 1\n\n'
                     '[[rules.Web]]\nbrand = "Nobrand"\nin_store_only = true\nremove = true\n')
    assert main(["--load-rules", str(rules), "--db", url]) == 1
    assert "rule 2 of Web: no such rule to remove; nothing was changed." in capsys.readouterr().err
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChannelRule)).scalar() == 5
    rules.write_text(RULES_FILE.replace("rules.Web", "rules.Wbe"))  # a store's name mistyped
    assert main(["--load-rules", str(rules), "--db", url]) == 1
    assert "no web store named 'Wbe'" in capsys.readouterr().err
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChannelRule)).scalar() == before == 5


def listed(store) -> dict[str, str]:
    """Each variant's visibility as its platform says it: the Shopify product's status, the
    WooCommerce product's or variation's status."""
    return {f"POS-{v.number}": f"{p.status}/{v.status}" for p, v in store.variants()}


def test_safety_stock_in_store_only_unpublishes_on_both_platforms_and_publishes_back_only_its_own(ruled_shop, capsys):
    engine, store, connector = ruled_shop
    # The shop took the Lumo lamp (POS-5) off the web itself, before any rule: on Shopify a draft,
    # on WooCommerce private.
    lamp_product, lamp = next((p, v) for p, v in store.variants() if v.number == 5)
    lamp_product.status, lamp.status = "DRAFT", "private"
    for rule in THE_SHOPS_RULES[1:3]:  # bikes over 3,000 (POS-3) and the Lumo brand (POS-5): in store only
        save_rule(engine, "Web", rule, MANAGER)
    run_sync(engine, options=SyncOptions(dry_run=True), connectors={"Web": connector}, **QUIET)
    assert len(re.findall(r"would unpublish \S+ \(sold in store only\)", capsys.readouterr().out)) == 2
    report = sync(engine, connector)
    off = "DRAFT/" if connector.hides_whole_products else "/private"
    assert {sku for sku, state in listed(store).items() if off in state} == {"POS-3", "POS-5"}
    assert report.channels[0].status == "ok"
    with engine.connect() as conn:
        channel = conn.execute(select(SalesChannel.id)).scalar_one()
        assert plan_visibility(conn, channel, connector.hides_whole_products) == [], "done once, marked"
        marks = dict(conn.execute(select(Product.sku, ProductLink.unpublished).join(
            ProductLink, ProductLink.product_id == Product.id).where(Product.sku.in_(["POS-3", "POS-5"]))).all())
    assert marks == {"POS-3": "tandem", "POS-5": "already"}
    for rule in THE_SHOPS_RULES[1:3]:
        remove_rule(engine, "Web", rule, MANAGER)
    sync(engine, connector)
    state = listed(store)
    assert state["POS-3"] == "ACTIVE/publish", "Tandem puts back what it took off"
    # What the shop unpublished itself stays unpublished: it was never Tandem's to publish.
    assert off in state["POS-5"]
    assert on_the_store(store)["POS-3"][0] == 3 and on_the_store(store)["POS-5"][0] == 4


def test_safety_stock_in_store_only_hides_a_shopify_product_only_when_all_its_variants_are(engine):
    store = make_store(products=3, orders=0, variants=2)  # (POS-1, POS-2), (POS-3, POS-4), (POS-5, POS-6)
    with shopify_shop(engine, store, catalog(store)) as connector:
        for rule in THE_SHOPS_RULES[1:3]:  # POS-3 (a bike over 3,000) and POS-5 (Lumo): one variant each
            save_rule(engine, "Web", rule, MANAGER)
        sync(engine, connector)
        assert [p.status for p in store.products] == ["ACTIVE", "ACTIVE", "ACTIVE"]
        assert on_the_store(store)["POS-3"][0] == 0 and on_the_store(store)["POS-5"][0] == 0
        save_rule(engine, "Web", Rule(RuleKind.IN_STORE_ONLY, RuleScope.PRODUCT, "POS-6"), MANAGER)
        sync(engine, connector)  # now both of the third product's variants are in store only
        assert [p.status for p in store.products] == ["ACTIVE", "ACTIVE", "DRAFT"]


def test_safety_stock_follows_a_product_moved_into_its_category_through_the_change_path(engine):
    """A catalog import that changes a product's category (or brand, or MAP) is a change the
    stores are told of: the rule that now reaches it decides what is sent in the next round."""
    store = make_store(products=6, orders=0)
    with shopify_shop(engine, store, catalog(store)) as connector:
        with engine.connect() as conn:
            channel = conn.execute(select(SalesChannel.id)).scalar_one()
        save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)  # keep two helmets back
        export_changes(engine, channel, connector)
        assert on_the_store(store)["POS-6"][0] == 9
        import_catalog(engine, b"sku,description,price,category\nPOS-6,Gloves,40.00,Helmets\n", "Main Street", MANAGER)
        report, changes = export_changes(engine, channel, connector)
        assert changes.products == {product_id(engine, "POS-6")} and report.quantities_sent == 1
        assert on_the_store(store)["POS-6"][0] == 7


def test_safety_stock_and_price_rule_reach_brands_with_accented_capitals(engine):
    """SQLite folds ASCII capitals only: a rule for "éclat" must still reach a brand stored as
    "ÉCLAT " (the rule book decides; the SQL only narrows the rows)."""
    store = make_store(products=6, orders=0)
    shop = catalog(store).decode().replace(",Lumo,", ",ÉCLAT ,")
    with shopify_shop(engine, store, shop.encode()) as connector:
        save_rule(engine, "Web", Rule(RuleKind.SAFETY_STOCK, RuleScope.BRAND, "éclat", units=3), MANAGER)
        effect = save_rule(engine, "Web", Rule(RuleKind.PRICE, RuleScope.BRAND, "Éclat", percent=Decimal("-10")),
                           MANAGER)
        assert effect.reached == 1 and effect.moved == 1
        sync(engine, connector)
    assert on_the_store(store)["POS-5"] == (1, Decimal("27.00"))


def web_order(number: int, *lines: tuple[object, int]) -> DemoOrder:
    return DemoOrder(number=number, name=f"#{number}", created_at=f"2026-11-27T10:{number % 60:02d}:00Z",
                     updated_at=f"2026-11-27T10:{number % 60:02d}:00Z", email="r@example.com", customer="Rider",
                     phone=None, address=["Rider", "1 Main St", "Springfield"],
                     lines=[DemoOrderLine(number * 10 + n, variant, "Item", quantity, variant.price, Decimal("0"))
                            for n, (variant, quantity) in enumerate(lines)])


def committed_of(engine, sku: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(Stock.committed), 0)).join(
            Product, Product.id == Stock.product_id).where(Product.sku == sku)).scalar()


def test_safety_stock_counts_earlier_orders_of_the_same_import_and_holds_back_only_the_lines_it_concerns(ruled_shop):
    engine, store, connector = ruled_shop
    save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)  # two helmets kept back
    variant = {v.number: v for _p, v in store.variants()}
    # Five of POS-2 on hand, two kept: three for the web. Two orders of two arrive together; the
    # second also has gloves, which nothing holds back.
    store.place_order(web_order(801, (variant[2], 2)))
    store.place_order(web_order(802, (variant[2], 2), (variant[6], 1)))
    sync(engine, connector)
    with engine.connect() as conn:
        reasons = dict(conn.execute(select(WebSale.order_number, WebSale.held_back_reason)
                                    .where(WebSale.order_number.in_(["#801", "#802"]))).all())
    assert reasons["#801"] is None and "POS-2: 2 ordered, 1 free for the web" in reasons["#802"]
    assert committed_of(engine, "POS-2") == 2, "the first order only: the second would eat the kept helmets"
    assert committed_of(engine, "POS-6") == 1, "the gloves of the held-back order are committed as usual"


def test_safety_stock_on_a_woocommerce_store_selling_two_locations_counts_both(engine):
    from core.locations import add_location

    store = make_store(products=6, orders=0)
    add_location(engine, "Main Street", MANAGER)
    add_location(engine, "Riverside", MANAGER)
    import_catalog(engine, catalog(store), "Main Street", MANAGER)
    import_catalog(engine, catalog(store), "Riverside", MANAGER)
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "woocommerce", "url": server.url,
                                                "location": "Main Street",
                                                "locations": {"Main Street": "Main Street", "Riverside": "Riverside"}}})
        connector = woo(server, lambda s: None)
        sync(engine, connector)
        save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)
        sync(engine, connector)
        assert on_the_store(store)["POS-1"][0] == 2  # 2 + 2 on hand, 2 kept: the store sells the sum
        store.place_order(web_order(803, (next(v for _p, v in store.variants() if v.number == 1), 2)))
        sync(engine, connector)
    with engine.connect() as conn:
        reason = conn.execute(select(WebSale.held_back_reason).where(WebSale.order_number == "#803")).scalar()
    assert reason is None and committed_of(engine, "POS-1") == 2


def test_safety_stock_is_sent_even_when_the_store_refuses_to_unpublish(ruled_shop, monkeypatch):
    from core.connectors.base import ConnectorError

    engine, store, connector = ruled_shop

    def refused(updates):
        raise ConnectorError("the store refused to publish or unpublish: Status is locked")

    monkeypatch.setattr(connector, "set_visibility", refused)
    save_rule(engine, "Web", THE_SHOPS_RULES[2], MANAGER)  # Lumo in store only
    save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)  # two helmets kept back
    sync(engine, connector)
    assert on_the_store(store)["POS-5"][0] == 0 and on_the_store(store)["POS-1"][0] == 0
    with engine.connect() as conn:
        channel = conn.execute(select(SalesChannel.id)).scalar_one()
        assert len(plan_visibility(conn, channel, connector.hides_whole_products)) == 1, "tried again next round"


def test_safety_stock_held_back_sale_once_cancelled_cannot_be_accepted_nor_take_units(ruled_shop):
    from core.pickup import cancel_sale

    engine, store, connector = ruled_shop
    save_rule(engine, "Web", THE_SHOPS_RULES[0], MANAGER)
    store.place_order(web_order(804, (next(v for _p, v in store.variants() if v.number == 1), 1)))
    sync(engine, connector)
    with engine.connect() as conn:
        sale = conn.execute(select(WebSale).where(WebSale.order_number == "#804")).one()
    assert sale.held_back_reason
    cancel_sale(engine, sale.id, MANAGER, sale.version)
    with engine.connect() as conn:
        version = conn.execute(select(WebSale.version).where(WebSale.id == sale.id)).scalar()
    with pytest.raises(SaleError, match="cancelled"):
        accept_held_back(engine, sale.id, MANAGER, version)
    sync(engine, connector)
    assert committed_of(engine, "POS-1") == 0
