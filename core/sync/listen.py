"""The webhook listener of `tandem --watch --listen ADDRESS:PORT`.

Deliveries come to /webhooks/CHANNEL. Each is checked by `core.webhooks.check` (signature with the
channel's webhook secret, size — refused from its Content-Length, before it is read —, event id,
sending time) and, when taken, only wakes the watcher to read that store's orders through the API.
Put it behind a reverse proxy with TLS; it speaks plain HTTP.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import unquote

from core.webhooks import MAX_BODY, SIGNATURE, Delivery, SeenEvents, WebhookRefused, check

PREFIX = "/webhooks/"
WOO_PING = re.compile(rb"webhook_id=\d{1,20}")


class WebhookListener:
    def __init__(self, host: str, port: int, channels: dict[str, tuple[str, str | None]],
                 on_delivery: Callable[[str, Delivery], None], clock=lambda: datetime.now(UTC)):
        """`channels`: name -> (platform, webhook secret)."""
        self.channels, self.on_delivery, self.clock = channels, on_delivery, clock
        self.seen = SeenEvents()
        self.refused = 0
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                pass

            def do_POST(self):  # noqa: N802 - the base class's name
                status = listener.receive(self)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WebhookListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def receive(self, request: BaseHTTPRequestHandler) -> int:
        if not request.path.startswith(PREFIX):
            return 404
        name = unquote(request.path[len(PREFIX):].strip("/"))
        if name not in self.channels:
            return 404
        try:
            length = int(request.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0:
            self.refused += 1
            return 411
        if length > MAX_BODY:
            self.refused += 1
            return 413
        body = request.rfile.read(length)
        platform, secret = self.channels[name]
        if platform == "woocommerce" and WOO_PING.fullmatch(body) and not request.headers.get(SIGNATURE[platform]):
            return 200  # WooCommerce's unsigned test ping as a webhook is made: it names nothing to read
        try:
            delivery = check(platform, dict(request.headers.items()), body, secret or "", self.seen, self.clock())
        except WebhookRefused as refused:
            self.refused += 1
            # A duplicate is answered 200 so the platform stops resending it; it is still not used.
            return 200 if refused.reason == "already received" else refused.status
        self.on_delivery(name, delivery)
        return 200
