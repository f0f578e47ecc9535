"""Webhook deliveries: only signed, small, new and recent ones are taken, and only as a reason to
read an order again."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.webhooks import MAX_BODY, SeenEvents, WebhookRefused, check, sign

SECRET = "whsec_test_0123456789"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def shopify_delivery(body: bytes, event="evt-1", sent=NOW, secret=SECRET) -> dict:
    return {"X-Shopify-Hmac-Sha256": sign(secret, body), "X-Shopify-Event-Id": event,
            "X-Shopify-Topic": "orders/updated", "X-Shopify-Triggered-At": sent.isoformat()}


def woo_delivery(body: bytes, delivery="d-1", secret=SECRET) -> dict:
    return {"X-WC-Webhook-Signature": sign(secret, body), "X-WC-Webhook-Delivery-ID": delivery,
            "X-WC-Webhook-Topic": "order.updated"}


ORDER = json.dumps({"id": 820982911946154508, "total_price": "0.01"}).encode()


def test_a_signed_new_shopify_delivery_names_the_order_to_read_again():
    delivery = check("shopify", shopify_delivery(ORDER), ORDER, SECRET, SeenEvents(), NOW)
    assert delivery.order_id == "gid://shopify/Order/820982911946154508"
    assert delivery.topic == "orders/updated"


def test_a_signed_new_woocommerce_delivery_names_the_order():
    body = json.dumps({"id": 727, "status": "processing"}).encode()
    assert check("woocommerce", woo_delivery(body), body, SECRET, SeenEvents(), NOW).order_id == "727"


@pytest.mark.parametrize("platform,headers", [("shopify", shopify_delivery), ("woocommerce", woo_delivery)])
def test_a_forged_body_is_refused(platform, headers):
    signed = headers(ORDER)
    forged = ORDER.replace(b"0.01", b"0.00")
    with pytest.raises(WebhookRefused) as refused:
        check(platform, signed, forged, SECRET, SeenEvents(), NOW)
    assert refused.value.status == 401


def test_a_delivery_signed_with_another_secret_is_refused():
    with pytest.raises(WebhookRefused, match="does not match"):
        check("shopify", shopify_delivery(ORDER, secret="someone else's"), ORDER, SECRET, SeenEvents(), NOW)


@pytest.mark.parametrize("platform,headers", [("shopify", shopify_delivery), ("woocommerce", woo_delivery)])
def test_an_unsigned_delivery_is_refused(platform, headers):
    unsigned = {name: value for name, value in headers(ORDER).items() if "Hmac" not in name and "Signature" not in name}
    with pytest.raises(WebhookRefused, match="not signed"):
        check(platform, unsigned, ORDER, SECRET, SeenEvents(), NOW)


def test_no_secret_set_refuses_everything():
    with pytest.raises(WebhookRefused, match="not signed"):
        check("shopify", shopify_delivery(ORDER, secret=""), ORDER, "", SeenEvents(), NOW)


def test_an_oversized_delivery_is_refused_even_when_signed():
    body = b"{" + b" " * MAX_BODY + b"}"
    with pytest.raises(WebhookRefused) as refused:
        check("woocommerce", woo_delivery(body), body, SECRET, SeenEvents(), NOW)
    assert refused.value.status == 413


@pytest.mark.parametrize("platform,headers", [("shopify", shopify_delivery), ("woocommerce", woo_delivery)])
def test_the_same_delivery_twice_is_taken_once(platform, headers):
    seen = SeenEvents()
    check(platform, headers(ORDER), ORDER, SECRET, seen, NOW)
    with pytest.raises(WebhookRefused, match="already received"):
        check(platform, headers(ORDER), ORDER, SECRET, seen, NOW)


def test_a_shopify_delivery_replayed_later_is_refused_even_after_its_id_is_forgotten():
    old = shopify_delivery(ORDER, sent=NOW - timedelta(minutes=30))
    with pytest.raises(WebhookRefused, match="too long ago"):
        check("shopify", old, ORDER, SECRET, SeenEvents(), NOW)


def test_a_signed_body_sent_again_with_a_fresh_event_id_and_time_is_a_replay():
    """Shopify signs the body only: the event id and the time of sending can be made up anew."""
    seen = SeenEvents()
    check("shopify", shopify_delivery(ORDER, event="evt-1"), ORDER, SECRET, seen, NOW, "Shop")
    again = shopify_delivery(ORDER, event="evt-2", sent=NOW + timedelta(minutes=1))
    with pytest.raises(WebhookRefused, match="already received"):
        check("shopify", again, ORDER, SECRET, seen, NOW + timedelta(minutes=1), "Shop")
    assert check("shopify", shopify_delivery(ORDER, event="evt-3"), ORDER, SECRET, seen, NOW, "Other shop"), \
        "another store's body is its own"
    later = NOW + timedelta(minutes=10)
    assert check("shopify", shopify_delivery(ORDER, event="evt-4", sent=later), ORDER, SECRET, seen, later, "Shop"), \
        "past the replay window the body is taken again: the same order changed again sends the same {id}"


def test_the_memory_of_bodies_keeps_only_the_replay_window():
    seen = SeenEvents(size=3)
    assert all(seen.add_body("Shop", str(n).encode(), NOW) for n in range(5))
    assert seen.add_body("Shop", b"0", NOW), "the oldest was forgotten"
    assert not seen.add_body("Shop", b"4", NOW + timedelta(minutes=4))
    assert seen.add_body("Shop", b"4", NOW + timedelta(minutes=10))


def test_the_memory_of_events_is_bounded():
    seen = SeenEvents(size=3)
    assert all(seen.add(str(n)) for n in range(5))
    assert seen.add("0"), "the oldest was forgotten"
    assert not seen.add("4")


def test_woocommerces_unsigned_ping_is_answered_but_wakes_nothing():
    import httpx

    from core.sync.listen import WebhookListener

    taken = []
    listener = WebhookListener("127.0.0.1", 0, {"Woo": ("woocommerce", "s3cret"), "Shop": ("shopify", "s3cret")},
                               lambda name, delivery: taken.append(name)).start()
    try:
        base = f"http://127.0.0.1:{listener.port}/webhooks"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert httpx.post(f"{base}/Woo", content=b"webhook_id=12", headers=form).status_code == 200
        # Only that exact shape, only unsigned, only on a WooCommerce channel.
        assert httpx.post(f"{base}/Woo", content=b"webhook_id=12&id=5", headers=form).status_code == 401
        assert httpx.post(f"{base}/Woo", content=b"webhook_id=12",
                          headers={**form, "X-WC-Webhook-Signature": "bogus"}).status_code == 401
        assert httpx.post(f"{base}/Shop", content=b"webhook_id=12", headers=form).status_code == 401
    finally:
        listener.stop()
    assert taken == [], "a ping names no order: nothing is read for it"
