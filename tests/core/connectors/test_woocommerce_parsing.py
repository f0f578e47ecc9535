"""The WooCommerce connector reads the REST API docs' own response examples."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from core.connectors.base import ConnectorError
from core.connectors.woocommerce import (
    check_batch_response, oauth_signature, parse_order, parse_product, parse_variation,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "platforms/woocommerce"


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def test_products_become_listings():
    products = example("products_list_example")
    listings = [parse_product(p, "mpn") for p in products]
    first = products[0]
    assert listings[0].external_id == f"product:{first['id']}"
    assert listings[0].title == first["name"]
    assert listings[0].product_code == (first["sku"] or None)
    priced = next(p for p in products if p["price"])
    assert parse_product(priced, None).price == Decimal(priced["price"]).quantize(Decimal("0.01"))
    assert all(l.price is None for l, p in zip(listings, products) if not p["price"])
    assert listings[0].barcode is None, "these examples predate global_unique_id"


def test_global_unique_id_is_the_gtin_and_meta_gives_the_part_number():
    product = example("products_list_example")[0] | {
        "global_unique_id": "036000241457", "meta_data": [{"id": 1, "key": "mpn", "value": "KC-CH11"}]}
    listing = parse_product(product, "mpn")
    assert (listing.barcode, listing.part_number) == ("036000241457", "KC-CH11")


def test_variations_become_listings_of_their_parent():
    parent = {"id": 22, "name": "Ship Your Idea", "meta_data": [{"key": "mpn", "value": "SYI"}]}
    variations = example("variations_list_example")
    listing = parse_variation(parent, variations[0], "mpn")
    assert listing.external_id == f"variation:22:{variations[0]['id']}"
    assert listing.external_product_id == "22" and listing.part_number == "SYI"
    assert listing.title.startswith("Ship Your Idea")


def test_orders_parse_with_lines_taxes_and_customer():
    order = parse_order(example("orders_list_example")[0], "supplier_fulfilled", "supplier_shipped_at")
    assert order.external_id == "727" and order.order_number == "#727"
    assert order.total == Decimal("29.35") and order.shipping == Decimal("10.00")
    assert order.customer_email == "john.doe@example.com" and order.customer_name == "John Doe"
    assert order.ordered_at.isoformat() == "2017-03-22T19:28:02+00:00"
    first = order.lines[0]
    assert (first.quantity, first.unit_price, first.tax_amount, first.tax_rate) == (
        2, Decimal("3.00"), Decimal("0.45"), Decimal("7.5000"))
    assert first.listing_external_id == "product:93"
    assert not order.supplier_fulfilled


def test_an_order_marked_supplier_fulfilled_takes_its_ship_time_from_meta():
    raw = example("orders_list_example")[0] | {"meta_data": [
        {"key": "supplier_fulfilled", "value": "yes"}, {"key": "supplier_shipped_at", "value": "2026-11-25T15:00:00"}]}
    order = parse_order(raw, "supplier_fulfilled", "supplier_shipped_at")
    assert order.supplier_fulfilled and order.shipped_at.isoformat() == "2026-11-25T15:00:00+00:00"


def test_batch_responses_are_read_and_item_errors_raise():
    check_batch_response(example("products_batch_response_example"))
    with pytest.raises(ConnectorError, match="refused item 7: Invalid ID"):
        check_batch_response({"update": [{"id": 7, "error": {"code": "woocommerce_rest_product_invalid_id",
                                                             "message": "Invalid ID.", "data": {"status": 400}}}]})


def test_a_malformed_amount_is_a_clear_error():
    raw = example("orders_list_example")[0] | {"total": "twenty"}
    with pytest.raises(ConnectorError, match="not a number"):
        parse_order(raw, None, None)


def test_oauth_signature_matches_rfc5849_construction():
    # Same inputs, same signature; any change to method, URL, parameters or secret changes it.
    params = {"oauth_consumer_key": "ck", "oauth_nonce": "n", "oauth_timestamp": "1", "per_page": "100"}
    signature = oauth_signature("GET", "http://127.0.0.1:8080/wp-json/wc/v3/orders", params, "cs")
    assert signature == oauth_signature("GET", "http://127.0.0.1:8080/wp-json/wc/v3/orders", dict(params), "cs")
    assert signature != oauth_signature("POST", "http://127.0.0.1:8080/wp-json/wc/v3/orders", params, "cs")
    assert signature != oauth_signature("GET", "http://127.0.0.1:8080/wp-json/wc/v3/orders", params, "cs2")


def test_the_barcode_comes_from_global_unique_id_or_from_the_meta_key_the_shop_names():
    product = example("products_list_example")[0] | {"global_unique_id": "036000241457"}
    assert parse_product(product, None).barcode == "036000241457"
    kept_in_meta = product | {"global_unique_id": "", "meta_data": [{"id": 9, "key": "_gtin", "value": "4006381333931"}]}
    assert parse_product(kept_in_meta, None).barcode is None
    assert parse_product(kept_in_meta, None, "_gtin").barcode == "4006381333931"
    assert parse_variation(product, kept_in_meta, None, "_gtin").barcode == "4006381333931"
