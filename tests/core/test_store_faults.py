"""A store that answers in a broken shape, echoes secrets, loses the answer to a refund or a
capture, or refuses with a reason: each channel fails alone and says why, no secret is printed or
stored, nothing is made twice at the store, and a refusal is shown as the store gave it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.catalog_import import import_catalog
from cli import main
from core.connectors.base import ConnectorError
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID
from core.models import SyncRun, WebSale
from core.secrets import save_secret

from tests.core.connectors.conftest import KEY, SECRET, TOKEN, Sleeps, make_store, shopify, woo
from tests.core.test_sync import catalog_for


@pytest.fixture
def two_stores(engine, tmp_path):
    """A Shopify and a WooCommerce channel on loopback, set up as a shop would: settings and secrets files."""
    shop_store, woo_store = make_store(products=8, orders=3), make_store(products=8, orders=2)
    import_catalog(engine, catalog_for(shop_store), "Main Street")
    with LoopbackServer(shop_store) as shop_server, LoopbackServer(woo_store) as woo_server:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[channels."Web shop"]\nplatform = "shopify"\nurl = "{shop_server.url}"\nlocation = "Main Street"\n'
            f'store_location_id = "{LOCATION_ID}"\n\n'
            f'[channels."Woo shop"]\nplatform = "woocommerce"\nurl = "{woo_server.url}"\nlocation = "Main Street"\n')
        secrets = tmp_path / "secrets.toml"
        save_secret(secrets, "Web shop", "access_token", TOKEN)
        save_secret(secrets, "Woo shop", "consumer_key", KEY)
        save_secret(secrets, "Woo shop", "consumer_secret", SECRET)
        yield engine, config, shop_store, woo_store


def sync(engine, config, capsys) -> tuple[int, dict, str]:
    code = main(["--sync", "--json", "--config", str(config), "--db", engine.url.render_as_string(False)])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def runs(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(select(SyncRun.status, SyncRun.finished_at, SyncRun.message).order_by(SyncRun.id)).all()


def test_a_shopify_answer_without_its_orders_fails_that_channel_alone(two_stores, capsys):
    engine, config, shop_store, _ = two_stores
    shop_store.fail_next("pass", "shapeless")  # the listings answer is fine; the orders answer has no `orders`
    code, report, err = sync(engine, config, capsys)
    assert code == 1
    by_name = {c["channel"]: c for c in report["channels"]}
    assert by_name["Web shop"]["status"] == "failed"
    assert "orders answer" in by_name["Web shop"]["error"] and "no orders field" in by_name["Web shop"]["error"]
    assert by_name["Woo shop"]["status"] == "ok" and by_name["Woo shop"]["orders_imported"] == 2
    assert "Web shop: failed" in err and "Traceback" not in err
    assert [(status, finished is not None) for status, finished, _ in runs(engine)] == [("failed", True), ("ok", True)]


def test_a_woocommerce_product_without_an_id_fails_that_channel_alone(two_stores, capsys):
    engine, config, shop_store, woo_store = two_stores
    woo_store.fail_next("shapeless")
    code, report, err = sync(engine, config, capsys)
    by_name = {c["channel"]: c for c in report["channels"]}
    assert code == 1 and by_name["Web shop"]["status"] == "ok" and by_name["Web shop"]["orders_imported"] == 3
    assert by_name["Woo shop"]["status"] == "failed" and "no id field" in by_name["Woo shop"]["error"]
    assert all(finished is not None for _, finished, _ in runs(engine))


def test_a_run_killed_outright_is_marked_interrupted_by_the_next(two_stores, capsys):
    from core.dbtypes import utcnow
    from core.overview import shop_overview

    engine, config, *_ = two_stores
    with engine.begin() as conn:  # what SIGKILL leaves behind: a row nobody will close
        conn.execute(SyncRun.__table__.insert().values(channel_id=None, kind="sync", status="running",
                                                       started_at=utcnow(), started_by="cron", counts_json="{}"))
    assert shop_overview(engine).last_sync.status == "interrupted", "no live sync holds the lock: the row is dead"
    code, report, err = sync(engine, config, capsys)
    assert code == 0 and "stopped before finishing" in err
    statuses = [status for status, *_ in runs(engine)]
    assert statuses == ["interrupted", "ok", "ok"]


def test_a_store_echoing_the_request_never_gets_the_token_printed_or_stored(two_stores, capsys):
    engine, config, shop_store, woo_store = two_stores
    shop_store.fail_next("echo")
    woo_store.fail_next("echo")
    code, report, err = sync(engine, config, capsys)
    assert code == 1 and {c["status"] for c in report["channels"]} == {"failed"}
    import base64

    leaks = (TOKEN, KEY, SECRET, base64.b64encode(f"{KEY}:{SECRET}".encode()).decode())
    texts = [err, json.dumps(report)] + [message or "" for *_, message in runs(engine)]
    for text in texts:
        assert not any(secret in text for secret in leaks), text
    assert all("cannot handle" in c["error"] for c in report["channels"]), "the store's words still reach staff"


# 12: a request that is not idempotent is never blindly sent again.


@pytest.fixture(params=["shopify", "woocommerce"])
def platform(request):
    return request.param


@pytest.fixture
def paid_order():
    store = make_store(products=4, orders=1)
    order = store.orders[0]
    order.financial_status = "PAID"
    with LoopbackServer(store) as server:
        yield store, server, order


def connector_for(platform, server):
    return (shopify if platform == "shopify" else woo)(server, Sleeps())


def test_a_refund_whose_answer_is_lost_is_made_exactly_once(platform, paid_order):
    store, server, order = paid_order
    connector = connector_for(platform, server)
    external = order.gid if platform == "shopify" else str(order.number)
    # The refund's own request is the second one (after reading the refunds made so far); the store
    # makes the refund, then the connection is cut before its answer arrives.
    store.fail_next("pass", "drop")
    reference = connector.refund(external, Decimal("10.00"), "return-7")
    assert [r["amount"] for r in order.refunds] == [Decimal("10.00")]
    assert reference and reference != "already refunded"


def test_a_capture_whose_answer_is_lost_is_made_exactly_once(platform):
    store = make_store(products=4, orders=1)
    order = store.orders[0]
    with LoopbackServer(store) as server:
        connector = connector_for(platform, server)
        if platform == "shopify":
            store.fail_next("pass", "drop")  # the capture request; the authorisation was read first
            transaction = connector.capture(order.gid, Decimal("13.50"))
            assert transaction.startswith("gid://shopify/OrderTransaction/")
        else:
            # WooCommerce captures through the gateway when the order is completed.
            store.fail_next("drop")
            connector.complete(str(order.number))
            assert store.requests["complete order"] == 1, "the completion was not sent a second time"
        assert order.captures == 1 and order.financial_status == "PAID"


def test_a_lost_refund_answer_before_the_store_acted_is_sent_again(platform, paid_order):
    store, server, order = paid_order
    connector = connector_for(platform, server)
    external = order.gid if platform == "shopify" else str(order.number)
    store.fail_next("pass", "500")  # the store failed before making it: reading shows none, so it is sent again
    connector.refund(external, Decimal("4.00"), "return-8")
    assert [r["amount"] for r in order.refunds] == [Decimal("4.00")]


# 13: a refusal with a reason is shown as given and not retried.


def test_a_gateway_that_cannot_refund_is_named_at_once_without_retrying():
    store = make_store(products=4, orders=1)
    order = store.orders[0]
    order.financial_status, order.payment_method = "PAID", "bacs"
    with LoopbackServer(store) as server:
        sleeps = Sleeps()
        connector = woo(server, sleeps)
        with pytest.raises(ConnectorError) as refused:
            connector.refund(str(order.number), Decimal("10.00"), "return-9")
    assert "does not support automatic refunds" in str(refused.value)
    assert connector.counter.retries == 0 and sleeps == []
    assert store.requests["POST orders"] == 1 and order.refunds == []


def test_a_refused_batch_shows_the_store_reason(engine):
    store = make_store(products=3, orders=0)
    with LoopbackServer(store) as server:
        connector = woo(server, Sleeps())
        with pytest.raises(ConnectorError) as refused:
            connector.client.request("GET", "/wp-json/wc/v3/nowhere", "listings")
    assert "No route was found" in str(refused.value) and connector.counter.retries == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSale)).scalar() == 0
