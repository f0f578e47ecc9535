"""Shopify's bulk operations, aliased mutations and cost pacing, against the demo store on a real
loopback port: what is read in bulk is what pages read, faults say so and use nothing, and a run
alone on its bucket is never throttled."""

import time
from decimal import Decimal

import pytest

from core.connectors import shopify as shopify_module
from core.connectors.base import ConnectorError, PriceUpdate, StockUpdate
from core.connectors.shopify_cost import CostBucket
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID

from tests.core.connectors.conftest import make_store, shopify


def listings(connector):
    return [listing for page in connector.listings() for listing in page]


def orders(connector, cursor=None):
    pages = list(connector.orders_since(cursor))
    return [order for page, _ in pages for order in page], pages


@pytest.fixture
def small_thresholds(monkeypatch):
    """Bulk from a few dozen rows, so a test store need not be large."""
    monkeypatch.setattr(shopify_module, "BULK_LISTINGS_FROM", 30)
    monkeypatch.setattr(shopify_module, "BULK_ORDERS_FROM", 20)
    monkeypatch.setattr(shopify_module, "LISTING_PAGE", 10)
    monkeypatch.setattr(shopify_module, "ORDER_PAGE", 5)


def test_a_large_catalog_is_read_with_one_bulk_query_and_matches_the_pages(small_thresholds, sleeps):
    store = make_store(products=40, variants=2, orders=0)
    with LoopbackServer(store) as server:
        in_bulk = listings(shopify(server, sleeps))
        assert store.requests["TandemBulkQuery"] == 1 and store.requests["BulkFile"] == 1
        assert store.requests["TandemListings"] == 1, "only the first page, which counts the catalog"
        shopify_module.BULK_LISTINGS_FROM = 10_000
        paged = listings(shopify(server, sleeps))
    assert len(in_bulk) == 80 and in_bulk == paged


def test_a_small_catalog_is_read_in_pages_without_bulk(small_thresholds, sleeps):
    store = make_store(products=25, orders=0)
    with LoopbackServer(store) as server:
        assert len(listings(shopify(server, sleeps))) == 25
    assert store.requests["TandemListings"] == 3 and store.requests["TandemBulkQuery"] == 0


def test_a_backlog_of_orders_read_in_bulk_is_what_pages_read(small_thresholds, sleeps):
    store = make_store(products=30, orders=25, lines=5)
    store.orders[3].pickup_location = LOCATION_ID
    store.orders[4].tags = ["supplier-fulfilled"]
    with LoopbackServer(store) as server:
        in_bulk, bulk_pages = orders(shopify(server, sleeps))
        assert store.requests["TandemBulkQuery"] == 1 and store.requests["TandemOrderLines"] == 0
        shopify_module.BULK_ORDERS_FROM = 10_000
        paged, _ = orders(shopify(server, sleeps))
    assert len(in_bulk) == 25 and all(len(order.lines) == 5 for order in in_bulk)
    assert sorted(in_bulk, key=lambda o: o.external_id) == sorted(paged, key=lambda o: o.external_id)
    assert in_bulk[3].pickup_location == LOCATION_ID and in_bulk[4].supplier_fulfilled
    # Only the last page moves the cursor: a run cut short reads the backlog again, skipping nothing.
    newest = max(o.updated_at for o in in_bulk).isoformat().replace("+00:00", "Z")
    assert bulk_pages[-1][1] == newest


def test_orders_beyond_the_first_lines_are_fetched_only_for_orders_that_have_more(sleeps):
    store = make_store(products=30, orders=6, lines=2)
    store.orders[2].lines = store.orders[2].lines * 4  # 8 lines: 3 in the page, 5 more
    with LoopbackServer(store) as server:
        read, _ = orders(shopify(server, sleeps))
    assert [len(order.lines) for order in read].count(8) == 1
    assert store.requests["TandemOrders"] == 1 and store.requests["TandemOrderLines"] == 1


@pytest.mark.parametrize("fault,says", [("fail", "failed"), ("partial", "failed"), ("expire", "expired"),
                                        ("gone", "no longer there")])
def test_a_bulk_read_that_goes_wrong_says_so_and_hands_on_nothing(small_thresholds, sleeps, fault, says):
    store = make_store(products=40, orders=0)
    store.fail_next_bulk(fault)
    with LoopbackServer(store) as server:
        pages = []
        with pytest.raises(ConnectorError, match=says):
            for page in shopify(server, sleeps).listings():
                pages.append(page)
    assert pages == [], "nothing from a failed, partial or lost result is used"


