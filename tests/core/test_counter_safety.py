"""The counter defects found by trying the demo shop as staff would, each pinned by a test that
fails when the defect comes back (SPEC §17-18, §22)."""

import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import OrderLine, WebOrder
from core.models import Location, Platform, Product, Stock, WebListing, WebSale, WebSaleLine
from core.sync import import_orders
from core.resolver import link_listing, mark_not_sold_online, unlink_listing, waiting_sales
from core.returns import (
    ReturnError, abandon_return, add_shipping_refund, complete_return, return_view, set_quantity, set_shipping_amount,
    set_tax_rate, start_return,
)
from core.inbox import inbox, sale_detail
from core.pickup import PickupChecks, complete_sale
from core.sales import SaleError, put_line_on_product

ANNA = Actor("anna", "192.0.2.1")
CHECKS = PickupChecks(True, True, True)
CATALOG = b"""sku,description,upc,price,quantity,non_inventory,gift_card
TUBE,Tube 700x25,036000241457,8.99,10,no,no
WHEEL,Wheel 700c,,26.00,4,no,no
GIFT-CARD,Gift card,,0.00,0,no,yes
SHIP-REFUND,Shipping refund,,0.00,,yes,no
"""
WHEN = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture
def channel(engine):
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        return add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com",
                           conn.execute(select(Location.id)).scalar())


def line(n, code, qty, price, rate="8.25", tax=None, listing=None):
    price, rate = Decimal(price), Decimal(rate)
    tax = Decimal(tax) if tax is not None else (price * qty * rate / 100).quantize(Decimal("0.01"))
    return OrderLine(f"l{n}", code, qty, price, product_code=None if listing else code, tax_rate=rate,
                     tax_amount=tax, listing_external_id=listing)


def store(engine, channel, number, *lines, shipping="0.00", shipping_tax="0.00"):
    total = sum((l.unit_price * l.quantity + l.tax_amount for l in lines), Decimal(shipping) + Decimal(shipping_tax))
    with engine.begin() as conn:
        import_orders(conn, channel, [WebOrder(
            f"o{number}", f"#{number}", "authorized", WHEN, WHEN, "USD", list(lines), customer_email="kim@example.com",
            shipping=Decimal(shipping), shipping_tax=Decimal(shipping_tax), total=total)], now=WHEN)
        return conn.execute(select(WebSale.__table__).where(WebSale.external_id == f"o{number}")).one()


def reread(engine, sale_id):
    with engine.connect() as conn:
        return conn.execute(select(WebSale.__table__).where(WebSale.id == sale_id)).one()


def stock(engine, sku):
    with engine.connect() as conn:
        return tuple(conn.execute(select(Stock.on_hand, Stock.committed).join(Product, Product.id == Stock.product_id)
                                  .where(Product.sku == sku)).one())


def post(engine, ret):
    return complete_return(engine, ret, ANNA, return_view(engine, ret).version)


def by_title(engine, ret):
    return {l.title: l for l in return_view(engine, ret).lines}


# 1. "shipped" never completes a pickup, and a shipped sale needs no pickup checks.
def test_a_pickup_sale_cannot_be_marked_shipped(engine, channel):
    pickup = store(engine, channel, 1, line(1, "TUBE", 1, "8.99"))
    with pytest.raises(SaleError, match="pickup checks"):
        complete_sale(engine, pickup.id, ANNA, pickup.version, pickup=False)
    assert reread(engine, pickup.id).state == "ready" and reread(engine, pickup.id).captured_amount == 0
    shipped = store(engine, channel, 2, line(1, "TUBE", 1, "8.99"), shipping="9.95")
    with pytest.raises(SaleError, match="mark it shipped"):
        complete_sale(engine, shipped.id, ANNA, shipped.version, checks=CHECKS)
    complete_sale(engine, shipped.id, ANNA, shipped.version, pickup=False)
    assert reread(engine, shipped.id).state == "completed"
    assert sale_detail(engine, pickup.id).actions[0] == "pickup"
    assert sale_detail(engine, shipped.id).actions == ()


