"""The webhook listener under hostile traffic: connections that dribble are closed, a full listener
turns newcomers away at once and takes deliveries again as places free, and a flood of deliveries
costs the store a bounded number of order reads — never an order.

Real sockets on 127.0.0.1, real HTTP through httpx. Nothing here times the host: each test waits for
what it expects (tests/waiting.py), and a bound is only there so a broken run ends."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from core.audit import Actor
from core.catalog_import import import_catalog
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.sync import apply_channel_settings
from core.sync.listen import WebhookListener
from core.sync.wakeups import TokenBucket, WakeUps
from core.sync.watch import WatchState, watch
from core.webhooks import sign

from tests.core.connectors.conftest import make_store, shopify
from tests.core.test_sync import catalog_for
from tests.waiting import until

SECRET = "whsec_listener_0123456789"
WAIT = 60.0  # an upper bound only


def signed(order: int, event: str, secret: str = SECRET) -> tuple[bytes, dict]:
    body = json.dumps({"id": order}).encode()
    return body, {"X-Shopify-Hmac-Sha256": sign(secret, body), "X-Shopify-Event-Id": event,
                  "X-Shopify-Topic": "orders/create", "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}


class Taken(list):
    """The deliveries a listener handed on: (channel, order)."""

    def __call__(self, name, delivery) -> None:
        self.append((name, delivery.order_id))


@pytest.fixture
def listening(request):
    """A listener on a free port; `request.param` may set its cap and read time."""
    options = getattr(request, "param", {})
    taken = Taken()
    listener = WebhookListener("127.0.0.1", 0, {"Shop": ("shopify", SECRET)}, taken, **options).start()
    yield listener, taken
    listener.stop()


def held_open(port: int, sent: bytes = b"POST /webhooks/Shop HTTP/1.1\r\nHost: x\r\n") -> socket.socket:
    """A connection that sent part of its headers and is not going to send the rest."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    connection.sendall(sent)
    return connection


def answer_then_closed(connection: socket.socket) -> bytes:
    """Everything the listener sends until it closes the connection (b"" if reset)."""
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


@pytest.mark.parametrize("listening", [{"read_seconds": 0.5}], indirect=True)
def test_a_connection_dribbling_its_headers_is_closed_at_the_read_time_limit(listening):
    """A byte every few hundredths of a second forever: a timeout per byte would never fire; the
    limit on the whole request does."""
    listener, taken = listening
    connection = held_open(listener.port)
    gone = threading.Event()

    def dribble() -> None:
        try:
            connection.sendall(b"X-Slow: ")
            while not gone.is_set():
                connection.sendall(b"a")
                time.sleep(0.02)
        except OSError:
            pass  # closed by the listener, as it should

    dribbler = threading.Thread(target=dribble, daemon=True)
    dribbler.start()
    try:
        assert answer_then_closed(connection).startswith(b"HTTP/1.1 408 "), "answered 408, then closed"
    finally:
        gone.set()
        dribbler.join(timeout=WAIT)
        connection.close()
    assert until(lambda: listener.connections == 0, WAIT)
    assert taken == []


@pytest.mark.parametrize("listening", [{"read_seconds": 0.5}], indirect=True)
def test_a_body_sent_slower_than_the_read_time_limit_is_not_taken(listening):
    listener, taken = listening
    body, headers = signed(1, "slow-body")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    connection = held_open(listener.port, (f"POST /webhooks/Shop HTTP/1.1\r\nHost: x\r\n{head}"
                                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:3])
    try:
        assert answer_then_closed(connection).startswith(b"HTTP/1.1 408 ")
    finally:
        connection.close()
    assert until(lambda: listener.connections == 0, WAIT)
    assert taken == [], "half a body is never taken, even a signed one"


