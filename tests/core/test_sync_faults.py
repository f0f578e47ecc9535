"""The whole sync while the store misbehaves, on both platforms: retried within bounds, then either
finished or stopped with a clear message, the order cursor never past what was stored, no order
half-written, and a rerun once the store behaves finishes the job without doubling anything."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from core.audit import Actor
from core.catalog_import import import_catalog
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.models import SyncCursor, WebSale, WebSaleLine
from core.sync import ORDERS_CURSOR, SyncOptions, apply_channel_settings, run_sync

from tests.core.connectors.conftest import Sleeps, make_store, shopify, woo
from tests.core.test_sync import catalog_for

QUIET = {"log": lambda message: None}
ORDERS = 230  # three WooCommerce pages, many more Shopify ones
# fault, how many in a row, what the sync must end with (None: it succeeds after retrying)
CASES = [
    ("429", 2, None),
    ("429", 10, "kept answering HTTP 429 after 4 attempts"),
    ("500", 3, None),
    ("500", 10, "kept answering HTTP 500 after 4 attempts"),
    ("timeout", 1, None),
    ("timeout", 10, "did not answer in time, even after retrying"),
    ("drop", 2, None),
    ("drop", 10, "could not talk to the store"),
    ("malformed", 1, "answer that is not JSON"),
    ("throttle", 3, None),
    ("vanish", 1, None),
]


@pytest.fixture(params=["shopify", "woocommerce"])
def platform(request):
    return request.param


@pytest.fixture
def shop(engine, platform):
    store = make_store(products=60, orders=ORDERS, lines=2)
    # A hung request hangs well past the client's patience; an ordinary one, however loaded the
    # machine, answers well within it.
    store.timeout_seconds = 3 * CLIENT_TIMEOUT
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": platform, "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID, "export_time": "00:00"}})
        yield engine, store, server
        store.hang_over.set()  # let any request still hanging go


CLIENT_TIMEOUT = 2.0


def connect(server, platform, sleeps):
    connector = (shopify if platform == "shopify" else woo)(server, sleeps)
    connector.client._client.timeout = httpx.Timeout(CLIENT_TIMEOUT)
    return connector


def fail_during_orders(connector, store, faults: list[str]) -> list:
    """The faults start once the first page of orders is stored, so there is a cursor to keep.
    Returns the first page (its orders, its cursor) once it has been read."""
    pages, first = connector.orders_since, []

    def orders_since(cursor):
        for number, page in enumerate(pages(cursor)):
            yield page
            if number == 0:
                first.extend(page)
                store.fail_next(*faults)

    connector.orders_since = orders_since
    return first


def cursor_of(engine):
    with engine.connect() as conn:
        return conn.execute(select(SyncCursor.value).where(SyncCursor.name == ORDERS_CURSOR)).scalar()


def stored_orders(engine) -> dict[str, int]:
    """Each stored order and how many lines it has."""
    with engine.connect() as conn:
        return dict(conn.execute(
            select(WebSale.external_id, func.count(WebSaleLine.id)).join(WebSaleLine, isouter=True)
            .group_by(WebSale.external_id)).all())


def order_ids(store, platform) -> set[str]:
    return {str(o.number) if platform == "woocommerce" else o.gid for o in store.orders}


# Throttling by query cost is Shopify's; WooCommerce throttles with 429, tested for both.
PLATFORM_CASES = [(platform, *case) for platform in ("shopify", "woocommerce") for case in CASES
                  if case[0] != "throttle" or platform == "shopify"]


@pytest.mark.parametrize(("platform", "fault", "times", "failure"), PLATFORM_CASES,
                         ids=[f"{p}-{f}x{n}" for p, f, n, _ in PLATFORM_CASES])
def test_a_store_fault_during_the_orders(shop, platform, fault, times, failure):
    engine, store, server = shop
    sleeps = Sleeps()
    connector = connect(server, platform, sleeps)
    first_page = fail_during_orders(connector, store, [fault] * times)
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors={"Web": connector}, **QUIET)
    result = report.channels[0]
    stored = stored_orders(engine)
    assert all(lines == 2 for lines in stored.values()), "no order is stored without all its lines"

    if failure is None:
        assert result.status == "ok", result.error
        assert order_ids(store, platform) <= set(stored), "every order still on the store is stored"
        # only the vanished order, if it was read before it vanished, is stored but no longer there
        assert len(set(stored) - order_ids(store, platform)) <= (fault == "vanish")
        assert result.export_ran and result.items_exported == 60
        if fault in ("429", "500", "timeout", "drop"):
            assert connector.counter.retries >= times
        if fault == "429":
            assert 1.0 in sleeps, "it waited as long as Retry-After asked"
        if fault == "throttle":
            assert sleeps, "it waited for the cost bucket instead of failing"
        if fault == "vanish":
            assert len(store.orders) == ORDERS - 1
        return

    assert result.status == "failed" and report.exit_code == 1
    assert failure in result.error and "Traceback" not in result.error
    assert not result.export_ran, "a channel whose orders failed sends nothing"
    first_orders, first_cursor = first_page
    assert cursor_of(engine) == first_cursor, "the cursor stays where the stored orders end"
    assert set(stored) == {o.external_id for o in first_orders}, "only the pages read in full are stored"

    # The store recovers: the next sync finishes the job and doubles nothing.
    store.faults.clear()
    report = run_sync(engine, options=SyncOptions(export_now=True),
                      connectors={"Web": connect(server, platform, Sleeps())}, **QUIET)
    assert report.exit_code == 0, report.channels[0].error
    again = stored_orders(engine)
    assert set(again) == order_ids(store, platform) and all(lines == 2 for lines in again.values())


def test_a_store_failing_while_listing_leaves_orders_and_cursor_untouched(shop, platform):
    engine, store, server = shop
    store.fail_next(*["500"] * 10)
    report = run_sync(engine, connectors={"Web": connect(server, platform, Sleeps())}, **QUIET)
    assert report.exit_code == 1 and "kept answering HTTP 500" in report.channels[0].error
    assert cursor_of(engine) is None and stored_orders(engine) == {}
