"""The matching rules, case by case (SPEC §10-11)."""

from dataclasses import dataclass, field

import pytest
from sqlalchemy import insert, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.dbtypes import utcnow
from core.connectors.base import ListingData
from core.sync.listings import store_listings
from core.sync.matching import match_channel, match_sale_lines
from core.models import Platform, ProductLink, WebListing, WebSale, WebSaleLine
from core.resolver import link_listing, mark_not_sold_online

CLERK = Actor("clerk")


@dataclass
class Case:
    products: list[tuple[str, str, str]]  # sku, upc, part number
    listings: list[tuple[str, str, str, str]]  # external id, gtin, part number, product code
    states: dict[str, str]  # listing -> state after matching
    links: dict[str, str] = field(default_factory=dict)  # listing -> sku, automatic links


CASES = {
    "unique GTIN": Case(
        [("A", "036000241457", "")], [("w1", "036000241457", "", "")],
        {"w1": "matched"}, {"w1": "A"}),
    "UPC-A, EAN-13 and GTIN-14 forms of one code": Case(
        [("A", "036000241457", "")], [("w1", "00036000241457", "", "")],
        {"w1": "matched"}, {"w1": "A"}),
    "EAN-13 in the shop, UPC-A on the web": Case(
        [("A", "0036000241457", "")], [("w1", "036000241457", "", "")],
        {"w1": "matched"}, {"w1": "A"}),
    "bad check digit never matches": Case(
        [("A", "036000241458", "")], [("w1", "036000241458", "", "")],
        {"w1": "unmatched"}),
    "two shop products with one GTIN": Case(
        [("A", "036000241457", ""), ("B", "036000241457", "")], [("w1", "036000241457", "", "")],
        {"w1": "ambiguous"}),
    "two web listings with one GTIN": Case(
        [("A", "036000241457", "")], [("w1", "036000241457", "", ""), ("w2", "036000241457", "", "")],
        {"w1": "ambiguous", "w2": "ambiguous"}),
    "unique part number, case and spaces ignored": Case(
        [("A", "", "KC-CH11")], [("w1", "", " kc-ch11 ", "")],
        {"w1": "matched"}, {"w1": "A"}),
    "punctuation in part numbers counts": Case(
        [("A", "", "AB-12")], [("w1", "", "AB12", "")],
        {"w1": "unmatched"}),
    "part number shared by two products": Case(
        [("A", "", "KC-CH11"), ("B", "", "KC-CH11")], [("w1", "", "KC-CH11", "")],
        {"w1": "ambiguous"}),
    "barcode says A, part number says B": Case(
        [("A", "036000241457", "X-1"), ("B", "", "X-2")], [("w1", "036000241457", "X-2", "")],
        {"w1": "conflict"}),
    "barcode and part number agree": Case(
        [("A", "036000241457", "X-1")], [("w1", "036000241457", "x-1", "")],
        {"w1": "matched"}, {"w1": "A"}),
    "product reached by one listing's GTIN and another's part number": Case(
        [("A", "036000241457", "X-1")], [("w1", "036000241457", "", ""), ("w2", "", "X-1", "")],
        {"w1": "ambiguous", "w2": "ambiguous"}),
    "SKU and product code are not used for the export": Case(
        [("A", "", "")], [("w1", "", "", "A")],
        {"w1": "unmatched"}),
    "no identifiers at all": Case(
        [("A", "", "")], [("w1", "", "", "")],
        {"w1": "unmatched"}),
}


def setup_case(engine, case: Case) -> int:
    catalog = "sku,description,upc,part_number,price\n" + "".join(
        f"{sku},Product {sku},{upc},{part},10.00\n" for sku, upc, part in case.products)
    import_catalog(engine, catalog.encode(), "Shop", CLERK)
    with engine.begin() as conn:
        channel = add_channel(conn, "Web", Platform.DEMO, "http://127.0.0.1")
        store_listings(conn, channel, [
            ListingData(external_id=ext, title=f"Listing {ext}", barcode=gtin or None,
                        part_number=part or None, product_code=code or None)
            for ext, gtin, part, code in case.listings
        ])
    return channel


def states_and_links(engine, channel: int) -> tuple[dict[str, str], dict[str, str]]:
    from core.models import Product

    with engine.connect() as conn:
        states = dict(conn.execute(select(WebListing.external_id, WebListing.match_state)
                                   .where(WebListing.channel_id == channel)).all())
        links = dict(conn.execute(
            select(WebListing.external_id, Product.sku)
            .join(ProductLink, ProductLink.listing_id == WebListing.id)
            .join(Product, Product.id == ProductLink.product_id)
            .where(WebListing.channel_id == channel)
        ).all())
    return states, links


@pytest.mark.parametrize("name", CASES)
def test_matching_rules(engine, name):
    case = CASES[name]
    channel = setup_case(engine, case)
    with engine.begin() as conn:
        match_channel(conn, channel)
    assert states_and_links(engine, channel) == (case.states, case.links)


