"""Both connectors against the demo store on a real loopback port: real HTTP, real pagination,
real batches, and every way the store can misbehave."""

from decimal import Decimal

import httpx
import pytest

from core.connectors.base import ConnectorError, CredentialError, PriceUpdate, StockUpdate
from core.connectors.http import StoreClient
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID

from tests.core.connectors.conftest import SECRET, TOKEN, make_store, shopify, woo

CONNECTORS = {"shopify": shopify, "woocommerce": woo}


@pytest.fixture(params=list(CONNECTORS))
def connect(request, server, sleeps):
    made = []

    def connect_to(**kwargs):
        connector = CONNECTORS[request.param](server, sleeps, **kwargs)
        made.append(connector)
        return connector

    connect_to.platform = request.param
    yield connect_to
    for connector in made:
        connector.close()


def all_listings(connector):
    return [listing for page in connector.listings() for listing in page]


def all_orders(connector, cursor=None):
    pages = list(connector.orders_since(cursor))
    return [order for orders, _ in pages for order in orders], pages[-1][1]


def test_listings_carry_gtin_part_number_code_and_price(connect, store):
    listings = all_listings(connect())
    assert len(listings) == 10
    first, variant = listings[0], store.products[0].variants[0]
    assert (first.barcode, first.part_number, first.product_code, first.price) == (
        variant.barcode, variant.mpn, variant.sku, variant.price)


def test_listings_follow_every_page():
    store = make_store(products=560)
    with LoopbackServer(store) as server:
        connector = shopify(server, lambda s: None)
        assert len(all_listings(connector)) == 560
        assert store.requests["TandemListings"] == 3  # 249 a page, the most the cost cap allows
        connector = woo(server, lambda s: None)
        assert len(all_listings(connector)) == 560
        assert store.requests["GET products"] == 6  # 100 a page


def test_variations_are_listed_under_their_product():
    store = make_store(products=3, variants=3)
    with LoopbackServer(store) as server:
        listings = all_listings(woo(server, lambda s: None))
        assert [l.external_id for l in listings][:3] == ["variation:1:1", "variation:1:2", "variation:1:3"]
        assert len(all_listings(shopify(server, lambda s: None))) == 9


def test_orders_since_a_cursor_page_by_page():
    store = make_store(orders=11, lines=2)
    with LoopbackServer(store) as server:
        for connector in (shopify(server, lambda s: None), woo(server, lambda s: None)):
            orders, cursor = all_orders(connector)
            assert len(orders) == 11 and all(len(o.lines) == 2 for o in orders)
            assert orders[0].lines[0].tax_rate == Decimal("8.0000")
            later, _ = all_orders(connector, cursor)
            assert len(later) <= 1, "only orders changed at or after the cursor come back"


def test_a_large_order_brings_all_its_lines():
    store = make_store(products=60, orders=1, lines=45)
    with LoopbackServer(store) as server:
        orders, _ = all_orders(shopify(server, lambda s: None))
        assert len(orders[0].lines) == 45
        assert store.requests["TandemOrderLines"] == 1, "the page brings 3 lines, one more request the other 42"


def test_quantities_and_prices_are_set_in_batches(connect, store):
    connector = connect()
    listings = all_listings(connector)
    connector.set_stock([StockUpdate(l.external_id, l.inventory_item_id, 7) for l in listings])
    assert all(v.available[LOCATION_ID] == 7 for _, v in store.variants())
    first = listings[0]
    connector.set_prices([PriceUpdate(first.external_id, first.external_product_id, Decimal("99.95"))])
    assert store.products[0].variants[0].price == Decimal("99.95")