def test_before_2026_a_bulk_query_waits_for_the_one_already_running(small_thresholds, sleeps):
    store = make_store(products=40, orders=0)
    store.app.served_versions = ("2025-10", *store.app.served_versions)  # as Shopify did until 2026-10
    store.fail_next_bulk("busy")
    with LoopbackServer(store) as server:
        assert len(listings(shopify(server, sleeps, api_version="2025-10"))) == 40
    assert store.requests["TandemBulkQuery"] == 2 and store.requests["TandemCurrentBulk"] >= 1


def test_from_2026_bulk_queries_run_side_by_side(small_thresholds, sleeps):
    store = make_store(products=40, orders=0)
    store.fail_next_bulk("busy")
    with LoopbackServer(store) as server:
        assert len(listings(shopify(server, sleeps, api_version="2026-01"))) == 40
    assert store.requests["TandemBulkQuery"] == 1 and store.requests["TandemCurrentBulk"] == 0


def prices(numbers, price="7.25", product=lambda n: f"gid://shopify/Product/{n}"):
    return [PriceUpdate(f"gid://shopify/ProductVariant/{n}", product(n), Decimal(price)) for n in numbers]


def test_prices_of_many_products_go_in_one_aliased_request(sleeps):
    store = make_store(products=100, orders=0)
    with LoopbackServer(store) as server:
        shopify(server, sleeps).set_prices(prices(range(1, 101)))
    assert store.requests["TandemSetPrices"] == 1
    assert all(variant.price == Decimal("7.25") for _, variant in store.variants())


def test_quantities_go_twenty_calls_to_a_request(sleeps):
    store = make_store(products=600, orders=0)
    updates = [StockUpdate(f"gid://shopify/ProductVariant/{n}", f"gid://shopify/InventoryItem/{n}", n % 7)
               for n in range(1, 601)]
    with LoopbackServer(store) as server:
        shopify(server, sleeps).set_stock(updates)
    assert store.requests["TandemSetStock"] == 1
    assert all(variant.available[LOCATION_ID] == variant.number % 7 for _, variant in store.variants())


def test_a_bulk_price_update_reports_each_price_taken_or_refused(sleeps):
    store = make_store(products=50, variants=2, orders=0)
    updates = prices(range(1, 101), "3.10", product=lambda n: f"gid://shopify/Product/{(n + 1) // 2}")
    updates[10] = PriceUpdate(updates[10].listing_external_id, "gid://shopify/Product/999", Decimal("3.10"))
    with LoopbackServer(store) as server:
        result = shopify(server, sleeps).set_prices_in_bulk(updates)
    assert result.complete and len(result.refused) == 1 and "does not exist" in result.refused[0]
    assert len(result.accepted) == 100 and sum(result.accepted) == 99 and result.accepted[10] == 0
    assert store.requests["StagedUpload"] == 1 and store.requests["TandemBulkMutation"] == 1


def test_a_bulk_price_update_cut_short_tells_which_prices_went(sleeps):
    store = make_store(products=40, orders=0)
    store.fail_next_bulk("partial")
    with LoopbackServer(store) as server:
        result = shopify(server, sleeps).set_prices_in_bulk(prices(range(1, 41)))
    assert not result.complete and result.error_code == "TIMEOUT"
    changed = [variant.price == Decimal("7.25") for _, variant in store.variants_in_order()[1]]
    assert list(result.accepted) == [int(taken) for taken in changed] and 0 < sum(changed) < 40


def test_the_access_token_never_goes_to_the_file_storage(sleeps):
    store = make_store(products=40, orders=0)
    seen = []
    with LoopbackServer(store) as server:
        connector = shopify(server, sleeps)
        connector.bulk._files.event_hooks["request"].append(lambda request: seen.append(dict(request.headers)))
        connector.set_prices_in_bulk(prices(range(1, 41)))
    assert len(seen) == 2, "the upload and the result file"
    assert all("x-shopify-access-token" not in headers for headers in seen) and store.uploads


