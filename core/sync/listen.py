"""The webhook listener of `tandem --watch --listen ADDRESS:PORT`.

Deliveries come to /webhooks/CHANNEL. Each is checked by `core.webhooks.check` (signature with the
channel's webhook secret, size — refused from its Content-Length, before it is read —, event id,
sending time, body already taken) and, when taken, only wakes the watcher to read that store's
orders through the API. Put it behind a reverse proxy with TLS; it speaks plain HTTP.

Whoever can reach the port can also hold it open without sending anything worth reading. So the
listener is one asyncio loop on one thread, whatever comes in, rather than a thread per connection:
- at most `max_connections` requests are read at once; one more is answered 503 at once and closed
  (the platforms send it again later, and the watcher's poll reads every order anyway);
- a request must arrive whole, headers and body, within `read_seconds` of its connection: a client
  sending a byte now and then holds its place that long and no longer;
- one request per connection: the answer says `Connection: close`, so no idle connection stays;
- headers are at most HEADER_BYTES, and the bodies being read at once at most BODIES_IN_MEMORY in
  all (each is reserved from its Content-Length before it is read), so memory stays bounded too.
The cap is far above what the platforms send (a delivery takes a few milliseconds) and high enough
that a thousand connections dribbling headers leave room for the real ones, which come and go in
the meantime.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from http.client import HTTPException, HTTPMessage, parse_headers
from io import BytesIO
from typing import Callable
from urllib.parse import unquote

from core.webhooks import MAX_BODY, SIGNATURE, Delivery, SeenEvents, WebhookRefused, check

PREFIX = "/webhooks/"
WOO_PING = re.compile(rb"webhook_id=\d{1,20}")

MAX_CONNECTIONS = 2048
READ_SECONDS = 5.0  # the platforms send a delivery in milliseconds; a reverse proxy forwards it as fast
HEADER_BYTES = 16 * 1024  # Shopify's and WooCommerce's headers are well under 2 KiB
BODIES_IN_MEMORY = 64 * MAX_BODY
# Files the rest of the process keeps for itself (database, the stores' connections) out of the
# listener's reach: a listener taking the last descriptor would make everything else fail instead.
FILES_FOR_THE_REST = 256
BACKLOG = 1024


class WebhookListener:
    def __init__(self, host: str, port: int, channels: dict[str, tuple[str, str | None]],
                 on_delivery: Callable[[str, Delivery], None], clock=lambda: datetime.now(UTC), *,
                 max_connections: int = MAX_CONNECTIONS, read_seconds: float = READ_SECONDS):
        """`channels`: name -> (platform, webhook secret). `on_delivery` is called on the listener's
        own thread for each delivery taken, so it must return at once (mark, and leave the work to
        the watcher). The address is taken here, so a port already in use is an OSError at once."""
        self.channels, self.on_delivery, self.clock = channels, on_delivery, clock
        self.seen = SeenEvents()
        self.refused = 0  # deliveries refused by their checks
        self.turned_away = 0  # connections answered 503 because the listener was full
        self.max_connections = connections_within_file_limit(max_connections)
        self.read_seconds = read_seconds
        self._socket = _bound(host, port)
        self.port = self._socket.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self._open: set[asyncio.StreamWriter] = set()
        self._body_room = BODIES_IN_MEMORY
        self._thread = threading.Thread(target=self._run, name="webhook listener", daemon=True)

    @property
    def connections(self) -> int:
        """Requests being read or answered now."""
        return len(self._open)

    def start(self) -> WebhookListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=max(self.read_seconds, 5.0) * 2)
        else:
            self._loop.close()
        self._socket.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._connection, sock=self._socket, limit=HEADER_BYTES,
                                            backlog=BACKLOG)
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for writer in list(self._open):
                writer.transport.abort()
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._open) >= self.max_connections:
            self.turned_away += 1
            _answer(writer, HTTPStatus.SERVICE_UNAVAILABLE)
            _hang_up(writer)
            return
        self._open.add(writer)
        try:
            try:
                async with asyncio.timeout(self.read_seconds):
                    status = await self._request(reader, writer)
            except TimeoutError:
                status = HTTPStatus.REQUEST_TIMEOUT
            except (asyncio.LimitOverrunError, HTTPException):
                status = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the client went away: no one to answer
            except Exception:  # noqa: BLE001 - one request's failure must not reach the others
                status = HTTPStatus.INTERNAL_SERVER_ERROR
            _answer(writer, status)
            try:
                async with asyncio.timeout(self.read_seconds):
                    await writer.drain()
            except (TimeoutError, ConnectionError):
                pass
        finally:
            self._open.discard(writer)
            _hang_up(writer)

    async def _request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, _newline, header_lines = head.partition(b"\r\n")
        try:
            method, target, _version = request_line.decode("latin-1").split(" ")
        except ValueError:
            return HTTPStatus.BAD_REQUEST
        headers = parse_headers(BytesIO(header_lines))
        if method != "POST":
            return HTTPStatus.METHOD_NOT_ALLOWED
        if not target.startswith(PREFIX):
            return HTTPStatus.NOT_FOUND
        name = unquote(target[len(PREFIX):].strip("/"))
        if name not in self.channels:
            return HTTPStatus.NOT_FOUND
        try:
            length = int(headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0:
            self.refused += 1
            return HTTPStatus.LENGTH_REQUIRED
        if length > MAX_BODY:
            self.refused += 1
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        if length > self._body_room:
            return HTTPStatus.SERVICE_UNAVAILABLE  # other bodies fill the room kept for them: later
        self._body_room -= length
        try:
            if (headers.get("Expect") or "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await reader.readexactly(length)
        finally:
            self._body_room += length
        return self._take(name, headers, body)

    def _take(self, name: str, headers: HTTPMessage, body: bytes) -> int:
        platform, secret = self.channels[name]
        if platform == "woocommerce" and WOO_PING.fullmatch(body) and not headers.get(SIGNATURE[platform]):
            return HTTPStatus.OK  # WooCommerce's unsigned test ping as a webhook is made: it names nothing to read
        try:
            delivery = check(platform, dict(headers.items()), body, secret or "", self.seen, self.clock(), name)
        except WebhookRefused as refused:
            self.refused += 1
            # A duplicate is answered 200 so the platform stops resending it; it is still not used.
            return HTTPStatus.OK if refused.reason == "already received" else refused.status
        self.on_delivery(name, delivery)
        return HTTPStatus.OK


def _answer(writer: asyncio.StreamWriter, status: int) -> None:
    phrase = HTTPStatus(status).phrase
    writer.write(f"HTTP/1.1 {int(status)} {phrase}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())


def _hang_up(writer: asyncio.StreamWriter) -> None:
    """Closed at once: an answer the client is not reading is dropped rather than waited on."""
    if writer.transport.get_write_buffer_size():
        writer.transport.abort()
    else:
        writer.close()


def _bound(host: str, port: int) -> socket.socket:
    family, _type, _proto, _name, address = socket.getaddrinfo(host.strip("[]") or None, port,  # [::1] as in a URL
                                                               type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait for TIME_WAIT
        listening.bind(address)
        listening.listen(BACKLOG)
        listening.setblocking(False)
    except OSError:
        listening.close()
        raise
    return listening


def connections_within_file_limit(wanted: int) -> int:
    """`wanted`, or fewer when the process may not open that many files: the soft limit (often 1,024)
    is raised towards the hard one first, as a service that needs more files is meant to do."""
    try:
        import resource
    except ImportError:  # not on Unix: the platform's own limits apply
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FILES_FOR_THE_REST
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(min(wanted, soft - FILES_FOR_THE_REST), 1)
