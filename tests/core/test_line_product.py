"""A line's product picked by hand can be changed again until the sale is completed, and undone
exactly (SPEC §18): its committed unit moves with it, in one transaction; a pick far from the web
price asks first. SQLite and PostgreSQL."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Product, WebSaleLine
from core.pickup import complete_sale
from core.sales import PriceDiffers, SaleError, change_line_product, undo_line_product

from tests.core.test_sales import ALL_CHECKS, ANNA, channel, order, sale, stock, store  # noqa: F401 - fixtures


def line_of(engine, number):
    with engine.connect() as conn:
        return conn.execute(select(WebSaleLine.__table__).where(WebSaleLine.external_id == f"{number}-0")).one()


def product_id(engine, sku):
    with engine.connect() as conn:
        return conn.execute(select(Product.id).where(Product.sku == sku)).scalar_one()


def test_a_wrong_pick_is_changed_and_its_unit_moves_with_it(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    line = line_of(engine, 1)
    assert stock(engine, "TUBE") == (10, 1) and stock(engine, "CHAIN") == (5, 0)
    with pytest.raises(PriceDiffers) as asked:
        change_line_product(engine, line.id, product_id(engine, "CHAIN"), ANNA)
    assert (asked.value.shop_price, asked.value.web_price) == (Decimal("39.50"), Decimal("10.00"))
    assert line_of(engine, 1).product_id == product_id(engine, "TUBE"), "nothing changed before the person confirmed"
    assert change_line_product(engine, line.id, product_id(engine, "CHAIN"), ANNA, price_confirmed=True).sku == "CHAIN"
    assert stock(engine, "TUBE") == (10, 0) and stock(engine, "CHAIN") == (5, 1)
    assert change_line_product(engine, line.id, product_id(engine, "TUBE"), ANNA, price_confirmed=True).sku == "TUBE", \
        "and again"
    assert stock(engine, "TUBE") == (10, 1) and stock(engine, "CHAIN") == (5, 0)


def test_undo_puts_the_line_back_where_the_rules_put_it(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    line = line_of(engine, 1)
    change_line_product(engine, line.id, product_id(engine, "CHAIN"), ANNA, price_confirmed=True)
    said = undo_line_product(engine, line.id, ANNA)
    assert "off CHAIN, back on TUBE" in said
    assert line_of(engine, 1).product_id == product_id(engine, "TUBE") and not line_of(engine, 1).product_by_hand
    assert stock(engine, "TUBE") == (10, 1) and stock(engine, "CHAIN") == (5, 0)
    with engine.connect() as conn:
        assert conn.execute(select(AuditEntry.old_value, AuditEntry.new_value)
                            .where(AuditEntry.action == "undo_line_product")).one() == ("CHAIN", "TUBE")


def test_undo_of_a_line_no_rule_can_match_leaves_it_waiting_with_nothing_committed(engine, channel):
    store(engine, channel, order(1, ("MYSTERY", 1)))
    line = line_of(engine, 1)
    assert line.product_id is None and sale(engine, 1).state == "waiting_match"
    change_line_product(engine, line.id, product_id(engine, "TUBE"), ANNA, price_confirmed=True)
    assert stock(engine, "TUBE") == (10, 1) and sale(engine, 1).state == "ready"
    assert "waits for a product again" in undo_line_product(engine, line.id, ANNA)
    assert line_of(engine, 1).product_id is None and stock(engine, "TUBE") == (10, 0)
    assert sale(engine, 1).state == "waiting_match"


def test_undo_says_nothing_was_undone_when_no_person_chose_the_product(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    with pytest.raises(SaleError, match="no person chose"):
        undo_line_product(engine, line_of(engine, 1).id, ANNA)
    assert stock(engine, "TUBE") == (10, 1)


def test_a_completed_sale_keeps_its_lines(engine, channel):
    store(engine, channel, order(1, ("TUBE", 1)))
    s = sale(engine, 1)
    complete_sale(engine, s.id, ANNA, s.version, checks=ALL_CHECKS)
    with pytest.raises(SaleError, match="completed"):
        change_line_product(engine, line_of(engine, 1).id, product_id(engine, "CHAIN"), ANNA, price_confirmed=True)
    assert stock(engine, "TUBE") == (9, 0) and stock(engine, "CHAIN") == (5, 0)
