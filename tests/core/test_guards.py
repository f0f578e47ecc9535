"""Guards that nothing checked: each test here fails when its guard is taken out of the code.

- a POS customer's details belong to the shop: linking a web sale or importing an order never
  rewrites them;
- the export holds back the channel's safety buffer and never sends a negative quantity;
- every change to a sale claims the version staff saw (two people, one sale);
- a return never brings back more than was sold: the units other posted returns took are counted
  when a quantity is entered, and counted again, under lock, when the return is posted.
(The group-readable secrets file is in test_careless_admin.)
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import insert, select, update

from core.dbtypes import utcnow
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.sync.export import plan_export
from core.models import PosCustomer, Product, ProductLink, SalesChannel, Stock, WebSale
from core.returns import ReturnError, complete_return, return_view, set_quantity, start_return
from core.customers import link_customer
from core.pickup import cancel_sale
from core.sales import SaleError
from core.sync import SyncOptions, apply_channel_settings, run_sync

from tests.core.connectors.conftest import make_store
from tests.core.test_returns import sold  # noqa: F401 - a fixture
from tests.core.test_sales import ANNA, channel, order, sale, store  # noqa: F401 - channel is a fixture
from tests.core.test_sync import catalog_for, connectors


def test_linking_a_sale_or_importing_an_order_never_rewrites_the_pos_customer(engine, channel):  # noqa: F811
    with engine.begin() as conn:
        kept = {"name": "Ana L.", "email": "ana@example.com", "phone": "555-9999", "address": "12 Shop St"}
        customer = conn.execute(insert(PosCustomer.__table__).values(**kept, created_at=utcnow())) \
            .inserted_primary_key[0]
    store(engine, channel, order(1, ("TUBE", 1), email="ANA@example.com"))
    s = sale(engine, 1)
    link_customer(engine, s.id, customer, ANNA, s.version)
    # The customer changes their email on the website; the order comes again, then another one.
    store(engine, channel, replace(order(1, ("TUBE", 1), email="ana.new@example.com", updated=5),
                                   customer_name="Ana Lima-Costa", customer_phone="555-0000"))
    store(engine, channel, order(2, ("TUBE", 1), email="ana.new@example.com"))
    with engine.connect() as conn:
        row = conn.execute(select(PosCustomer.name, PosCustomer.email, PosCustomer.phone, PosCustomer.address)
                           .where(PosCustomer.id == customer)).one()
    assert row._asdict() == kept
    assert sale(engine, 1).pos_customer_id == customer


def test_a_sale_is_only_changed_by_whoever_saw_its_current_version(engine, channel):  # noqa: F811
    store(engine, channel, order(1, ("TUBE", 1)))
    seen = sale(engine, 1)
    with engine.begin() as conn:  # someone else changed the sale meanwhile
        conn.execute(update(WebSale).where(WebSale.id == seen.id).values(version=seen.version + 1))
    before = sale(engine, 1)
    with pytest.raises(SaleError, match="someone else changed"):
        cancel_sale(engine, seen.id, ANNA, seen.version)
    with engine.begin() as conn:
        customer = conn.execute(insert(PosCustomer.__table__).values(name="Ana", created_at=utcnow())) \
            .inserted_primary_key[0]
    with pytest.raises(SaleError, match="someone else changed"):
        link_customer(engine, seen.id, customer, ANNA, seen.version)
    assert sale(engine, 1) == before


def test_a_quantity_entered_counts_what_posted_returns_took(engine, sold):  # noqa: F811
    first = start_return(engine, sold, ANNA)
    tubes = next(line for line in return_view(engine, first).lines if line.title.startswith("Tube"))
    set_quantity(engine, tubes.id, 2, ANNA)
    complete_return(engine, first, ANNA, return_view(engine, first).version)
    second = start_return(engine, sold, ANNA)
    tubes = next(line for line in return_view(engine, second).lines if line.title.startswith("Tube"))
    with pytest.raises(ReturnError, match="only 1 of 3"):
        set_quantity(engine, tubes.id, 2, ANNA)


def test_two_drafts_for_the_same_units_cannot_both_be_posted(engine, sold):  # noqa: F811
    drafts = [start_return(engine, sold, ANNA) for _ in range(2)]
    for draft in drafts:
        tubes = next(line for line in return_view(engine, draft).lines if line.title.startswith("Tube"))
        set_quantity(engine, tubes.id, 3, ANNA)  # drafts reserve nothing: both may say 3
    complete_return(engine, drafts[0], ANNA, return_view(engine, drafts[0]).version)
    with pytest.raises(ReturnError, match="Tube 700x25: 3 asked, 0 left"):
        complete_return(engine, drafts[1], ANNA, return_view(engine, drafts[1]).version)
    assert return_view(engine, drafts[1]).state == "draft"


@pytest.fixture
def exported(engine):
    """A store whose listings are all matched, with the shop's stock at each product's number % 7."""
    shop_store = make_store(products=12, orders=0)
    from core.catalog_import import import_catalog

    import_catalog(engine, catalog_for(shop_store), "Main Street")
    with LoopbackServer(shop_store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        run_sync(engine, connectors=connectors(server), log=lambda message: None)
        yield engine, shop_store, server


def planned_quantities(engine) -> dict[str, int]:
    with engine.connect() as conn:
        channel_id = conn.execute(select(SalesChannel.id)).scalar()
        skus = {link: sku for link, sku in conn.execute(
            select(ProductLink.id, Product.sku).join(Product, Product.id == ProductLink.product_id))}
        return {skus[link]: update_.quantity for link, update_ in plan_export(conn, channel_id, full=True).stock}


def on_hand(engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        return {sku: (held, committed) for sku, held, committed in conn.execute(
            select(Product.sku, Stock.on_hand, Stock.committed).join(Stock, Stock.product_id == Product.id))}


def test_the_export_holds_back_the_safety_buffer_and_never_sends_less_than_zero(exported):
    engine, shop_store, server = exported
    with engine.begin() as conn:
        conn.execute(update(SalesChannel).values(safety_buffer=2))
        conn.execute(update(Stock).where(Stock.product_id == select(Product.id).where(Product.sku == "POS-3")
                                         .scalar_subquery()).values(on_hand=1, committed=4))  # oversold
    stock = on_hand(engine)
    planned = planned_quantities(engine)
    assert planned == {sku: max(held - committed - 2, 0) for sku, (held, committed) in stock.items()}
    assert planned["POS-3"] == 0 and planned["POS-6"] == 4
    run_sync(engine, options=SyncOptions(full=True), connectors=connectors(server), log=lambda message: None)
    sent = {f"POS-{variant.number}": variant.available[LOCATION_ID] for _, variant in shop_store.variants()}
    assert sent == planned
