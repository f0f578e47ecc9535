from collections import Counter

from sqlalchemy import func, select

from core.db import open_database
from core.demo import GIFT_CARD_SKU, LOCATIONS, SHIPPING_REFUND_SKU, create_demo_database, demo_catalog_rows
from core.identifiers import parse_barcode
from core.models import Location, Product, Stock


def test_the_demo_catalog_is_realistic_and_repeatable():
    rows = demo_catalog_rows()
    assert rows == demo_catalog_rows()
    assert len(rows) > 2000
    brands = Counter(row["brand"] for row in rows if row["brand"])
    assert len(brands) >= 6
    assert sum(1 for row in rows if not row["upc"]) > 100, "some products have no barcode"
    part_numbers = Counter(row["part_number"] for row in rows if row["part_number"])
    assert any(count > 1 for count in part_numbers.values()), "some products share a part number"
    barcodes = [parse_barcode(row["upc"]) for row in rows if row["upc"]]
    assert any(b.gtin14 is None for b in barcodes), "a few barcodes are mistyped"
    assert sum(b.gtin14 is not None for b in barcodes) > 0.95 * len(barcodes)


def test_the_demo_database_has_two_locations_and_the_special_products(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    create_demo_database(url)
    create_demo_database(url)  # starting again gives a fresh shop, not a doubled one
    engine = open_database(url)
    with engine.connect() as conn:
        assert tuple(conn.execute(select(Location.name).order_by(Location.id)).scalars()) == LOCATIONS
        specials = {
            row.sku: row for row in conn.execute(
                select(Product.sku, Product.non_inventory, Product.gift_card_placeholder)
                .where(Product.sku.in_([GIFT_CARD_SKU, SHIPPING_REFUND_SKU]))
            )
        }
        assert specials[GIFT_CARD_SKU].gift_card_placeholder and specials[GIFT_CARD_SKU].non_inventory
        assert specials[SHIPPING_REFUND_SKU].non_inventory
        assert not specials[SHIPPING_REFUND_SKU].gift_card_placeholder
        products = conn.execute(select(func.count()).select_from(Product)).scalar()
        stocked_at = conn.execute(
            select(Stock.location_id, func.count()).group_by(Stock.location_id)
        ).all()
    assert products == len(demo_catalog_rows())
    assert len(stocked_at) == 2 and all(count == products - 2 for _, count in stocked_at)