def test_pages_paced_by_the_bucket_are_never_throttled():
    """A bucket of 1,000 refilled at 20,000 a second: each listings page asks 999 points, so without
    waiting for the refill every second page would be refused."""
    store = make_store(products=600, orders=40)
    store.bucket_size, store.bucket, store.restore_rate = 1000, 1000, 20_000
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    with LoopbackServer(store) as server:
        connector = shopify(server, sleep)
        assert len(listings(connector)) == 600
        read, _ = orders(connector)
        connector.set_prices(prices(range(1, 101)))
        connector.set_prices(prices(range(1, 101), "8.00"))
    assert len(read) == 40 and store.requests["TandemListings"] == 3
    assert store.throttled == 0 and connector.counter.throttled == 0
    assert waits, "it waited for the bucket to refill"


def test_the_bucket_waits_just_long_enough():
    now = [100.0]
    bucket = CostBucket(clock=lambda: now[0])
    assert bucket.seconds_before(900) == 0, "nothing known yet: the first answer tells"
    bucket.read({"throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 300.0, "restoreRate": 100.0}})
    assert bucket.seconds_before(900) == pytest.approx(6.0)
    now[0] += 2
    assert bucket.seconds_before(900) == pytest.approx(4.0)
    assert bucket.seconds_before(5000) == pytest.approx(15.0), "never more than the bucket can hold"


def test_a_throttled_answer_is_counted_and_waited_out(sleeps):
    store = make_store(products=5, orders=0)
    store.fail_next("throttle")
    with LoopbackServer(store) as server:
        connector = shopify(server, sleeps)
        assert len(listings(connector)) == 5
    assert connector.counter.throttled == 1 and store.throttled == 1 and sleeps


def test_the_store_charges_the_requested_cost_and_refunds_down_to_the_actual_one(sleeps):
    """Five variants asked for 249 at a time: 999 points are held for the query, 23 kept."""
    store = make_store(products=5, orders=0)
    store.bucket_size, store.bucket, store.restore_rate = 2000, 2000, 0.001
    with LoopbackServer(store) as server:
        connector = shopify(server, sleeps)
        listings(connector)
    assert connector.bucket.available == pytest.approx(2000 - 23, abs=0.5)
    assert store.bucket == pytest.approx(2000 - 23, abs=0.5)


def test_a_query_over_the_single_query_cap_is_refused_by_the_store(sleeps, monkeypatch):
    monkeypatch.setattr(shopify_module, "LISTING_PAGE", 250)  # 1,003 points
    store = make_store(products=5, orders=0)
    with LoopbackServer(store) as server:
        with pytest.raises(ConnectorError, match="exceeds the single query max cost limit"):
            listings(shopify(server, sleeps))


def test_the_demo_store_leaves_no_files_behind(small_thresholds, sleeps):
    store = make_store(products=40, orders=0)
    with LoopbackServer(store) as server:
        connector = shopify(server, sleeps)
        listings(connector)
        connector.set_prices_in_bulk(prices(range(1, 41)))
        files = [op.file for op in store.bulk_operations.values()] + list(store.uploads.values())
        assert len(files) == 3 and all(path.exists() for path in files)
    assert not any(path.exists() for path in files), "result and uploaded files are removed with the server"


def test_a_new_process_starts_from_the_bucket_the_last_one_left(engine):
    """A sync right after another (cron's, then the watcher's): its first page asks 999 points of
    a bucket the last one left nearly empty. Knowing nothing, it would be refused; the figures the
    last one kept with the channel make it wait for the refill instead, however quick or slow the
    machine was in between."""
    from sqlalchemy import text

    from core.sync import apply_channel_settings
    from core.sync.runner import _remember_rate_limit, _resume_rate_limit

    store = make_store(products=498, orders=0)
    store.bucket_size, store.bucket, store.restore_rate = 1000, 1000, 1_000
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Shopify": {"platform": "shopify", "url": server.url,
                                                    "store_location_id": LOCATION_ID}})
        with engine.connect() as conn:
            channel = conn.execute(text("SELECT id FROM saleschannel")).scalar_one()
        last = shopify(server, time.sleep)
        assert len(listings(last)) == 498  # two pages of 999 points: the bucket is left near empty
        _remember_rate_limit(engine, channel, last)
        spent = store.bucket
        assert spent < 300, "the next request would be refused without waiting"
        following = shopify(server, time.sleep)
        _resume_rate_limit(engine, channel, following)
        assert following.bucket.seconds_before(999) > 0, "it knows the bucket before its first request"
        assert len(listings(following)) == 498
    assert store.throttled == 0 and following.counter.throttled == 0
