"""Properties of the matcher over random catalogs and listings (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.identifiers import with_check_digit
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel
from core.models import (
    AuditEntry, Location, Platform, Product, ProductLink, SalesChannel, Stock, SyncCursor, WebListing,
)

# Small pools make collisions (shared barcodes and part numbers) common.
BARCODES = [with_check_digit(f"03600024{n:03d}") for n in range(6)] + ["036000241458", ""]
PARTS = ["KC-1", "kc-1 ", "KC1", "AB-2", "ZZ-9", ""]
products = st.lists(st.tuples(st.sampled_from(BARCODES), st.sampled_from(PARTS)), min_size=1, max_size=12)
listings = st.lists(st.tuples(st.sampled_from(BARCODES), st.sampled_from(PARTS)), min_size=1, max_size=12)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def reset(engine):
    with engine.begin() as conn:
        for model in (ProductLink, WebListing, SyncCursor, SalesChannel, Stock, AuditEntry, Product, Location):
            conn.execute(delete(model))


def load(engine, product_keys, listing_keys) -> int:
    reset(engine)
    catalog = "sku,description,upc,part_number,price\n" + "".join(
        f"P{n},Product {n},{upc},{part},1.00\n" for n, (upc, part) in enumerate(product_keys))
    import_catalog(engine, catalog.encode(), "Shop", Actor("t"))
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.DEMO, "http://127.0.0.1")
        store_listings(conn, channel, [
            ListingData(f"L{n}", f"Listing {n}", barcode=upc or None, part_number=part or None)
            for n, (upc, part) in enumerate(listing_keys)
        ])
    return channel


def result(engine, channel):
    with engine.connect() as conn:
        states = sorted(conn.execute(select(WebListing.external_id, WebListing.match_state)
                                     .where(WebListing.channel_id == channel)).all())
        links = sorted(conn.execute(select(ProductLink.listing_id, ProductLink.product_id, ProductLink.manual)
                                    .where(ProductLink.channel_id == channel)).all())
    return states, links


@SETTINGS
@given(products, listings)
def test_automatic_links_are_one_to_one_and_rerunning_changes_nothing(engine, product_keys, listing_keys):
    channel = load(engine, product_keys, listing_keys)
    with engine.begin() as conn:
        match_channel(conn, channel)
    first = result(engine, channel)
    with engine.connect() as conn:
        per_product = conn.execute(
            select(ProductLink.product_id, func.count()).where(ProductLink.channel_id == channel)
            .group_by(ProductLink.product_id).having(func.count() > 1)
        ).all()
    assert per_product == []
    for full in (False, True):
        with engine.begin() as conn:
            match_channel(conn, channel, full=full)
        assert result(engine, channel) == first


@SETTINGS
@given(products, listings, st.data())
def test_an_incremental_run_after_changes_equals_a_full_run(engine, product_keys, listing_keys, data):
    channel = load(engine, product_keys, listing_keys)
    with engine.begin() as conn:
        match_channel(conn, channel)
    # Change some listings and some products, then compare incremental with full matching.
    changed = data.draw(st.lists(st.tuples(st.integers(0, len(listing_keys) - 1),
                                           st.sampled_from(BARCODES), st.sampled_from(PARTS)), max_size=3))
    with engine.begin() as conn:
        store_listings(conn, channel, [
            ListingData(f"L{n}", f"Listing {n}", barcode=upc or None, part_number=part or None)
            for n, upc, part in changed
        ])
    new_products = data.draw(st.lists(st.tuples(st.integers(0, len(product_keys) - 1),
                                                st.sampled_from(BARCODES), st.sampled_from(PARTS)), max_size=3))
    if new_products:
        catalog = "sku,description,upc,part_number,price\n" + "".join(
            f"P{n},Product {n},{upc},{part},1.00\n" for n, upc, part in {n: (n, u, p) for n, u, p in new_products}.values())
        import_catalog(engine, catalog.encode(), "Shop", Actor("t"))
    with engine.begin() as conn:
        match_channel(conn, channel)
    incremental = result(engine, channel)
    with engine.begin() as conn:
        match_channel(conn, channel, full=True)
    assert result(engine, channel) == incremental


@SETTINGS
@given(products, listings, st.data())
def test_a_persons_link_then_a_full_run_changes_nothing_more(engine, product_keys, listing_keys, data):
    """The quick re-examination around a manual link reaches every listing the link affects."""
    from core.resolver import link_listing

    channel = load(engine, product_keys, listing_keys)
    with engine.begin() as conn:
        match_channel(conn, channel)
        rows = conn.execute(select(WebListing.id, WebListing.version).where(WebListing.channel_id == channel)
                            .order_by(WebListing.id)).all()
        product_ids = conn.execute(select(Product.id).order_by(Product.id)).scalars().all()
    listing, version = data.draw(st.sampled_from(rows))
    product = data.draw(st.sampled_from(product_ids))
    try:
        link_listing(engine, listing, product, Actor("t"), version)
    except Exception as exc:  # the product may already be linked by hand elsewhere: refused, fine
        from core.resolver import ResolveError

        assert isinstance(exc, ResolveError)
        return
    after_link = result(engine, channel)
    with engine.begin() as conn:
        match_channel(conn, channel, full=True)
    assert result(engine, channel) == after_link
