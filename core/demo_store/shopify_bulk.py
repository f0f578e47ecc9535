"""Shopify's bulk operations, as the demo store runs them: a bulk query writes its whole answer to a
JSONL file (child connections as lines of their own after their parent, naming it in `__parentId`);
a bulk mutation runs once per line of a JSONL file uploaded beforehand through a staged upload, and
writes one result line per input line with its `__lineNumber`. Operations run in a thread and are
followed by polling, as on Shopify; before API 2026-01 one query and one mutation may run at a time.

Faults a test can ask for (`DemoStore.fail_next_bulk`): "fail" (FAILED, no file), "partial"
(FAILED after half the work, with a partial file), "expire" (EXPIRED, no file), "gone" (COMPLETED,
but the file's address answers 403, as an expired signed address does) and "busy" (an operation
of this kind is already running, and ends a moment later).
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import uuid
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

from core.demo_store.store import DemoStore

STAGED_PATH = "/demo-storage/uploads"
FILES_PATH = "/demo-storage/results/"
METAFIELD = re.compile(r'metafield\(namespace:\s*"([^"]*)",\s*key:\s*"([^"]*)"\)')
ORDER_QUERY = re.compile(r'orders\(query:\s*("(?:[^"\\]|\\.)*")')
CONCURRENT_FROM_2026 = 5
UNFINISHED = ("CREATED", "RUNNING")


@dataclass
class DemoBulkOperation:
    number: int
    kind: str  # QUERY or MUTATION
    status: str = "CREATED"
    error_code: str | None = None
    object_count: int = 0
    file: Path | None = None
    partial: bool = False
    gone: bool = False
    polls_left: int | None = None  # a "busy" operation ends after this many looks

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.number}"


def _lines_file() -> tuple[Path, object]:
    handle = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8")
    return Path(handle.name), handle


def _running(store: DemoStore, kind: str) -> list[DemoBulkOperation]:
    return [op for op in store.bulk_operations.values() if op.kind == kind and op.status in UNFINISHED]


def start(store: DemoStore, kind: str, api_version: str, work) -> dict:
    """A new operation of `kind`, or the user error Shopify gives when its slot is taken."""
    fault = store.bulk_faults.popleft() if store.bulk_faults else None
    if fault == "busy":
        store.bulk_sequence += 1
        blocker = DemoBulkOperation(store.bulk_sequence, kind, "RUNNING", polls_left=2)
        store.bulk_operations[blocker.gid] = blocker
        fault = None
    limit = CONCURRENT_FROM_2026 if api_version >= "2026-01" else 1
    running = _running(store, kind)
    if len(running) >= limit:
        word = "query" if kind == "QUERY" else "mutation"
        return {"bulkOperation": None, "userErrors": [{"field": None, "message": (
            f"A bulk {word} operation for this app and shop is already in progress: {running[0].gid}.")}]}
    store.bulk_sequence += 1
    operation = DemoBulkOperation(store.bulk_sequence, kind)
    store.bulk_operations[operation.gid] = operation
    thread = threading.Thread(target=_run, args=(store, operation, work, fault), daemon=True)
    thread.start()
    store.bulk_threads.append(thread)
    return {"bulkOperation": {"id": operation.gid, "status": operation.status}, "userErrors": []}


def _run(store: DemoStore, operation: DemoBulkOperation, work, fault: str | None) -> None:
    operation.status = "RUNNING"
    if fault in ("fail", "expire"):
        operation.status, operation.error_code = ("FAILED", "INTERNAL_SERVER_ERROR") if fault == "fail" \
            else ("EXPIRED", None)
        return
    path, handle = _lines_file()
    with handle:
        operation.object_count = work(handle, fault == "partial")
    operation.file = path
    if fault == "partial":
        operation.status, operation.error_code, operation.partial = "FAILED", "TIMEOUT", True
    else:
        operation.status, operation.gone = "COMPLETED", fault == "gone"


def status(store: DemoStore, gid: str, base_url: str) -> dict | None:
    operation = store.bulk_operations.get(gid)
    if operation is None:
        return None
    _age(operation)
    url = f"{base_url}{FILES_PATH}{operation.number}.jsonl" if operation.file else None
    return {"id": operation.gid, "status": operation.status, "errorCode": operation.error_code,
            "objectCount": str(operation.object_count),
            "url": url if operation.status == "COMPLETED" and operation.object_count else None,
            "partialDataUrl": url if operation.partial else None}


def current(store: DemoStore, kind: str) -> dict | None:
    mine = [op for op in store.bulk_operations.values() if op.kind == kind]
    if not mine:
        return None
    newest = max(mine, key=lambda op: op.number)
    _age(newest)
    return {"id": newest.gid, "status": newest.status}


def _age(operation: DemoBulkOperation) -> None:
    if operation.polls_left is not None:
        operation.polls_left -= 1
        if operation.polls_left <= 0:
            operation.status, operation.polls_left = "COMPLETED", None


def remove_files(store: DemoStore) -> None:
    """The operations' result files and the uploaded files, gone with the store's server."""
    for thread in store.bulk_threads:
        thread.join(timeout=30)
    for operation in store.bulk_operations.values():
        if operation.file is not None:
            operation.file.unlink(missing_ok=True)
    for path in store.uploads.values():
        path.unlink(missing_ok=True)


def result_file(store: DemoStore, number: str) -> tuple[int, Path | None]:
    operation = next((op for op in store.bulk_operations.values() if str(op.number) == number), None)
    if operation is None or operation.file is None:
        return 404, None
    if operation.gone:
        return 403, None
    return 200, operation.file


# What the bulk queries read.

def listings_work(store: DemoStore, document: str):
    namespace, key = (METAFIELD.search(document).groups() if METAFIELD.search(document) else (None, None))
    _numbers, pairs = store.variants_in_order()

    def work(out, partial: bool) -> int:
        chosen = pairs[:len(pairs) // 2] if partial else pairs
        for product, variant in chosen:
            out.write(json.dumps({
                "id": variant.gid, "sku": variant.sku, "barcode": variant.barcode, "price": f"{variant.price:.2f}",
                "title": variant.title, "updatedAt": variant.updated_at,
                "product": {"id": product.gid, "title": product.title},
                "inventoryItem": {"id": variant.inventory_item},
                "metafield": {"value": variant.mpn}
                if variant.mpn and (namespace, key) == ("mm-google-shopping", "mpn") else None,
            }) + "\n")
        return len(chosen)
    return work


def orders_work(store: DemoStore, document: str, order_node, since_pattern):
    match = ORDER_QUERY.search(document)
    text = json.loads(match.group(1)) if match else ""
    since = since_pattern.search(text)
    since = since.group(1) if since else ""
    with store.lock:
        orders = sorted((o for o in store.orders if o.updated_at >= since), key=lambda o: (o.updated_at, o.number))
        nodes = [node for node in (order_node(o, 10_000) for o in orders) if node is not None]

    def work(out, partial: bool) -> int:
        chosen = nodes[:len(nodes) // 2] if partial else nodes
        count = 0
        for node in chosen:
            lines = node.pop("lineItems")["edges"]
            fulfilment = node.pop("fulfillmentOrders")["nodes"]
            out.write(json.dumps(node) + "\n")
            for edge in lines:
                out.write(json.dumps({**edge["node"], "__parentId": node["id"]}) + "\n")
            for item in fulfilment:
                out.write(json.dumps({"id": f"gid://shopify/FulfillmentOrder/{node['id'].rsplit('/', 1)[1]}",
                                      **item, "__parentId": node["id"]}) + "\n")
            count += 1 + len(lines) + len(fulfilment)
        return count
    return work


# Bulk mutations: staged uploads first.

def stage_upload(store: DemoStore, variables: dict, base_url: str) -> dict:
    targets = []
    for request in variables.get("input") or []:
        if request.get("resource") != "BULK_MUTATION_VARIABLES":
            return {"stagedTargets": None, "userErrors": [{"field": ["input"], "message": "Unsupported resource."}]}
        key = f"tmp/demo/bulk/{uuid.uuid4()}/{request.get('filename') or 'bulk.jsonl'}"
        store.staged_keys.add(key)
        targets.append({"url": f"{base_url}{STAGED_PATH}", "resourceUrl": None, "parameters": [
            {"name": "Content-Type", "value": request.get("mimeType") or "text/jsonl"},
            {"name": "success_action_status", "value": "201"}, {"name": "acl", "value": "private"},
            {"name": "key", "value": key}, {"name": "x-goog-algorithm", "value": "GOOG4-RSA-SHA256"},
            {"name": "policy", "value": "demo-policy"}]})
    return {"stagedTargets": targets, "userErrors": []}


def receive_upload(store: DemoStore, content_type: str, body: bytes) -> int:
    """The storage's answer to a multipart form POST: 201 when the key was staged and a file came."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return 400
    fields, file = {}, None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_filename() is not None:
            file = part.get_payload(decode=True)
        elif name:
            fields[name] = part.get_content().strip() if isinstance(part.get_content(), str) else part.get_content()
    key = fields.get("key")
    if key not in store.staged_keys or file is None:
        return 400
    store.staged_keys.discard(key)
    path, handle = _lines_file()
    with handle:
        handle.write(file.decode("utf-8"))
    store.uploads[key] = path
    return 201


def mutation_work(store: DemoStore, path: Path, run_one):
    def work(out, partial: bool) -> int:
        lines = path.read_text(encoding="utf-8").splitlines()
        chosen = lines[:len(lines) // 2] if partial else lines
        for number, line in enumerate(chosen):
            try:
                variables = json.loads(line)
            except ValueError:
                out.write(json.dumps({"errors": [{"message": "Invalid JSON"}], "__lineNumber": number}) + "\n")
                continue
            with store.lock:
                data = run_one(variables)
            out.write(json.dumps({"data": data, "__lineNumber": number}) + "\n")
        return len(chosen)
    return work