@pytest.mark.parametrize("listening", [{"max_connections": 3, "read_seconds": 600}], indirect=True)
def test_a_full_listener_turns_newcomers_away_at_once_and_takes_deliveries_again_as_places_free(listening):
    """Three places, held by three connections that would keep them ten minutes: a fourth is
    answered 503 at once (the platform sends again later), not queued behind them."""
    listener, taken = listening
    url = f"http://127.0.0.1:{listener.port}/webhooks/Shop"
    holders = [held_open(listener.port) for _ in range(3)]
    try:
        assert until(lambda: listener.connections == 3, WAIT)
        body, headers = signed(7, "while-full")
        assert httpx.post(url, content=body, headers=headers, timeout=WAIT).status_code == 503
        assert listener.turned_away == 1 and taken == []
        holders.pop().close()
        assert until(lambda: listener.connections == 2, WAIT)
        assert httpx.post(url, content=body, headers=headers, timeout=WAIT).status_code == 200
        assert taken == [("Shop", "gid://shopify/Order/7")], "the delivery turned away is taken when sent again"
    finally:
        for holder in holders:
            holder.close()


def test_connections_held_open_leave_room_for_deliveries(listening):
    """The default cap is far above what a store sends: two hundred connections dribbling their
    headers do not keep a delivery out."""
    listener, taken = listening
    holders = [held_open(listener.port) for _ in range(200)]
    try:
        assert until(lambda: listener.connections == 200, WAIT)
        body, headers = signed(8, "among-the-holders")
        answer = httpx.post(f"http://127.0.0.1:{listener.port}/webhooks/Shop", content=body, headers=headers,
                            timeout=WAIT)
        assert answer.status_code == 200 and taken == [("Shop", "gid://shopify/Order/8")]
    finally:
        for holder in holders:
            holder.close()
    assert until(lambda: listener.connections == 0, WAIT), "a client closing frees its place"


def test_headers_beyond_their_limit_are_refused(listening):
    listener, taken = listening
    answer = httpx.post(f"http://127.0.0.1:{listener.port}/webhooks/Shop", content=b"{}",
                        headers={"X-Padding": "a" * 20_000}, timeout=WAIT)
    assert answer.status_code == 431 and taken == []


def test_a_captured_delivery_sent_again_with_fresh_unsigned_headers_is_taken_once(listening):
    """Shopify signs the body, not the event id nor the time of sending: the same body with a new
    event id is a replay. Answered 200, so a platform's own retry stops; handed on once."""
    listener, taken = listening
    url = f"http://127.0.0.1:{listener.port}/webhooks/Shop"
    with httpx.Client(timeout=WAIT) as client:
        answers = {client.post(url, content=body, headers=headers).status_code
                   for body, headers in (signed(9, f"copy-{n}") for n in range(50))}
    assert answers == {200}
    assert taken == [("Shop", "gid://shopify/Order/9")]


# --- the watcher: wake-ups are marks, bounded per store ------------------------------------------------

class CountingReads:
    """A store's connector that counts the order reads asked of it."""

    def __init__(self, connector):
        self.connector, self.reads = connector, 0

    def orders_since(self, cursor):
        self.reads += 1
        return self.connector.orders_since(cursor)

    def __getattr__(self, name):
        return getattr(self.connector, name)


def place(store, number: int) -> None:
    variant = store.variants()[0][1]
    stamp = store.touch()
    with store.lock:
        store.orders.append(DemoOrder(number=number, name=f"#{number}", created_at=stamp, updated_at=stamp,
                                      email=None, customer="Hooked", phone=None, address=[],
                                      lines=[DemoOrderLine(number * 10, variant, "Item", 1, variant.price)]))


def sales(engine) -> int:
    from sqlalchemy import func, select

    from core.models import WebSale

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(WebSale)).scalar()


