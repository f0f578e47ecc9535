from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.dbtypes import utcnow
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel
from core.models import AuditEntry, Platform, Product, SaleState, WebListing, WebSale, WebSaleLine
from core.resolver import (
    AlreadyResolvedError, ResolveError, candidates_for, explain, link_listing, mark_not_sold_online,
    resolver_queue, unlink_listing, waiting_orders,
)

ANNA, BRUNO = Actor("anna", "192.0.2.1"), Actor("bruno")
CATALOG = """sku,description,brand,upc,part_number,price,quantity
KC-CH11,Kestrel 11-speed chain 118 links,Kestrel,036000241457,KC-CH11,39.50,4
KC-CH12,Kestrel 12-speed chain 126 links,Kestrel,,KC-CH12,49.50,2
VT-CH12,Velotek 12-speed chain 126 links,Velotek,,KC-CH12,44.00,0
LL-800,Lumen 800 lumen front light,Lumen,0845012000019,LL-800,79.00,3
LL-801,Lumen 800 lumen front light,Lumen,0845012000019,LL-801,79.00,1
"""


def listed_shop(engine, catalog: str, listings: list[ListingData]) -> int:
    """A shop with `catalog` and one web store showing `listings`, matched by the rules; its channel."""
    import_catalog(engine, catalog.encode(), "Main Street", ANNA)
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.DEMO, "http://127.0.0.1")
        store_listings(conn, channel, listings)
        match_channel(conn, channel)
    return channel


@pytest.fixture
def shop(engine):
    return engine, listed_shop(engine, CATALOG, [
        ListingData("w-chain11", "11 speed chain Kestrel", barcode="036000241457"),  # matched
        ListingData("w-chain12", "12-speed chain 126L", part_number="kc-ch12"),  # ambiguous part no.
        ListingData("w-light", "Front light 800 lm", barcode="845012000019"),  # ambiguous barcode
        ListingData("w-pump", "Floor pump steel", product_code="ST-PUMP"),  # unmatched
        ListingData("w-bad", "Mystery tube", barcode="036000241458"),  # invalid GTIN
    ])


def listing(engine, external_id):
    with engine.connect() as conn:
        return conn.execute(select(WebListing.__table__).where(WebListing.external_id == external_id)).one()


def product_id(engine, sku):
    with engine.connect() as conn:
        return conn.execute(select(Product.id).where(Product.sku == sku)).scalar_one()


def add_waiting_sale(engine, channel, external_id, order, hours_ago):
    row = listing(engine, external_id)
    with engine.begin() as conn:
        sale = conn.execute(insert(WebSale.__table__).values(
            channel_id=channel, external_id=order, order_number=order, state=SaleState.WAITING_MATCH.value,
            ordered_at=utcnow() - timedelta(hours=hours_ago), imported_at=utcnow())).inserted_primary_key[0]
        conn.execute(insert(WebSaleLine.__table__).values(
            sale_id=sale, external_id="1", listing_id=row.id, title=row.title, quantity=1, unit_price=10))
    return sale


def test_the_queue_puts_listings_holding_up_sales_first_oldest_sale_first(shop):
    engine, channel = shop
    add_waiting_sale(engine, channel, "w-light", "#1002", hours_ago=1)
    add_waiting_sale(engine, channel, "w-pump", "#1001", hours_ago=5)
    page = resolver_queue(engine)
    assert [item.title for item in page.items] == [
        "Floor pump steel", "Front light 800 lm", "12-speed chain 126L", "Mystery tube"]
    assert page.total == 4 and not page.has_more
    assert page.items[0].waiting_lines == 1
    assert waiting_orders(engine, page.items[0].listing_id) == ["#1001"]


def test_the_queue_pages_without_gaps_or_repeats(shop):
    engine, _ = shop
    first = resolver_queue(engine, limit=3)
    assert first.has_more
    rest = resolver_queue(engine, after=first.items[-1].sort_key, limit=3)
    titles = [i.title for i in first.items + rest.items]
    assert len(titles) == len(set(titles)) == 4 and not rest.has_more


def test_candidates_put_identical_keys_first_then_similar_names(shop):
    engine, _ = shop
    candidates = candidates_for(engine, listing(engine, "w-chain12").id)
    assert [c.sku for c in candidates[:2]] == ["KC-CH12", "VT-CH12"]
    assert all(c.identical and c.why.startswith("part no. ·") for c in candidates[:2])
    similar = [c for c in candidates if not c.identical]
    assert similar and similar[0].sku == "KC-CH11" and similar[0].why.startswith("12-speed 126l ≠ 11-speed")
    assert candidates[0].available == 2