def test_stock_batches_at_the_documented_maximum():
    """250 quantities per inventorySetQuantities call (20 calls to a Shopify request), 100 per batch."""
    store = make_store(products=600)
    with LoopbackServer(store) as server:
        for connector, size, kind in ((shopify(server, lambda s: None), 5000, "TandemSetStock"),
                                      (woo(server, lambda s: None), 100, "POST products")):
            listings = all_listings(connector)
            with pytest.raises(ValueError) if size == 5000 else _nothing():
                if size == 5000:
                    connector.set_stock([StockUpdate(l.external_id, l.inventory_item_id, 1)
                                         for l in listings[:1]] * 5001)
            for start in range(0, 600, size):
                connector.set_stock([StockUpdate(l.external_id, l.inventory_item_id, 3)
                                     for l in listings[start:start + size]])
            assert store.requests[kind] == -(-600 // size)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_429_waits_for_retry_after_then_succeeds(connect, store, sleeps):
    store.fail_next("429", "429")
    assert len(all_listings(connect())) == 10
    assert sleeps[:2] == [1.0, 1.0]


def test_5xx_is_retried_then_succeeds(connect, store):
    store.fail_next("500", "500")
    connector = connect()
    assert len(all_listings(connector)) == 10
    assert connector.counter.retries == 2


def test_retries_are_bounded_and_end_in_a_clear_failure(connect, store):
    store.fail_next(*["500"] * 10)
    with pytest.raises(ConnectorError, match="kept answering HTTP 500 after 4 attempts"):
        all_listings(connect())


def test_a_timeout_is_retried(connect, store):
    store.timeout_seconds = 6.0  # hangs past the client's patience; the ordinary answer comes well within it
    store.fail_next("timeout")
    connector = connect()
    connector.client._client.timeout = httpx.Timeout(2.0)
    try:
        assert len(all_listings(connector)) == 10
    finally:
        store.hang_over.set()
    assert connector.counter.retries == 1


def test_a_connection_cut_mid_answer_is_retried(connect, store):
    store.fail_next("drop")
    connector = connect()
    assert len(all_listings(connector)) == 10
    assert connector.counter.retries == 1


def test_malformed_json_is_a_clear_error_not_a_traceback(connect, store):
    store.fail_next("malformed")
    with pytest.raises(ConnectorError, match="not JSON"):
        all_listings(connect())


def test_shopify_throttling_waits_for_the_bucket_instead_of_failing(server, store, sleeps):
    store.fail_next("throttle")
    connector = shopify(server, sleeps)
    assert len(all_listings(connector)) == 10
    assert sleeps and sleeps[0] > 0, "it waited for the bucket to refill"


def test_401_stops_at_once_and_names_the_credential_to_fix(connect, store):
    connector = connect(**({"token": "shpat_wrong"} if connect.platform == "shopify" else {"secret": "cs_wrong"}))
    with pytest.raises(CredentialError) as caught:
        all_listings(connector)
    message = str(caught.value)
    assert "HTTP 401" in message
    assert ("access token" if connect.platform == "shopify" else "consumer key and secret") in message
    assert "shpat_wrong" not in message and "cs_wrong" not in message and SECRET not in message
    assert connector.counter.requests == 1, "no retry on refused credentials"


@pytest.mark.parametrize("platform", list(CONNECTORS))
def test_an_order_vanishing_between_pages_costs_no_other_order(platform):
    store = make_store(orders=230)
    with LoopbackServer(store) as server:
        pages = CONNECTORS[platform](server, lambda s: None).orders_since(None)
        first, _ = next(pages)
        before = {str(o.number) if platform == "woocommerce" else o.gid for o in store.orders}
        store.fail_next("vanish")
        read = [o.external_id for o in first] + [o.external_id for orders, _ in pages for o in orders]
        gone = before - {str(o.number) if platform == "woocommerce" else o.gid for o in store.orders}
    assert len(gone) == 1
    assert before - gone <= set(read), "every order that still exists was read"
    assert len(read) == len(set(read)), "and none twice"


def test_woocommerce_orders_sharing_a_second_across_pages_are_all_read_once():
    store = make_store(orders=250)
    for order in store.orders[:180]:
        order.updated_at = "2026-11-26T11:00:00Z"  # more than a page in one second
    with LoopbackServer(store) as server:
        pages = list(woo(server, lambda s: None).orders_since(None))
    read = [o.external_id for orders, _ in pages for o in orders]
    assert sorted(read) == sorted(str(o.number) for o in store.orders)


def test_woocommerce_resuming_from_a_cursor_rereads_its_second_instead_of_losing_it():
    """`modified_after` is strict: a sync stopped after a page whose last second goes on into the
    next page must not skip the rest of that second when it resumes."""
    store = make_store(orders=150)
    with LoopbackServer(store) as server:
        connector = woo(server, lambda s: None)
        first, cursor = next(connector.orders_since(None))
        resumed = [o.external_id for orders, _ in connector.orders_since(cursor) for o in orders]
    same_second = [str(o.number) for o in store.orders if o.updated_at.rstrip("Z") == cursor]
    assert len(same_second) > 1
    assert set(same_second) <= set(resumed)
    assert {o.external_id for o in first} | set(resumed) == {str(o.number) for o in store.orders}


@pytest.mark.parametrize("url", ["http://shop.example.com", "http://10.0.0.5:8080", "ftp://127.0.0.1"])
def test_plain_http_is_refused_except_to_loopback(url):
    with pytest.raises(ConnectorError, match="refusing plain http|not a web store address"):
        StoreClient(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "https://shop.example.com"])