# 2. Shipping refunded over all returns never exceeds shipping charged.
def test_two_returns_cannot_both_refund_the_whole_shipping(engine, channel):
    sale = store(engine, channel, 1, line(1, "TUBE", 2, "8.99"), shipping="9.95", shipping_tax="0.50")
    complete_sale(engine, sale.id, ANNA, sale.version, pickup=False)
    first, second = start_return(engine, sale.id, ANNA), start_return(engine, sale.id, ANNA)
    set_quantity(engine, by_title(engine, first)["TUBE"].id, 1, ANNA)
    set_quantity(engine, by_title(engine, second)["TUBE"].id, 1, ANNA)
    add_shipping_refund(engine, first, ANNA)
    add_shipping_refund(engine, second, ANNA)  # a draft reserves nothing: both may offer it...
    post(engine, first)
    with pytest.raises(ReturnError, match=r"shipping: \$9.95 asked, \$0.00 left"):
        post(engine, second)  # ...but only one may post it
    third = start_return(engine, sale.id, ANNA)
    with pytest.raises(ReturnError, match="already refunded"):
        add_shipping_refund(engine, third, ANNA)


def test_a_partial_shipping_refund_leaves_only_the_rest(engine, channel):
    sale = store(engine, channel, 1, line(1, "TUBE", 2, "8.99"), shipping="9.95", shipping_tax="0.50")
    complete_sale(engine, sale.id, ANNA, sale.version, pickup=False)
    first = start_return(engine, sale.id, ANNA)
    set_shipping_amount(engine, add_shipping_refund(engine, first, ANNA), Decimal("4.00"), ANNA)
    post(engine, first)
    second = start_return(engine, sale.id, ANNA)
    assert return_view(engine, second).shipping_left == Decimal("5.95")
    shipping = add_shipping_refund(engine, second, ANNA)
    assert by_title(engine, second)["Shipping refund"].unit_price == Decimal("5.95")
    with pytest.raises(ReturnError, match=r"at most the \$5.95 left"):
        set_shipping_amount(engine, shipping, Decimal("6.00"), ANNA)
    post(engine, second)
    with engine.connect() as conn:
        refunds = conn.execute(select(WebSale.shipping_tax)).scalar()
    taxes = [by_title(engine, r)["Shipping refund"].amounts[1] for r in (first, second)]
    assert -sum(taxes) == refunds == Decimal("0.50"), "the shipping tax, shared out, comes to what was charged"


# 3. An unconfirmed return reserves nothing, and leaving it abandons it.
def test_an_abandoned_draft_holds_no_units(engine, channel):
    sale = store(engine, channel, 1, line(1, "TUBE", 1, "8.99"))
    complete_sale(engine, sale.id, ANNA, sale.version, checks=CHECKS)
    draft = start_return(engine, sale.id, ANNA)
    set_quantity(engine, by_title(engine, draft)["TUBE"].id, 1, ANNA)
    other = start_return(engine, sale.id, ANNA)
    set_quantity(engine, by_title(engine, other)["TUBE"].id, 1, ANNA)  # once refused: "only 0 of 1"
    assert abandon_return(engine, draft, ANNA)
    assert not abandon_return(engine, draft, ANNA)
    post(engine, other)
    with pytest.raises(ReturnError, match="already completed"):
        set_quantity(engine, by_title(engine, draft)["TUBE"].id, 1, ANNA)


# 4. "Not sold online" strands no sale: the line can still be given a product.
def test_not_sold_online_with_waiting_lines_leaves_a_way_forward(engine, channel):
    listing = unmatched_listing(engine, channel, "Mystery wheel")
    sale = store(engine, channel, 1, line(1, "Mystery wheel", 1, "26.00", listing="L1"))
    assert reread(engine, sale.id).state == "waiting_match"
    assert waiting_sales(engine, listing.id) == (1, 1)
    mark_not_sold_online(engine, listing.id, ANNA, listing.version)
    detail = sale_detail(engine, sale.id)
    assert "match" in detail.actions and not detail.lines[0].in_resolver
    wheel = product_id(engine, "WHEEL")
    assert put_line_on_product(engine, detail.lines[0].id, wheel, ANNA) == "WHEEL"
    assert reread(engine, sale.id).state == "ready"
    assert stock(engine, "WHEEL") == (4, 1), "settled at once: its unit is committed"
    with pytest.raises(SaleError, match="already has a shop product"):
        put_line_on_product(engine, detail.lines[0].id, wheel, ANNA)


