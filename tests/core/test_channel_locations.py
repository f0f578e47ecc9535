"""A web store that sells the stock of several shops: each shop location's availability reaches its
store location (Shopify), or their sum the product's one stock (WooCommerce); a pickup order lands
on the shop the customer chose, a shipped order on the channel's primary location."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from cli import main
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.audit import Actor
from core.models import AuditEntry, Location, Product, ProductLink, Stock, WebListing, WebSale
from core.resolver import link_listing, unlink_listing
from core.secrets import save_secret

from tests.core.connectors.conftest import KEY, SECRET, TOKEN, make_store

RIVERSIDE = "gid://shopify/Location/2"
MAIN_COUNTS = ("sku,part_number,description,price,quantity\n"
               "SKU-1,MPN-1,Tube,11.00,10\nSKU-2,MPN-2,Chain,12.00,5\nSKU-3,MPN-3,Bell,13.00,3\n")
RIVERSIDE_COUNTS = ("sku,part_number,description,price,quantity\n"
                    "SKU-1,MPN-1,Tube,11.00,4\nSKU-2,MPN-2,Chain,12.00,2\nSKU-3,MPN-3,Bell,13.00,0\n")


def order(number: int, variant, *, pickup: str | None = None, shipping: str = "0.00") -> DemoOrder:
    return DemoOrder(number=number, name=f"#{number}", created_at="2026-11-26T15:00:00Z",
                     updated_at="2026-11-26T15:00:00Z", email=f"c{number}@example.com", customer=f"Customer {number}",
                     phone=None, address=[f"Customer {number}", "1 Main St"],
                     lines=[DemoOrderLine(number * 10, variant, "Item", 1, variant.price)],
                     shipping=Decimal(shipping), pickup_location=pickup)


@pytest.fixture
def two_shops(database_url, tmp_path, capsys):
    """Two shop locations with their counts, and a demo store with two locations, a pickup order at
    the second and a shipped order."""
    store = make_store(products=3, orders=0)
    store.locations[RIVERSIDE] = "Riverside mall"
    variants = [variant for _, variant in store.variants()]
    store.orders += [order(501, variants[1], pickup=RIVERSIDE), order(502, variants[2], shipping="7.50")]
    (tmp_path / "main.csv").write_text(MAIN_COUNTS)
    (tmp_path / "riverside.csv").write_text(RIVERSIDE_COUNTS)
    db = ["--db", database_url]
    assert main(["--import-catalog", str(tmp_path / "main.csv"), "--location", "Main Street", *db]) == 0
    assert main(["--add-location", "Riverside", *db]) == 0
    assert main(["--import-catalog", str(tmp_path / "riverside.csv"), "--location", "Riverside", *db]) == 0
    capsys.readouterr()
    with LoopbackServer(store) as server:
        yield store, server, db


def configure(tmp_path, server, platform: str, locations: str) -> list[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[channels.Web]\nplatform = "{platform}"\nurl = "{server.url}"\nlocation = "Main Street"\n'
                      f'export_time = "00:00"\n[channels.Web.locations]\n{locations}')
    if platform == "shopify":
        save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    else:
        save_secret(tmp_path / "secrets.toml", "Web", "consumer_key", KEY)
        save_secret(tmp_path / "secrets.toml", "Web", "consumer_secret", SECRET)
    return ["--config", str(config)]


def sync(capsys, *args) -> dict:
    assert main(["--sync", "--export-now", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)["channels"][0]


def sale_locations(database_url) -> dict[str, tuple[str, int]]:
    engine = open_database(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(WebSale.order_number, Location.name)
                            .join(Location, Location.id == WebSale.location_id)).all()
        committed = dict(conn.execute(select(Product.sku, Stock.committed)
                                      .join(Product, Product.id == Stock.product_id)
                                      .join(Location, Location.id == Stock.location_id)
                                      .where(Location.name == "Riverside")).all())
    engine.dispose()
    return {number: (name, committed) for number, name in rows}


def test_shopify_gets_each_shops_availability_at_its_own_location(two_shops, database_url, tmp_path, capsys):
    store, server, db = two_shops
    options = configure(tmp_path, server, "shopify",
                        f'"Main Street" = "{LOCATION_ID}"\n"Riverside" = "{RIVERSIDE}"\n')
    first = sync(capsys, *db, *options)
    assert first["status"] == "ok" and first["orders_imported"] == 2, first
    by_sku = {variant.sku: variant.available for _, variant in store.variants()}
    # The pickup order took one chain at Riverside; the shipped order one bell at Main Street.
    assert by_sku["SKU-1"] == {LOCATION_ID: 10, RIVERSIDE: 4}
    assert by_sku["SKU-2"] == {LOCATION_ID: 5, RIVERSIDE: 1}
    assert by_sku["SKU-3"] == {LOCATION_ID: 2, RIVERSIDE: 0}
    locations = sale_locations(database_url)
    assert locations["#501"][0] == "Riverside", "a pickup order goes to the shop the customer chose"
    assert locations["#502"][0] == "Main Street", "a shipped order goes to the channel's primary location"
    assert locations["#501"][1]["SKU-2"] == 1, "its unit is committed at that shop"

    again = sync(capsys, *db, *options)
    assert again["items_exported"] == 0, "each store location remembers what it accepted"

    (tmp_path / "riverside.csv").write_text(RIVERSIDE_COUNTS.replace("Tube,11.00,4", "Tube,11.00,9"))
    assert main(["--import-catalog", str(tmp_path / "riverside.csv"), "--location", "Riverside", *db]) == 0
    capsys.readouterr()
    changed = sync(capsys, *db, *options)
    assert changed["items_exported"] == 1
    assert store.variants()[0][1].available == {LOCATION_ID: 10, RIVERSIDE: 9}
    assert main(["--retire-location", "Riverside", *db]) == 1
    assert "the web store 'Web' still uses 'Riverside'" in capsys.readouterr().err

    # A person confirms the link by hand: the automatic link it replaces takes its marks with it, so
    # every store location is sent again (a store changed meanwhile is put right), then undoes it.
    engine = open_database(database_url)
    with engine.connect() as conn:
        listing, product, version = conn.execute(
            select(WebListing.id, Product.id, WebListing.version).join(ProductLink, ProductLink.listing_id == WebListing.id)
            .join(Product, Product.id == ProductLink.product_id).where(Product.sku == "SKU-1")).one()
    link_listing(engine, listing, product, Actor("t"), version)
    store.variants()[0][1].available[RIVERSIDE] = 0  # changed on the store meanwhile
    relinked = sync(capsys, *db, *options)
    assert relinked["items_exported"] == 2, "both store locations of the relinked listing"
    assert store.variants()[0][1].available == {LOCATION_ID: 10, RIVERSIDE: 9}
    unlink_listing(engine, listing, Actor("t"))
    engine.dispose()
    assert sync(capsys, *db, *options)["status"] == "ok"
    assert store.variants()[0][1].available == {LOCATION_ID: 10, RIVERSIDE: 9}


def test_woocommerce_gets_the_sum_of_the_shops_it_sells(two_shops, database_url, tmp_path, capsys):
    store, server, db = two_shops
    options = configure(tmp_path, server, "woocommerce",
                        '"Main Street" = "Main warehouse"\n"Riverside" = "Riverside mall"\n')
    assert sync(capsys, *db, *options)["status"] == "ok"
    # WooCommerce keeps one stock per product: Main Street's and Riverside's availability together.
    assert {variant.sku: variant.available[LOCATION_ID] for _, variant in store.variants()} == {
        "SKU-1": 14, "SKU-2": 6, "SKU-3": 2}
    locations = sale_locations(database_url)
    assert locations["#501"][0] == "Riverside", "WooCommerce's pickup line names the shop the customer chose"
    assert locations["#502"][0] == "Main Street"


def test_the_locations_a_channel_sells_are_audited_when_they_change(two_shops, database_url, tmp_path, capsys):
    store, server, db = two_shops
    sync(capsys, *db, *configure(tmp_path, server, "shopify", f'"Main Street" = "{LOCATION_ID}"\n'))
    sync(capsys, *db, *configure(tmp_path, server, "shopify",
                                 f'"Main Street" = "{LOCATION_ID}"\n"Riverside" = "{RIVERSIDE}"\n'))
    engine = open_database(database_url)
    with engine.connect() as conn:
        changes = conn.execute(select(AuditEntry.old_value, AuditEntry.new_value)
                               .where(AuditEntry.action == "channel_locations").order_by(AuditEntry.id)).all()
    engine.dispose()
    assert [tuple(json.loads(value) for value in change) for change in changes] == [
        ([], [LOCATION_ID]), ([LOCATION_ID], sorted([LOCATION_ID, RIVERSIDE]))]


@pytest.mark.parametrize("locations, expected", [
    ('"Harbour" = "gid://shopify/Location/3"\n"Main Street" = "gid://shopify/Location/1"\n',
     "no shop location named 'Harbour' (add it with: tandem --add-location 'Harbour')"),
    ('"Riverside" = "gid://shopify/Location/2"\n', "location 'Main Street' (where shipped orders go) must be one"),
    ('"Main Street" = "gid://shopify/Location/1"\n"Riverside" = "gid://shopify/Location/1"\n',
     "two shop locations in locations name the same store location"),
])
def test_a_wrong_locations_table_is_refused_with_the_reason(two_shops, database_url, tmp_path, capsys,
                                                            locations, expected):
    store, server, db = two_shops
    options = configure(tmp_path, server, "shopify", locations)
    assert main(["--sync", *db, *options]) == 2
    assert expected in capsys.readouterr().err
    assert not any(store.requests.values()), "nothing was asked of the store"