def test_https_and_loopback_http_are_accepted(url):
    StoreClient(url).close()


def test_tls_verification_is_always_on():
    client = StoreClient("https://shop.example.com")
    assert client._client._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"
    client.close()


def test_woocommerce_signs_plain_http_requests_and_the_store_checks_them(server, store):
    connector = woo(server, lambda s: None)
    all_listings(connector)
    assert store.seen_nonces, "OAuth 1.0a nonces were seen"
    assert TOKEN not in str(store.seen_nonces)


def test_shopify_captures_the_authorised_amount_and_marks_the_order_fulfilled(server, store):
    connector = shopify(server, lambda s: None)
    order = store.orders[0]
    with pytest.raises(ConnectorError, match="only .* was authorised"):
        connector.capture(order.gid, Decimal("9999.00"))
    assert connector.capture(order.gid, Decimal("13.50")).startswith("gid://shopify/OrderTransaction/")
    assert order.financial_status == "PAID"
    with pytest.raises(ConnectorError, match="no authorised payment left"):
        connector.capture(order.gid, Decimal("13.50"))
    connector.complete(order.gid)
    assert order.fulfilled_at is not None
    connector.complete(order.gid)  # already fulfilled: nothing to do, no error


def test_woocommerce_cannot_capture_but_completes_the_order(server, store):
    connector = woo(server, lambda s: None)
    order = store.orders[0]
    assert connector.capture(str(order.number), Decimal("13.50")) is None
    connector.complete(str(order.number))
    assert order.fulfilled_at is not None


def test_a_website_refund_is_made_once_per_key(connect, store):
    connector = connect()
    order = store.orders[0]
    order.financial_status = "PAID"
    external = order.gid if connect.platform == "shopify" else str(order.number)
    first = connector.refund(external, Decimal("5.00"), "key-1")
    assert connector.refund(external, Decimal("5.00"), "key-1") == first  # the refund already made, not a new one
    assert len(order.refunds) == 1
    connector.refund(external, Decimal("2.00"), "key-2")
    assert [r["amount"] for r in order.refunds] == [Decimal("5.00"), Decimal("2.00")]


def test_cancelling_releases_the_authorisation_on_shopify_and_says_the_gateway_decides_on_woocommerce(connect, store):
    connector = connect()
    order = store.orders[0]
    external = order.gid if connect.platform == "shopify" else str(order.number)
    said = connector.cancel(external)
    assert order.cancelled_at is not None
    if connect.platform == "shopify":
        assert order.financial_status == "VOIDED", "orderCancel releases an authorisation not yet captured"
        assert "releases the card authorisation" in said
        assert store.requests["TandemCancel"] == 1
    else:
        assert order.financial_status == "AUTHORIZED", "WooCommerce's API holds no authorisation to release"
        assert "payment gateway" in said
    assert connector.cancel(external) == said, "cancelling again (a retry after a lost answer) is the same outcome"
    assert [o.cancelled for o, in ([o] for orders, _ in connector.orders_since(None) for o in orders)
            if o.external_id == external] == [True]


def test_woocommerce_asks_only_for_the_fields_it_reads(sleeps):
    """Pages of 100 (the REST API's ceiling), each naming its fields; what is read is the same."""
    store = make_store(products=30, orders=12, lines=2, variants=2)
    asked = []
    with LoopbackServer(store) as server:
        connector = woo(server, sleeps)
        connector.client._client.event_hooks["request"].append(lambda request: asked.append(request.url))
        listings = all_listings(connector)
        orders, _ = all_orders(connector)
    reads = [url for url in asked if url.path.endswith(("/products", "/variations", "/orders"))]
    assert reads and all(url.params.get("_fields") and url.params.get("per_page") == "100" for url in reads)
    assert len(listings) == 60 and all(listing.title and listing.price for listing in listings)
    assert len(orders) == 12 and all(order.total > 0 and order.customer_email and len(order.lines) == 2
                                     for order in orders)