def unmatched_listing(engine, channel, title):
    """A web listing no rule could match, external id L1."""
    with engine.begin() as conn:
        conn.execute(WebListing.__table__.insert().values(
            channel_id=channel, external_id="L1", title=title, match_state="unmatched"))
        return conn.execute(select(WebListing.id, WebListing.version)).one()


def product_id(engine, sku):
    with engine.connect() as conn:
        return conn.execute(select(Product.id).where(Product.sku == sku)).scalar()


# 5. Undo reverses exactly what the link did, committed stock included.
def test_undo_of_a_link_releases_the_units_it_committed(engine, channel):
    listing = unmatched_listing(engine, channel, "Wheel, web name")
    open_sale = store(engine, channel, 1, line(1, "Wheel, web name", 2, "26.00", listing="L1"))
    done_sale = store(engine, channel, 2, line(1, "Wheel, web name", 1, "26.00", listing="L1"))
    before = stock(engine, "WHEEL")
    link_listing(engine, listing.id, product_id(engine, "WHEEL"), ANNA, listing.version)
    assert stock(engine, "WHEEL") == (before[0], before[1] + 3)
    done = reread(engine, done_sale.id)
    complete_sale(engine, done.id, ANNA, done.version, checks=CHECKS)
    text = unlink_listing(engine, listing.id, ANNA)
    assert stock(engine, "WHEEL") == (before[0] - 1, before[1]), "the open sale's 2 units are released"
    assert "1 completed sale keeps WHEEL" in text
    assert reread(engine, open_sale.id).state == "waiting_match"
    with engine.connect() as conn:
        assert conn.execute(select(WebSaleLine.product_id, WebSaleLine.stock_state)
                            .where(WebSaleLine.sale_id == open_sale.id)).one() == (None, "none")


# 7. At the rate charged, a full return refunds exactly the tax charged; parts never exceed it.
def test_a_full_return_refunds_exactly_the_tax_charged(engine, channel):
    # 26.00 x 8.25 % = 2.145: the store charged 2.14, and 2.14 is what comes back.
    sale = store(engine, channel, 1, line(1, "WHEEL", 1, "26.00", tax="2.14"),
                 line(2, "TUBE", 3, "8.99", tax="2.22"))
    complete_sale(engine, sale.id, ANNA, sale.version, checks=CHECKS)
    ret = start_return(engine, sale.id, ANNA)
    set_quantity(engine, by_title(engine, ret)["WHEEL"].id, 1, ANNA)
    assert by_title(engine, ret)["WHEEL"].amounts == (Decimal("-26.00"), Decimal("-2.14"), Decimal("-28.14"))
    post(engine, ret)
    taxes = []
    for _ in range(3):  # the tubes one at a time: 0.74 + 0.74 + 0.74 would be 2.22, 0.74 x 3 rounded would not
        ret = start_return(engine, sale.id, ANNA)
        set_quantity(engine, by_title(engine, ret)["TUBE"].id, 1, ANNA)
        taxes.append(by_title(engine, ret)["TUBE"].amounts[1])
        post(engine, ret)
    assert -sum(taxes) == Decimal("2.22")
    refunded = sum(r.refund_total for r in refunds(engine, sale.id))
    assert -refunded == reread(engine, sale.id).captured_amount == Decimal("57.33")


def refunds(engine, sale_id):
    from core.models import SaleReturn

    with engine.connect() as conn:
        return conn.execute(select(SaleReturn.__table__).where(SaleReturn.sale_id == sale_id,
                                                               SaleReturn.state == "completed")).all()


