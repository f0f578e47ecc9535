"""Webhooks from Shopify and WooCommerce: checked before anything is read from them.

A webhook is only ever a reason to read an order again through the API, never data to trust, so
all that is taken from one is which order changed. Before that, a delivery must be:
- signed: HMAC-SHA256 of the raw body with the channel's webhook secret, base64, in
  `X-Shopify-Hmac-Sha256` (Shopify) or `X-WC-Webhook-Signature` (WooCommerce), compared in constant
  time;
- small: a body over MAX_BODY is refused before it is read whole;
- new: its event id (`X-Shopify-Event-Id`, or WooCommerce's `X-WC-Webhook-Delivery-ID`) not seen
  before, and, where the platform dates it (`X-Shopify-Triggered-At`), sent within REPLAY_WINDOW of
  now — a delivery recorded and sent again later is refused; and, since neither the event id nor
  the time of sending is signed, its body not already taken for the same channel within REPLAY_WINDOW.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_BODY = 256 * 1024  # the largest order a shop sends is a few tens of kilobytes
REPLAY_WINDOW = timedelta(minutes=5)
REMEMBERED_EVENTS = 100_000

SIGNATURE = {"shopify": "x-shopify-hmac-sha256", "woocommerce": "x-wc-webhook-signature"}
EVENT_ID = {"shopify": "x-shopify-event-id", "woocommerce": "x-wc-webhook-delivery-id"}
TOPIC = {"shopify": "x-shopify-topic", "woocommerce": "x-wc-webhook-topic"}


class WebhookRefused(Exception):
    """Why a delivery was not taken, with the HTTP status to answer it with."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Delivery:
    platform: str
    topic: str
    event_id: str
    order_id: str | None  # the order to read again through the API


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class SeenEvents:
    """The event ids and signed bodies already taken, oldest forgotten first (a bounded memory, not
    a growing one)."""

    def __init__(self, size: int = REMEMBERED_EVENTS):
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._bodies: OrderedDict[str, datetime] = OrderedDict()  # channel and body digest -> when taken
        self._size = size

    def add(self, event_id: str) -> bool:
        """True the first time an id is given."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True

    def add_body(self, channel: str, body: bytes, now: datetime) -> bool:
        """False when the same body was taken for `channel` less than REPLAY_WINDOW ago. Only the
        window is remembered: past it, the event id and the time of sending are what is left."""
        key = f"{channel}:{hashlib.sha256(body).hexdigest()}"
        taken = self._bodies.get(key)
        if taken is not None and abs(now - taken) <= REPLAY_WINDOW:
            return False
        self._bodies[key] = now
        self._bodies.move_to_end(key)
        while self._bodies and (len(self._bodies) > self._size
                                or now - next(iter(self._bodies.values())) > REPLAY_WINDOW):
            self._bodies.popitem(last=False)
        return True


def check(platform: str, headers: dict[str, str], body: bytes, secret: str, seen: SeenEvents,
          now: datetime, channel: str = "") -> Delivery:
    """The delivery, if it is signed, small, new and recent; WebhookRefused otherwise. `channel`
    keeps one store's bodies apart from another's."""
    headers = {name.lower(): value for name, value in headers.items()}
    if platform not in SIGNATURE:
        raise WebhookRefused(404, "no such platform")
    if len(body) > MAX_BODY:
        raise WebhookRefused(413, "too large")
    given = headers.get(SIGNATURE[platform])
    if not given or not secret:
        raise WebhookRefused(401, "not signed")
    if not hmac.compare_digest(given.encode(), sign(secret, body).encode()):
        raise WebhookRefused(401, "signature does not match")
    event_id = headers.get(EVENT_ID[platform])
    if not event_id:
        raise WebhookRefused(400, "no event id")
    if platform == "shopify":
        try:
            sent = datetime.fromisoformat(headers["x-shopify-triggered-at"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise WebhookRefused(400, "no time of sending") from None
        if sent.tzinfo is None or abs(now - sent) > REPLAY_WINDOW:
            raise WebhookRefused(409, "sent too long ago (a replay?)")
    if not seen.add(f"{platform}:{event_id}"):
        raise WebhookRefused(409, "already received")
    # Only the body is signed: one captured delivery can be sent again and again with a fresh event
    # id and time of sending, each of which would pass the checks above. The same signed body taken
    # again for the channel within the window is therefore refused as already received. That loses
    # nothing: a webhook is only a reason to read the store's orders through the API, the first copy
    # already caused that read, and what the read did not see yet (an order changed again whose
    # webhook body is the same `{"id": …}`, as Shopify sends when only the id is asked for) is read
    # by the watcher's regular poll, seconds later, as every order is.
    if not seen.add_body(channel, body, now):
        raise WebhookRefused(409, "already received")
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise WebhookRefused(400, "not JSON") from None
    order_id = None
    if isinstance(payload, dict) and payload.get("id") is not None:
        order_id = (f"gid://shopify/Order/{payload['id']}" if platform == "shopify"
                    and not str(payload["id"]).startswith("gid://") else str(payload["id"]))
    return Delivery(platform, headers.get(TOPIC[platform], ""), event_id, order_id)
