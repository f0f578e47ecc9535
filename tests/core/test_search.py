"""Finding a sale or a POS customer as staff remember it (core.search), paged from an index."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, text

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import OrderLine, WebOrder
from core.customers import add_customer, search_customers
from core.dbtypes import utcnow
from core.db import MIGRATIONS_DIR, make_engine, migrate
from core.inbox import inbox
from core.models import Location, Platform, SalesChannel, SaleState, WebSale
from core.pickup import PickupChecks, complete_sale
from core.returns import find_sales
from core.search import sale_condition, terms_for, typed_words
from core.sync import import_orders

ANNA = Actor("anna", "192.0.2.1")
CATALOG = b"""sku,description,upc,price,quantity,non_inventory,gift_card
TUBE,Tube 700x25,036000241457,8.99,10,no,no
CHAIN,Chain 11s,,39.50,5,no,no
"""
WHEN = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def order(number: int, name: str, email: str, phone: str | None, code: str = "CHAIN", barcode=None) -> WebOrder:
    return WebOrder(
        external_id=f"o{number}", order_number=f"#{number}", status="authorized",
        ordered_at=WHEN + timedelta(minutes=number), updated_at=WHEN + timedelta(minutes=number), currency="USD",
        customer_name=name, customer_email=email, customer_phone=phone, total=Decimal("10.00"),
        lines=[OrderLine(f"{number}-1", code, 1, Decimal("10.00"), product_code=code, barcode=barcode)])


PEOPLE = [
    order(1041, "Élodie Martin", "elodie.martin@example.fr", "555-0177"),
    order(1042, "Maya Lindqvist", "maya.lindqvist@example.com", "(555) 014-2000", code="TUBE", barcode="036000241457"),
    order(1043, "Martin Ortega", "tomas@example.net", None),
    order(2001, "Sam Okafor", "sam.okafor@example.com", "555 0199"),
]


@pytest.fixture
def channel(engine):
    import_catalog(engine, CATALOG, "Main Street", ANNA)
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com",
                              conn.execute(select(Location.id)).scalar())
        import_orders(conn, channel, PEOPLE)
    return channel


def numbers(page) -> list[str]:
    return [row.order_number for row in page.rows]


def test_the_inbox_finds_a_sale_by_number_name_email_phone_or_barcode(engine, channel):
    found = {typed: numbers(inbox(engine, search=typed)) for typed in (
        "#1041", "1041", "elodie", "ÉLODIE", "lindq", "maya.lindqvist@ex", "0177", "555-0177", "5550199",
        "martin", "martin ortega", "0036000241457", "036000241457", "nobody", "#9999")}
    assert found == {
        "#1041": ["#1041"], "1041": ["#1041"], "elodie": ["#1041"], "ÉLODIE": ["#1041"], "lindq": ["#1042"],
        "maya.lindqvist@ex": ["#1042"], "0177": ["#1041"], "555-0177": ["#1041"], "5550199": ["#2001"],
        # Every typed word must match: both Martins, then only Martin Ortega.
        "martin": ["#1043", "#1041"], "martin ortega": ["#1043"],
        # A scanned barcode, as the scanner sends it (with or without the leading zero of GTIN-14).
        "0036000241457": ["#1042"], "036000241457": ["#1042"], "nobody": [], "#9999": [],
    }
    assert inbox(engine, search="104").total == 3, "a typed start of an order number finds each sale it starts"
    assert numbers(inbox(engine, search="  ")) == numbers(inbox(engine)), "an empty search is no search"


def test_a_search_pages_like_the_inbox(engine, channel):
    with engine.begin() as conn:
        import_orders(conn, channel, [replace(PEOPLE[1], external_id=f"m{n}", order_number=f"#3{n:03}",
                                              ordered_at=WHEN + timedelta(hours=n)) for n in range(120)])
    first = inbox(engine, search="maya")
    assert first.total == 121 and len(first.rows) == 50 and first.has_more
    second = inbox(engine, search="maya", after=first.rows[-1].key)
    assert not {r.sale_id for r in first.rows} & {r.sale_id for r in second.rows}
    assert second.rows[0].ordered_at <= first.rows[-1].ordered_at


def test_returns_find_a_completed_sale_by_customer_name_too(engine, channel):
    with engine.connect() as conn:
        sale = conn.execute(select(WebSale.__table__).where(WebSale.order_number == "#1043")).one()
    assert find_sales(engine, "ortega") == [], "only completed sales can be returned"
    complete_sale(engine, sale.id, ANNA, sale.version, checks=PickupChecks(True, True, True))
    assert [row[1] for row in find_sales(engine, "ortega")] == ["#1043"]
    assert [row[1] for row in find_sales(engine, "Martin Ortega")] == ["#1043"]
    assert [row[1] for row in find_sales(engine, "tomas@example.net")] == ["#1043"]


def test_pos_customers_are_found_by_a_word_of_the_name_the_email_or_the_phone(engine):
    with engine.begin() as conn:
        ana = add_customer(conn, name="Ana Lima", email="ana@example.com", phone="555-0100")
        corner = add_customer(conn, name="Corner Cycles (account)", email="desk@corner.example", phone="555-7788")
    assert [r[0] for r in search_customers(engine, "cycles")] == [corner]
    assert [r[0] for r in search_customers(engine, "desk@corner")] == [corner]
    assert [r[0] for r in search_customers(engine, "7788")] == [corner]
    assert [r[0] for r in search_customers(engine, "lima ana")] == [ana]
    assert search_customers(engine, "lima corner") == []


def test_the_search_is_an_index_range_not_a_scan(engine, channel):
    """On SQLite, the plan of an inbox search reads `searchterm` by its primary key."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan; PostgreSQL's planner chooses by table statistics")
    from sqlalchemy.dialects import sqlite

    query = select(WebSale.id).where(sale_condition("lindqvist"))
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = " | ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "searchterm USING" in plan and "INDEX" in plan, plan
    assert "SCAN searchterm" not in plan, plan


def test_what_is_typed_is_read_as_the_words_are_stored():
    assert typed_words("#1041  Élodie 555-0177") == ["1041", "elodie", "5550177"]
    assert {"1041", "elodie", "martin", "elodie.martin@example.fr", "5550177", "0177"} <= terms_for(
        "#1041", "Élodie Martin", "elodie.martin@example.fr", "555-0177")


def test_sales_stored_before_the_search_existed_are_found_after_the_upgrade(database_url):
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        location = conn.execute(insert(Location.__table__).values(name="Main Street", created_at=utcnow())
                                ).inserted_primary_key[0]
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com", location)
        conn.execute(insert(WebSale.__table__).values(
            channel_id=conn.execute(select(SalesChannel.id)).scalar(), external_id="old", order_number="#0007", state=SaleState.READY.value,
            customer_name="Priya Raman", customer_email="priya.r@example.org", ordered_at=WHEN, version=1))
    migrate(engine)
    assert numbers(inbox(engine, search="raman")) == ["#0007"]
    engine.dispose()
