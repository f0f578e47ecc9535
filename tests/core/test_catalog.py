from decimal import Decimal

from core.audit import Actor
from core.catalog import product_detail, search_products
from core.catalog_import import import_catalog

CSV = """sku,description,brand,upc,part_number,price,quantity,non_inventory
A-1,Tube 700x25 Presta,Cobalt,036000241457,CT-700,8.99,4,no
A-2,Tube 26 Schrader,Cobalt,,CT-26,7.50,0,no
B-1,Chain 11-speed,Kestrel,,KC-CH11,39.50,2,no
B-2,Road helmet M,Northwind,,NW_HM,129.00,1,no
S-1,Assembly 50% off,,,,0.00,,yes
"""


def load(engine):
    import_catalog(engine, CSV.encode(), "Main Street", Actor("t"))


def skus(page):
    return [row.sku for row in page.rows]


def test_pages_follow_the_sku_order_without_gaps_or_repeats(engine):
    load(engine)
    first = search_products(engine, limit=2)
    assert skus(first) == ["A-1", "A-2"] and first.total == 5 and first.has_more
    second = search_products(engine, after_sku="A-2", limit=2)
    assert skus(second) == ["B-1", "B-2"] and second.has_more
    last = search_products(engine, after_sku="B-2", limit=2)
    assert skus(last) == ["S-1"] and not last.has_more


def test_every_word_must_match_somewhere(engine):
    load(engine)
    assert skus(search_products(engine, "tube cobalt")) == ["A-1", "A-2"]
    assert skus(search_products(engine, "TUBE presta")) == ["A-1"]
    assert skus(search_products(engine, "kc-ch")) == ["B-1"], "part numbers match from the start"
    assert skus(search_products(engine, "b-")) == ["B-1", "B-2"], "SKUs match from the start"
    assert search_products(engine, "tube helmet").total == 0


def test_a_scanned_barcode_finds_its_product_in_any_gtin_form(engine):
    load(engine)
    assert skus(search_products(engine, "0036000241457")) == ["A-1"]
    assert skus(search_products(engine, "00036000241457")) == ["A-1"]


def test_like_wildcards_in_the_search_are_plain_characters(engine):
    load(engine)
    assert skus(search_products(engine, "50%")) == ["S-1"]
    assert skus(search_products(engine, "nw_")) == ["B-2"]
    assert search_products(engine, "%").total == 1


def test_rows_carry_stock_totals_and_detail_has_each_location(engine):
    load(engine)
    import_catalog(engine, b"sku,description,price,quantity\nA-1,Tube 700x25 Presta,8.99,6\n", None, Actor("t"))
    row = search_products(engine, "A-1").rows[0]
    assert (row.on_hand, row.available, row.price) == (6, 6, Decimal("8.99"))
    detail = product_detail(engine, row.id)
    assert [(s.location, s.on_hand) for s in detail.stock] == [("Main Street", 6)]
    assert detail.gtin14 == "00036000241457"
    assert product_detail(engine, 999_999) is None


def test_search_text_follows_changes_and_keeps_columns_the_file_lacks(engine):
    load(engine)
    import_catalog(engine, b"sku,description,price\nB-1,Chain 12-speed,39.50\n", None, Actor("t"))
    assert skus(search_products(engine, "12-speed kestrel")) == ["B-1"]
    assert search_products(engine, "11-speed").total == 0