def listing_id(engine, channel: int, external_id: str) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(select(WebListing.id, WebListing.version).where(
            WebListing.channel_id == channel, WebListing.external_id == external_id)).one()
    return row.id, row.version


def product_id(engine, sku: str) -> int:
    from core.models import Product

    with engine.connect() as conn:
        return conn.execute(select(Product.id).where(Product.sku == sku)).scalar_one()


def test_a_manual_link_beats_the_rules_and_survives_reruns(engine):
    case = Case([("A", "036000241457", ""), ("B", "", "")], [("w1", "036000241457", "", "")], {})
    channel = setup_case(engine, case)
    with engine.begin() as conn:
        match_channel(conn, channel)
    assert states_and_links(engine, channel)[1] == {"w1": "A"}
    listing, version = listing_id(engine, channel, "w1")
    link_listing(engine, listing, product_id(engine, "B"), CLERK, version)
    for full in (False, True):
        with engine.begin() as conn:
            match_channel(conn, channel, full=full)
        assert states_and_links(engine, channel) == ({"w1": "matched"}, {"w1": "B"})


def test_a_manual_link_takes_its_product_out_of_other_listings_candidates(engine):
    # Two listings share A's barcode: both ambiguous. Linking w1 to A by hand leaves w2 with no
    # candidate (unmatched, for a person to decide), never silently linked to A as well.
    case = Case([("A", "036000241457", "")],
                [("w1", "036000241457", "", ""), ("w2", "036000241457", "", "")], {})
    channel = setup_case(engine, case)
    with engine.begin() as conn:
        match_channel(conn, channel)
    listing, version = listing_id(engine, channel, "w1")
    link_listing(engine, listing, product_id(engine, "A"), CLERK, version)
    assert states_and_links(engine, channel) == ({"w1": "matched", "w2": "unmatched"}, {"w1": "A"})


def test_a_manual_link_can_make_an_ambiguous_listing_resolvable(engine):
    # A and B share a part number, so w1 is ambiguous. A person links w2 to B; B is no longer a
    # candidate, so w1 now has exactly one candidate, A, and is matched automatically.
    case = Case([("A", "", "KC-1"), ("B", "", "KC-1")], [("w1", "", "KC-1", ""), ("w2", "", "", "")], {})
    channel = setup_case(engine, case)
    with engine.begin() as conn:
        match_channel(conn, channel)
    assert states_and_links(engine, channel)[0]["w1"] == "ambiguous"
    listing, version = listing_id(engine, channel, "w2")
    link_listing(engine, listing, product_id(engine, "B"), CLERK, version)
    assert states_and_links(engine, channel) == (
        {"w1": "matched", "w2": "matched"}, {"w1": "A", "w2": "B"})
    # What the quick re-examination around the link decided is what a full run decides.
    with engine.begin() as conn:
        match_channel(conn, channel, full=True)
    assert states_and_links(engine, channel) == (
        {"w1": "matched", "w2": "matched"}, {"w1": "A", "w2": "B"})


def test_not_sold_online_is_a_manual_decision_that_reruns_keep(engine):
    case = Case([("A", "036000241457", "")], [("w1", "036000241457", "", "")], {})
    channel = setup_case(engine, case)
    listing, version = listing_id(engine, channel, "w1")
    mark_not_sold_online(engine, listing, CLERK, version)
    with engine.begin() as conn:
        match_channel(conn, channel, full=True)
    assert states_and_links(engine, channel) == ({"w1": "not_sold_online"}, {})


def add_sale_line(engine, channel: int, external: str, **line) -> int:
    with engine.begin() as conn:
        sale = conn.execute(insert(WebSale.__table__).values(
            channel_id=channel, external_id=external, order_number=external, state="waiting_match",
            ordered_at=utcnow(), imported_at=utcnow())).inserted_primary_key[0]
        return conn.execute(insert(WebSaleLine.__table__).values(
            sale_id=sale, external_id="1", title="line", quantity=1, unit_price=10, **line
        )).inserted_primary_key[0]


def line_product(engine, line: int):
    with engine.connect() as conn:
        return conn.execute(select(WebSaleLine.product_id).where(WebSaleLine.id == line)).scalar()


def test_sku_and_product_code_match_sale_lines_but_not_the_export(engine):
    case = Case([("A", "", ""), ("B", "", "")], [("w1", "", "", "A")], {})
    channel = setup_case(engine, case)
    with engine.begin() as conn:
        match_channel(conn, channel)
    assert states_and_links(engine, channel) == ({"w1": "unmatched"}, {})
    line = add_sale_line(engine, channel, "1001", product_code="A")
    with engine.begin() as conn:
        assert match_sale_lines(conn, channel) == 1
    assert line_product(engine, line) == product_id(engine, "A")


def test_sale_lines_with_two_candidates_wait_for_a_person(engine):
    case = Case([("A", "036000241457", ""), ("B", "", "")], [], {})
    channel = setup_case(engine, case)
    line = add_sale_line(engine, channel, "1002", gtin14="00036000241457", product_code="B")
    with engine.begin() as conn:
        assert match_sale_lines(conn, channel) == 0
    assert line_product(engine, line) is None