def test_an_edited_rate_recomputes_and_is_capped_by_the_capture(engine, channel):
    sale = store(engine, channel, 1, line(1, "WHEEL", 1, "26.00", rate="0", tax="0.00"))
    complete_sale(engine, sale.id, ANNA, sale.version, checks=CHECKS)
    ret = start_return(engine, sale.id, ANNA)
    wheel = by_title(engine, ret)["WHEEL"]
    set_quantity(engine, wheel.id, 1, ANNA)
    set_tax_rate(engine, wheel.id, Decimal("8.25"), "charged at the counter rate by mistake", ANNA)
    assert by_title(engine, ret)["WHEEL"].amounts[1] == Decimal("-2.15")
    with pytest.raises(ReturnError, match=r"more than the \$26.00 captured"):
        post(engine, ret)


# 10. Times are shown in the shop's time zone, named, whatever the server's zone.
def test_held_until_is_shown_in_the_shops_zone_whatever_the_host(engine, channel, monkeypatch):
    from core.inbox import InboxRow
    from core.shoptime import set_shop_zone

    held = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    row = InboxRow(1, 1, "#1", "Web", None, Decimal("1"), "held", Decimal("0"), held, held)
    for host in ("UTC", "Asia/Kolkata", "America/Los_Angeles"):
        monkeypatch.setenv("TZ", host)
        time.tzset()
        set_shop_zone("America/Toronto")
        assert row.status == "held until 30 Nov 02:30 EST", host
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_an_unknown_shop_time_zone_is_refused_at_load(tmp_path):
    from core.settings import ConfigError, load_settings

    config = tmp_path / "config.toml"
    config.write_text('[shop]\ntime_zone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match="time_zone"):
        load_settings(config_path=config, environ={})
    config.write_text('[shop]\ntime_zone = "America/Toronto"\n')
    assert load_settings(config_path=config, environ={}).time_zone == "America/Toronto"


# 11. The database holds customers' data: readable by its owner only, whatever the umask.
def test_the_database_and_its_folder_are_private_whatever_the_umask(tmp_path):
    folder = tmp_path / "data" / "tandem"
    script = (
        "import os, sys; os.umask(0); "
        "from core.db import open_database; from sqlalchemy import text; "
        "engine = open_database(sys.argv[1]); "
        "conn = engine.connect(); conn.execute(text('SELECT count(*) FROM product')); "
        "print(sorted(os.listdir(os.path.dirname(sys.argv[1][10:]))))"
    )
    url = f"sqlite:///{folder / 'tandem.sqlite'}"
    out = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert "tandem.sqlite-wal" in out.stdout, "the WAL file exists while the connection is open"
    for path in (folder, folder.parent):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for name in ("tandem.sqlite", "tandem.sqlite-wal", "tandem.sqlite-shm"):
        path = folder / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert stat.S_IMODE((folder / "tandem.sqlite").stat().st_mode) == 0o600


# 12. A gift-card placeholder never commits, sells or restocks a unit.
def test_the_gift_card_placeholder_never_moves_stock(engine, channel):
    before = stock(engine, "GIFT-CARD")
    sale = store(engine, channel, 1, line(1, "GIFT-CARD", 1, "50.00", rate="0", tax="0.00"))
    assert stock(engine, "GIFT-CARD") == before == (0, 0)
    from core.gift_cards import issue_gift_card

    issue_gift_card(engine, sale_detail(engine, sale.id).lines[0].id, "GC-1", ANNA)
    sale = reread(engine, sale.id)
    complete_sale(engine, sale.id, ANNA, sale.version, checks=CHECKS)
    ret = start_return(engine, sale.id, ANNA)
    set_quantity(engine, by_title(engine, ret)["GIFT-CARD"].id, 1, ANNA)
    post(engine, ret)
    assert stock(engine, "GIFT-CARD") == (0, 0)
    assert inbox(engine).total == 0