class Watching:
    """A watcher on one Shopify demo store, with webhooks, polling only once (at its start)."""

    def __init__(self, engine, store, server, wake_ups: WakeUps | None = None):
        self.engine, self.store = engine, store
        self.connector = CountingReads(shopify(server, lambda s: None))
        self.state, self.stop, self.ports = WatchState(), threading.Event(), []
        self.thread = threading.Thread(target=watch, args=(engine, self.stop), kwargs={
            "connectors": {"Web": self.connector}, "webhook_secrets": {"Web": ("shopify", SECRET)},
            "poll_seconds": 100_000, "full_sync_seconds": None, "listen": ("127.0.0.1", 0),
            "on_listening": self.ports.append, "state": self.state, "wake_ups": wake_ups})

    def __enter__(self) -> Watching:
        self.thread.start()
        assert until(lambda: self.ports and self.state.rounds >= 1, WAIT), "the first round polled"
        self.url = f"http://127.0.0.1:{self.ports[0]}/webhooks/Web"
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def one_store(engine):
    store = make_store(products=5, orders=1)
    import_catalog(engine, catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                                "store_location_id": LOCATION_ID}})
        yield store, server


def test_three_hundred_copies_of_a_delivery_cost_one_order_read_and_a_new_order_still_wakes_one(engine, one_store):
    store, server = one_store
    with Watching(engine, store, server) as watching:
        polled = watching.connector.reads
        place(store, 990)
        with httpx.Client(timeout=WAIT) as client:
            answers = [client.post(watching.url, content=body, headers=headers).status_code
                       for body, headers in (signed(990, f"replayed-{n}") for n in range(300))]
        assert set(answers) == {200}, "answered, so nothing is learnt from the answer"
        assert until(lambda: sales(engine) == 2, WAIT), "the first copy brought the order at once"
        place(store, 991)
        body, headers = signed(991, "a-new-order")
        assert httpx.post(watching.url, content=body, headers=headers, timeout=WAIT).status_code == 200
        assert until(lambda: sales(engine) == 3, WAIT), "a new order's webhook still wakes a read at once"
        # The 299 copies were refused before marking anything, so they cannot wake a round later:
        # the reads are the first copy's and the new order's (one, if both came before the same round).
        assert watching.connector.reads - polled <= 2
        assert watching.state.webhook_reads == watching.connector.reads - polled
    assert watching.state.webhook_reads <= 2


def test_a_flood_of_distinct_signed_deliveries_costs_at_most_the_stores_bucket(engine, one_store):
    """Three hundred different signed deliveries (a leaked secret, or many captured ones): each is
    taken, but they wake at most the store's bucket of reads; the rest is the poll's work."""
    store, server = one_store
    never_refilled = WakeUps(per_minute=1e-9, at_once=3)
    with Watching(engine, store, server, never_refilled) as watching:
        polled = watching.connector.reads
        with httpx.Client(timeout=WAIT) as client:
            answers = [client.post(watching.url, content=body, headers=headers).status_code
                       for body, headers in (signed(5000 + n, f"flood-{n}") for n in range(300))]
        assert set(answers) == {200}
    assert watching.connector.reads - polled <= 3
    assert watching.state.webhook_reads == watching.connector.reads - polled


def test_deliveries_before_a_round_are_one_read_and_the_bucket_refills_at_its_pace():
    now = [0.0]
    wake_ups = WakeUps(per_minute=6, at_once=2, clock=lambda: now[0])
    heard = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert wake_ups.mark("A", heard)
    assert not any(wake_ups.mark("A", heard) for _ in range(299)), "already to be read: no second wake-up"
    assert wake_ups.take().read_now == {"A"}
    assert wake_ups.mark("A", heard), "the bucket's second token"
    wake_ups.take()
    assert not wake_ups.mark("A", heard) and wake_ups.take().read_now == set(), "empty: left to the poll"
    assert wake_ups.mark("B", heard), "each store has its own bucket"
    now[0] += 10.0  # six a minute: one token back every ten seconds
    assert wake_ups.mark("A", heard)
    wake_ups.take()
    assert not wake_ups.mark("A", heard)
    assert wake_ups.take().heard_at == {"A": heard}, "the webhook is recorded even when it wakes nothing"


def test_a_token_bucket_never_holds_more_than_its_burst():
    now = [0.0]
    bucket = TokenBucket(per_minute=60, at_once=2, clock=lambda: now[0])
    now[0] += 3600.0
    assert [bucket.take() for _ in range(3)] == [True, True, False]