def test_a_product_code_equal_to_a_sku_is_offered_as_a_candidate(shop):
    engine, _ = shop
    import_catalog(engine, b"sku,description,price\nST-PUMP,Summit steel floor pump,39.00\n", None, ANNA)
    candidates = candidates_for(engine, listing(engine, "w-pump").id)
    assert candidates[0].sku == "ST-PUMP" and candidates[0].why.startswith("SKU=code ·")


def test_explanations_say_why_a_person_is_needed(shop):
    engine, _ = shop
    assert "share the part number kc-ch12: KC-CH12, VT-CH12" in explain(engine, listing(engine, "w-chain12").id)
    assert "share the barcode 00845012000019: LL-800, LL-801" in explain(engine, listing(engine, "w-light").id)
    pump = explain(engine, listing(engine, "w-pump").id)
    assert "no usable barcode and no part number" in pump and "only used for sales" in pump
    assert "not a valid GTIN" in explain(engine, listing(engine, "w-bad").id)


def test_linking_resolves_the_listing_readies_waiting_sales_and_is_audited(shop):
    engine, channel = shop
    sale = add_waiting_sale(engine, channel, "w-light", "#1003", hours_ago=2)
    light = listing(engine, "w-light")
    link_listing(engine, light.id, product_id(engine, "LL-801"), ANNA, light.version)
    assert listing(engine, "w-light").match_state == "matched"
    with engine.connect() as conn:
        assert conn.execute(select(WebSale.state).where(WebSale.id == sale)).scalar() == "ready"
        assert conn.execute(select(WebSaleLine.product_id).where(WebSaleLine.sale_id == sale)).scalar() \
            == product_id(engine, "LL-801")
        audit = conn.execute(select(AuditEntry.__table__).where(AuditEntry.action == "link")).one()
    assert (audit.actor, audit.client, audit.new_value, audit.note) == (
        "anna", "192.0.2.1", "LL-801", "Front light 800 lm")
    assert [i.title for i in resolver_queue(engine).items] == [
        "12-speed chain 126L", "Floor pump steel", "Mystery tube"]


def test_the_second_person_is_told_and_nothing_is_overwritten(shop):
    engine, _ = shop
    light = listing(engine, "w-light")
    link_listing(engine, light.id, product_id(engine, "LL-800"), ANNA, light.version)
    with pytest.raises(AlreadyResolvedError, match="anna@192.0.2.1 already resolved"):
        link_listing(engine, light.id, product_id(engine, "LL-801"), BRUNO, light.version)
    with pytest.raises(AlreadyResolvedError):
        mark_not_sold_online(engine, light.id, BRUNO, light.version)
    with engine.connect() as conn:
        links = conn.execute(select(AuditEntry.actor).where(AuditEntry.entity == "weblisting")).scalars().all()
    assert links == ["anna"]


def test_a_listing_seen_before_it_changed_is_refused(shop):
    engine, channel = shop
    pump = listing(engine, "w-pump")
    with engine.begin() as conn:
        store_listings(conn, channel, [ListingData("w-pump", "Floor pump steel (new model)", product_code="ST-PUMP")])
    with pytest.raises(AlreadyResolvedError, match="changed since it was shown"):
        mark_not_sold_online(engine, pump.id, BRUNO, pump.version)


def test_a_product_linked_by_hand_cannot_be_linked_twice(shop):
    engine, _ = shop
    light, chain = listing(engine, "w-light"), listing(engine, "w-chain12")
    link_listing(engine, light.id, product_id(engine, "LL-800"), ANNA, light.version)
    with pytest.raises(ResolveError, match="LL-800 is already linked by hand"):
        link_listing(engine, chain.id, product_id(engine, "LL-800"), ANNA, chain.version)


def test_undo_puts_the_listing_back_through_the_rules(shop):
    engine, _ = shop
    light = listing(engine, "w-light")
    link_listing(engine, light.id, product_id(engine, "LL-800"), ANNA, light.version)
    said = unlink_listing(engine, light.id, ANNA)
    assert said.startswith(f"Undone: “{light.title}” is no longer LL-800"), "it names the listing undone"
    assert listing(engine, "w-light").match_state == "ambiguous"
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action, AuditEntry.old_value)
                               .where(AuditEntry.entity == "weblisting").order_by(AuditEntry.id)).all()
    assert actions == [("link", None), ("unlink", "LL-800")]
    with pytest.raises(ResolveError, match="no manual link"):
        unlink_listing(engine, light.id, ANNA)
