"""Availability is the stock of the location a sale takes its units from, not the sum of every
location (the others are shown beside it); a unit committed where there is none is said so.
SQLite and PostgreSQL."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from core.audit import Actor
from core.catalog import search_products
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.connectors.base import OrderLine, WebOrder
from core.locations import add_location
from core.models import ChannelLocation, Location, Platform, Product, WebListing, WebSaleLine
from core.resolver import candidates_for
from core.sales import change_line_product
from core.sync import import_orders
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel

ANNA = Actor("anna")
MAIN = b"sku,description,part_number,price,quantity\nHELMET-M,Helmet Aero M,HA-1,120.00,4\nHELMET-L,Helmet Aero L,HA-1,120.00,0\n"
RIVERSIDE = b"sku,description,part_number,price,quantity\nHELMET-M,Helmet Aero M,HA-1,120.00,0\nHELMET-L,Helmet Aero L,HA-1,120.00,2\n"


@pytest.fixture
def two_shops(engine):
    import_catalog(engine, MAIN, "Main Street", ANNA)
    add_location(engine, "Riverside", ANNA)
    import_catalog(engine, RIVERSIDE, "Riverside", ANNA)
    with engine.begin() as conn:
        main, riverside = conn.execute(select(Location.id).order_by(Location.id)).scalars().all()
        channel = add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com", main)
        conn.execute(insert(ChannelLocation.__table__), [
            {"channel_id": channel, "location_id": main, "store_location": "loc-main"},
            {"channel_id": channel, "location_id": riverside, "store_location": "loc-river"}])
        # Both sizes share a part number: the listing is ambiguous and waits for a person.
        store_listings(conn, channel, [ListingData("w-helmet", "Aero helmet", part_number="HA-1",
                                                   price=Decimal("120.00"))])
        match_channel(conn, channel)
        when = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        # Picked up at Riverside: its unit comes from Riverside's shelf.
        import_orders(conn, channel, [WebOrder(
            "o1", "#1001", "authorized", when, when, "USD", total=Decimal("120.00"), pickup_location="loc-river",
            lines=[OrderLine("l1", "Aero helmet", 1, Decimal("120.00"), part_number="HA-1",
                             listing_external_id="w-helmet")])])
    return engine, riverside


def test_the_resolver_shows_the_sale_locations_stock_first_and_the_rest_beside_it(two_shops):
    engine, _riverside = two_shops
    with engine.connect() as conn:
        listing = conn.execute(select(WebListing.id)).scalar()
    by_sku = {candidate.sku: candidate for candidate in candidates_for(engine, listing)}
    assert (by_sku["HELMET-M"].available, by_sku["HELMET-M"].elsewhere) == (0, 4), "none at Riverside, 4 at Main"
    assert (by_sku["HELMET-L"].available, by_sku["HELMET-L"].elsewhere) == (2, 0)


def test_the_pick_list_shows_the_sale_locations_stock(two_shops):
    engine, riverside = two_shops
    rows = {row.sku: row for row in search_products(engine, "helmet", location_id=riverside).rows}
    assert (rows["HELMET-M"].available, rows["HELMET-M"].available_elsewhere) == (0, 4)
    everywhere = {row.sku: row for row in search_products(engine, "helmet").rows}
    assert everywhere["HELMET-M"].available == 4


def test_a_unit_committed_where_there_is_none_is_said(two_shops):
    engine, _riverside = two_shops
    with engine.connect() as conn:
        line = conn.execute(select(WebSaleLine.id)).scalar()
        medium, large = (conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
                         for sku in ("HELMET-M", "HELMET-L"))
    assert change_line_product(engine, line, medium, ANNA).short_at == "Riverside"
    assert change_line_product(engine, line, large, ANNA).short_at is None


def test_a_products_stock_lists_the_sale_location_first(two_shops):
    from core.catalog import product_detail

    engine, riverside = two_shops
    with engine.connect() as conn:
        medium = conn.execute(select(Product.id).where(Product.sku == "HELMET-M")).scalar()
    assert [s.location for s in product_detail(engine, medium, riverside).stock] == ["Riverside", "Main Street"]
    assert [s.location for s in product_detail(engine, medium).stock] == ["Main Street", "Riverside"]


def test_a_link_that_commits_where_there_is_none_is_said(two_shops):
    from core.resolver import link_listing, short_after_link

    engine, _riverside = two_shops
    with engine.connect() as conn:
        listing = conn.execute(select(WebListing.id, WebListing.version)).one()
        medium = conn.execute(select(Product.id).where(Product.sku == "HELMET-M")).scalar()
    link_listing(engine, listing.id, medium, ANNA, listing.version)
    assert short_after_link(engine, listing.id) == ["Riverside"]


def test_a_sale_says_which_shop_it_is_picked_up_at(two_shops):
    from core.inbox import sale_detail
    from core.models import WebSale

    engine, _riverside = two_shops
    with engine.connect() as conn:
        sale_id = conn.execute(select(WebSale.id)).scalar()
    assert sale_detail(engine, sale_id).location == "Riverside"
