"""The resolver's candidates ranked by what tells them apart (core.ranking through
core.resolver.candidates_for), with the reason in the row: the traps a fuzzy ratio falls into."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.connectors.base import ListingData
from core.models import WebListing
from core.ranking import Shop, rank
from core.resolver import candidates_for

from tests.core.test_resolver import listed_shop

CATALOG = """sku,description,brand,upc,part_number,price,quantity
HT-S,Trail helmet S black,Ridgeline,,HT-100-S,89.00,2
HT-M,Trail helmet M black,Ridgeline,,HT-100-M,89.00,1
HT-L,Trail helmet L black,Ridgeline,,HT-100-L,89.00,3
HT-MW,Trail helmet M white,Ridgeline,,HT-100-MW,89.00,4
HT-MB,Trail helmet M black MIPS,Ridgeline,,HT-200-M,119.00,2
AC-PAD,Disc brake pads organic,Acme,,BP-100,24.00,5
BO-PAD,Disc brake pads organic,Boltline,,BP-100,19.00,5
GL-EAN,Winter glove insulated,Northpaw,0036000291452,GL-1,45.00,3
GL-OTH,Winter glove insulated liner,Northpaw,,GL-2,45.00,3
"""


@pytest.fixture
def shop(engine):
    listed_shop(engine, CATALOG, [
        ListingData("w-helmet", "Ridgeline Trail Helmet - M / Black", price=Decimal("89.00")),
        ListingData("w-pads", "Acme organic disc brake pads", part_number="bp-100", price=Decimal("24.00")),
        ListingData("w-glove", "Northpaw winter glove", barcode="036000291452", price=Decimal("45.00")),
    ])
    return engine


def candidates(engine, external_id):
    with engine.connect() as conn:
        listing_id = conn.execute(select(WebListing.id).where(WebListing.external_id == external_id)).scalar_one()
    return candidates_for(engine, listing_id)


def test_the_same_title_in_another_size_or_colour_ranks_below_the_exact_one_and_says_what_differs(shop):
    found = candidates(shop, "w-helmet")
    assert found[0].sku == "HT-M"
    assert found[0].why == "same words · same price · brand"
    reasons = {c.sku: c.why for c in found}
    assert "m ≠ s" in reasons["HT-S"] and "m ≠ l" in reasons["HT-L"]
    assert "black ≠ white" in reasons["HT-MW"]
    assert reasons["HT-MB"] == "adds mips · brand", "a dearer model: no 'same price'"
    assert len({c.why for c in found}) == len(found), "no two different products give the same reason"
    assert not any("%" in c.why for c in found), "no saturated similarity percentages"


def test_one_part_number_under_two_brands_puts_the_listings_brand_first(shop):
    found = candidates(shop, "w-pads")
    assert [c.sku for c in found[:2]] == ["AC-PAD", "BO-PAD"]
    assert found[0].why == "part no. · same words · same price · brand"
    assert found[1].why == "part no. · lacks acme"
    assert found[0].identical and found[1].identical


def test_a_upc_and_the_ean13_of_the_same_number_are_one_barcode(shop):
    found = candidates(shop, "w-glove")
    assert found[0].sku == "GL-EAN" and found[0].identical
    assert found[0].why.startswith("barcode · ") and found[0].why.endswith("· brand")
    assert [c.sku for c in found[1:]] == ["GL-OTH"] and not found[1].identical


def test_identifiers_outrank_words_and_words_outrank_price():
    listing = "Kestrel 12-speed chain"
    products = [
        Shop(1, "Kestrel", "Kestrel 12-speed chain", None, Decimal("40")),  # same words, dearer
        Shop(2, "Kestrel", "Kestrel 11-speed chain", None, Decimal("30")),  # one word differs, same price
        Shop(3, "Velotek", "Velotek 11-speed chain", "KC-12", Decimal("99"), same_keys=("part no.",)),
    ]
    assert [hit.product_id for hit in rank(listing, Decimal("30"), products)] == [3, 1, 2]
    tied = [Shop(4, None, "Chain", None, None), Shop(5, None, "Chain", None, None)]
    assert [hit.product_id for hit in rank("chain", None, tied, fuzzy={4: 60.0, 5: 90.0})] == [5, 4], \
        "the fuzzy ratio only breaks what is still tied"
