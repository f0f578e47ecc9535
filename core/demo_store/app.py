"""The demo store as a WSGI application: in-process through httpx.WSGITransport, or served on a
loopback port by a small threaded server for tests that need real HTTP."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from core.demo_store import shopify_bulk as bulk
from core.demo_store.shopify_access import token_endpoint
from core.demo_store.shopify_api import handle_graphql
from core.demo_store.store import DemoStore

TOKEN_PATH = "/admin/oauth/access_token"  # the client credentials grant
from core.demo_store.woo_api import API as WOO_API
from core.demo_store.woo_api import handle_rest


def make_app(store: DemoStore):
    def app(environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        fault = store.next_fault()
        if fault == "timeout":
            # A hung request; a test may end the hang early once it has seen what it waited for.
            store.hang_over.wait(store.timeout_seconds)
        if fault == "429":
            start_response("429 Too Many Requests", [("Retry-After", "1"), ("Content-Type", "application/json")])
            return [b'{"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}']
        if fault == "500":
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [b'{"errors": "Internal Server Error"}']
        if fault == "401":
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"errors": "[API] Invalid API key or access token"}']
        if fault == "echo":
            # A store (or a proxy before it) that quotes the whole request back in its error text.
            headers = {key: value for key, value in environ.items() if key.startswith("HTTP_")}
            echoed = f"cannot handle {method} {path}?{environ.get('QUERY_STRING', '')} with {headers}"
            if path.endswith("/graphql.json"):
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps({"errors": [{"message": echoed}]}).encode()]
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [json.dumps({"code": "rest_invalid_request", "message": echoed, "data": {"status": 400}}).encode()]
        if fault == "malformed":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"data": {"productVariants": {"edges": [']
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        if path == bulk.STAGED_PATH and method == "POST":
            # The cloud storage a staged upload goes to: no access token, the form's fields instead.
            with store.lock:
                store.requests["StagedUpload"] += 1
                status = bulk.receive_upload(store, environ.get("CONTENT_TYPE", ""), body)
            start_response(f"{status} {'Created' if status == 201 else 'Bad Request'}", [("Content-Type", "application/xml")])
            return [b"<PostResponse><Key>staged</Key></PostResponse>" if status == 201 else b"<Error/>"]
        if path.startswith(bulk.FILES_PATH) and method == "GET":
            with store.lock:
                store.requests["BulkFile"] += 1
                status, file = bulk.result_file(store, path[len(bulk.FILES_PATH):].removesuffix(".jsonl"))
            if file is None:
                start_response(f"{status} {'Forbidden' if status == 403 else 'Not Found'}",
                               [("Content-Type", "application/xml")])
                return [b"<Error><Code>AccessDenied</Code></Error>" if status == 403 else b"<Error/>"]
            start_response("200 OK", [("Content-Type", "application/jsonl"),
                                      ("Content-Length", str(file.stat().st_size))])
            return _chunks(file)
        if path == TOKEN_PATH and method == "POST":
            status, headers, payload = token_endpoint(store, environ.get("CONTENT_TYPE", ""), body)
        elif path.endswith("/graphql.json") and method == "POST":
            version = path.split("/admin/api/", 1)[-1].split("/", 1)[0]
            status, headers, payload = handle_graphql(store, environ.get("HTTP_X_SHOPIFY_ACCESS_TOKEN"), body, fault,
                                                      f"{scheme}://{host}", version)
        elif path.startswith(WOO_API):
            status, headers, payload = handle_rest(
                store, method, f"{scheme}://{host}{path}", path, environ.get("QUERY_STRING", ""),
                environ.get("HTTP_AUTHORIZATION"), body, fault)
        else:
            status, headers, payload = 404, {}, b'{"errors": "Not Found"}'
        reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 413: "Payload Too Large"}
        if fault == "drop":
            # Promise more than is sent: the client sees the connection cut mid-answer.
            start_response(f"{status} {reason.get(status, 'OK')}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(payload) + 500))])
            return [payload[: len(payload) // 2]]
        start_response(f"{status} {reason.get(status, 'OK')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
                       + list(headers.items()))
        return [payload]

    return app


def _chunks(path: Path):
    with open(path, "rb") as file:
        while chunk := file.read(1 << 16):
            yield chunk


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class LoopbackServer:
    """The demo store on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, store: DemoStore, port: int = 0):
        self.store = store
        self._server = make_server("127.0.0.1", port, make_app(store), server_class=_ThreadingServer,
                                   handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        bulk.remove_files(self.store)
