"""The Shopify Admin GraphQL subset Tandem uses, answered from the demo store's state."""

from __future__ import annotations

import base64
import json
import re
import time
from bisect import bisect_right
from decimal import Decimal

from core.demo_store import shopify_bulk as bulk
from core.demo_store.shopify_access import (
    SERVED_VERSIONS, denied, sees_fulfilment_orders, sees_order, token_accepted,
)
from core.demo_store.store import LOCATION_ID, DemoStore

VERSION_HEADER = "X-Shopify-API-Version"

OPERATION = re.compile(r"\b(query|mutation)\s+(\w+)")
UPDATED_SINCE = re.compile(r"updated_at:>=?'([^']+)'")
MAX_FIRST = 250
MAX_QUANTITIES = 250
MAX_QUERY_COST = 1000
MUTATION_COST = 10
# Requested cost, as Shopify calculates it before running a query: an object 1, a connection 2 plus
# `first` times its node, a count 1 (checked against the published schema in the tests).
COSTS = {"TandemCheckAccess": lambda v: 2,
         "TandemCheckLocations": lambda v: 1 + len(v.get("locations") or []),
         "TandemCheckLinked": lambda v: 1 + len(v.get("variants") or []) * 2,
         "TandemCheckBySku": lambda v: 2 + v.get("first", 1) * 2,
         "TandemListings": lambda v: 3 + v.get("first", 1) * 4,
         "TandemOrders": lambda v: 3 + v.get("first", 1) * (30 + v.get("lines", 1) * 9),
         "TandemOrderLines": lambda v: 3 + v.get("lines", 1) * 9,
         "TandemBulkStatus": lambda v: 1, "TandemCurrentBulk": lambda v: 1}
STOCK_CALL = re.compile(r"(\w+):\s*inventorySetQuantities\(input:\s*\$(\w+)\)")
STATUS_CALL = re.compile(r"(\w+):\s*productUpdate\(product:\s*\$(\w+)\)")
PRICE_CALL = re.compile(r"(\w+):\s*productVariantsBulkUpdate\(productId:\s*\$(\w+),\s*variants:\s*\$(\w+)\)")


def requested_cost(name: str, document: str, variables: dict) -> int:
    if document.lstrip().startswith("mutation"):
        return MUTATION_COST * max(document.count("userErrors"), 1)  # each mutation field
    return COSTS.get(name, lambda v: 10)(variables)


def actual_cost(name: str, variables: dict, data: dict, requested: int) -> int:
    """What the query really cost, from what it returned: the difference is refunded."""
    if name == "TandemListings":
        return 3 + len(data["productVariants"]["edges"]) * 4
    if name == "TandemOrders":
        return 3 + sum(30 + len(edge["node"]["lineItems"]["edges"]) * 9 for edge in data["orders"]["edges"])
    if name == "TandemOrderLines" and data.get("order"):
        return 3 + len(data["order"]["lineItems"]["edges"]) * 9
    return requested


def _cursor(*key) -> str:
    return base64.b64encode(json.dumps(key).encode()).decode()


def _uncursor(cursor: str | None):
    return tuple(json.loads(base64.b64decode(cursor))) if cursor else None


def _money(amount: Decimal) -> dict:
    return {"shopMoney": {"amount": f"{amount:.2f}"}}


def _charge(store: DemoStore, requested: float, throttle: bool) -> bool:
    """The leaky bucket: refilled for the time gone by, then charged the requested cost up front."""
    now = time.monotonic()
    if store.bucket_at is not None:
        store.bucket = min(store.bucket_size, store.bucket + (now - store.bucket_at) * store.restore_rate)
    store.bucket_at = now
    if throttle:
        store.bucket = 0.0
    allowed = requested <= store.bucket
    if allowed:
        store.bucket -= requested
    else:
        store.throttled += 1
    return allowed


def _cost(store: DemoStore, requested: float, actual: float | None) -> dict:
    if actual is not None:
        store.bucket = min(store.bucket_size, store.bucket + max(requested - actual, 0))  # the refund
    return {"requestedQueryCost": requested, "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": store.bucket_size, "currentlyAvailable": store.bucket,
                               "restoreRate": store.restore_rate}}


def _page(items: list, key, first: int, after: str | None):
    start = _uncursor(after)
    if start is not None:
        items = [item for item in items if key(item) > start]
    page = items[:first]
    return page, len(items) > first


def _listings(store: DemoStore, v: dict) -> dict:
    first = v["first"]
    numbers, pairs = store.variants_in_order()
    after = _uncursor(v.get("after"))
    start = bisect_right(numbers, after[0]) if after else 0
    page, more = pairs[start:start + first], start + first < len(pairs)
    namespace, key = v.get("mpnNamespace"), v.get("mpnKey")
    edges = [{"node": {
        "id": variant.gid, "sku": variant.sku, "barcode": variant.barcode, "price": f"{variant.price:.2f}",
        "title": variant.title, "updatedAt": variant.updated_at,
        "product": {"id": product.gid, "title": product.title},
        "inventoryItem": {"id": variant.inventory_item},
        "metafield": {"value": variant.mpn} if variant.mpn and (namespace, key) == ("mm-google-shopping", "mpn") else None,
    }} for product, variant in page]
    end = _cursor(page[-1][1].number) if page else None
    return {"productVariantsCount": {"count": len(pairs)},
            "productVariants": {"edges": edges, "pageInfo": {"hasNextPage": more, "endCursor": end}}}


def _line_nodes(order) -> list[dict]:
    return [{"node": {
        "id": f"gid://shopify/LineItem/{line.number}", "title": line.title,
        "sku": line.variant.sku if line.variant else None, "quantity": line.quantity,
        "variant": {"id": line.variant.gid, "barcode": line.variant.barcode} if line.variant else None,
        "originalUnitPriceSet": _money(line.unit_price), "totalDiscountSet": _money(Decimal("0")),
        "taxLines": [{"rate": float(line.tax_rate),
                      "priceSet": _money((line.unit_price * line.quantity * line.tax_rate).quantize(Decimal("0.01")))}]
        if line.tax_rate else [],
    }} for line in order.lines]


def _visible_orders(store: DemoStore) -> list:
    """The orders this app may read: the last 60 days only, without read_all_orders."""
    return [o for o in store.orders if sees_order(store, o.created_at)]


def _order_node(order, lines: int, fulfilment_orders: bool = True) -> dict:
    all_lines = _line_nodes(order)
    subtotal = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0.00"))
    tax = sum((Decimal(str(t["priceSet"]["shopMoney"]["amount"])) for e in all_lines for t in e["node"]["taxLines"]),
              Decimal("0.00"))
    address = {"formatted": order.address} if order.address else None
    return {
        "id": order.gid, "name": order.name, "createdAt": order.created_at, "updatedAt": order.updated_at,
        "cancelledAt": order.cancelled_at, "tags": order.tags, "email": order.email, "phone": order.phone,
        "currencyCode": "USD", "displayFinancialStatus": order.financial_status,
        "customer": {"displayName": order.customer, "email": order.email, "phone": order.phone} if order.customer else None,
        "billingAddress": address, "shippingAddress": address,
        "subtotalPriceSet": _money(subtotal), "totalShippingPriceSet": _money(order.shipping),
        "totalTaxSet": _money(tax), "totalPriceSet": _money(subtotal + order.shipping + tax),
        "fulfillments": [{"createdAt": order.fulfilled_at, "service": {"serviceName": "Manual"}}]
        if order.fulfilled_at else [],
        "fulfillmentOrders": {"nodes": [{
            "deliveryMethod": {"methodType": "PICK_UP" if order.pickup_location else "SHIPPING"},
            "assignedLocation": {"location": {"id": order.pickup_location or LOCATION_ID}}}] if fulfilment_orders else []},
        "lineItems": {"edges": all_lines[:lines], "pageInfo": {
            "hasNextPage": len(all_lines) > lines,
            "endCursor": _cursor(lines - 1) if len(all_lines) > lines else None}},
    }


def _orders(store: DemoStore, v: dict, vanish: bool) -> dict:
    match = UPDATED_SINCE.search(v.get("query") or "")
    since = match.group(1) if match else ""
    orders = sorted((o for o in _visible_orders(store) if o.updated_at >= since), key=lambda o: (o.updated_at, o.number))
    page, more = _page(orders, lambda o: (o.updated_at, o.number), v["first"], v.get("after"))
    if vanish and more:
        # An order deleted while the client pages: keyset cursors mean nothing else is skipped.
        gone = orders[orders.index(page[-1]) + 1]
        store.orders.remove(gone)
        more = any(o for o in orders if (o.updated_at, o.number) > (page[-1].updated_at, page[-1].number) and o is not gone)
    edges = [{"node": _order_node(o, v.get("lines", 20), sees_fulfilment_orders(store))} for o in page]
    end = _cursor(page[-1].updated_at, page[-1].number) if page else None
    return {"ordersCount": {"count": len(orders)},
            "orders": {"edges": edges, "pageInfo": {"hasNextPage": more, "endCursor": end}}}


def _order_lines(store: DemoStore, v: dict) -> dict:
    order = next((o for o in _visible_orders(store) if o.gid == v["id"]), None)
    if order is None:
        return {"order": None}
    nodes = _line_nodes(order)
    start = (_uncursor(v.get("after")) or (-1,))[0] + 1
    lines = v.get("lines", 20)
    page = nodes[start:start + lines]
    more = start + lines < len(nodes)
    return {"order": {"lineItems": {"edges": page, "pageInfo": {
        "hasNextPage": more, "endCursor": _cursor(start + lines - 1) if more else None}}}}


def _set_stock_calls(store: DemoStore, document: str, v: dict) -> dict:
    return {alias: _set_stock(store, {"input": v[name]})["inventorySetQuantities"]
            for alias, name in STOCK_CALL.findall(document)}


def _set_prices_calls(store: DemoStore, document: str, v: dict) -> dict:
    products = _products_by_gid(store)
    return {alias: _set_prices(store, {"productId": v[product], "variants": v[variants]},
                               products)["productVariantsBulkUpdate"]
            for alias, product, variants in PRICE_CALL.findall(document)}


def _set_status_calls(store: DemoStore, document: str, v: dict) -> dict:
    """productUpdate(product: {id, status}): only the status is kept by the demo store."""
    products = _products_by_gid(store)
    answered = {}
    for alias, name in STATUS_CALL.findall(document):
        update = v[name]
        product = products.get(update.get("id"))
        if product is None:
            answered[alias] = {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}
        elif update.get("status") not in ("ACTIVE", "ARCHIVED", "DRAFT"):
            answered[alias] = {"product": None, "userErrors": [
                {"field": ["status"], "message": "Status is not included in the list"}]}
        else:
            product.status = update["status"]
            answered[alias] = {"product": {"id": product.gid, "status": product.status}, "userErrors": []}
    return answered


def _product_statuses(store: DemoStore, v: dict) -> dict:
    """nodes(ids:): each id's node, or null for an id the store does not know."""
    products = _products_by_gid(store)
    return {"nodes": [{"id": gid, "status": products[gid].status} if gid in products else None
                      for gid in v.get("ids") or []]}


def _products_by_gid(store: DemoStore) -> dict:
    """Read afresh for each request (a test may take a product away between two)."""
    return {product.gid: product for product in store.products}


def _set_stock(store: DemoStore, v: dict) -> dict:
    data = v["input"]
    quantities = data.get("quantities") or []
    errors = []
    if data.get("name") != "available":
        errors.append({"field": ["input", "name"], "message": "The quantity name must be 'available'.",
                       "code": "INVALID_NAME"})
    if len(quantities) > MAX_QUANTITIES:
        errors.append({"field": ["input", "quantities"], "code": "INVALID_QUANTITY_INPUT",
                       "message": f"The quantities array exceeds the maximum of {MAX_QUANTITIES}."})
    items = store.variant_by_item()
    for index, quantity in enumerate(quantities):
        if quantity["inventoryItemId"] not in items or quantity["locationId"] not in store.locations:
            errors.append({"field": ["input", "quantities", str(index)], "code": "INVALID_INVENTORY_ITEM",
                           "message": "The specified inventory item could not be found."})
    if errors:
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
    for quantity in quantities:
        items[quantity["inventoryItemId"]].available[quantity["locationId"]] = int(quantity["quantity"])
    return {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"},
                                       "userErrors": []}}


def _set_prices(store: DemoStore, v: dict, products: dict | None = None) -> dict:
    product = (products or _products_by_gid(store)).get(v["productId"])
    if product is None:
        return {"productVariantsBulkUpdate": {"productVariants": None, "userErrors": [
            {"field": ["productId"], "message": "Product does not exist"}]}}
    by_gid = {variant.gid: variant for variant in product.variants}
    unknown = [item["id"] for item in v["variants"] if item["id"] not in by_gid]
    if unknown:
        return {"productVariantsBulkUpdate": {"productVariants": None, "userErrors": [
            {"field": ["variants", "0", "id"], "message": "Product variant does not exist"}]}}
    for item in v["variants"]:
        by_gid[item["id"]].price = Decimal(item["price"])
        by_gid[item["id"]].updated_at = store.touch()
    return {"productVariantsBulkUpdate": {"productVariants": [{"id": item["id"]} for item in v["variants"]],
                                          "userErrors": []}}


def _order_by_gid(store: DemoStore, gid: str):
    return next((o for o in _visible_orders(store) if o.gid == gid), None)


def _order_total(order) -> Decimal:
    subtotal = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0.00"))
    tax = sum(((line.unit_price * line.quantity * line.tax_rate).quantize(Decimal("0.01")) for line in order.lines),
              Decimal("0.00"))
    return subtotal + order.shipping + tax


def _capturable(store: DemoStore, v: dict) -> dict:
    order = _order_by_gid(store, v["id"])
    if order is None:
        return {"order": None}
    transactions = []
    if order.financial_status == "AUTHORIZED":
        transactions.append({"id": f"gid://shopify/OrderTransaction/{order.number}1", "kind": "AUTHORIZATION",
                             "status": "SUCCESS", "amountSet": {"shopMoney": {
                                 "amount": f"{_order_total(order):.2f}", "currencyCode": "USD"}}})
    status = "CLOSED" if order.fulfilled_at else "OPEN"
    return {"order": {"transactions": transactions, "fulfillmentOrders": {"edges": [
        {"node": {"id": f"gid://shopify/FulfillmentOrder/{order.number}", "status": status}}]}}}


def _captures(store: DemoStore, v: dict) -> dict:
    order = _order_by_gid(store, v["id"])
    if order is None:
        return {"order": None}
    authorisation = f"gid://shopify/OrderTransaction/{order.number}1"
    transactions = [{"id": authorisation, "kind": "AUTHORIZATION", "status": "SUCCESS", "parentTransaction": None}]
    transactions += [{"id": f"gid://shopify/OrderTransaction/{order.number}2", "kind": "CAPTURE", "status": "SUCCESS",
                      "parentTransaction": {"id": authorisation}} for _ in range(order.captures)]
    return {"order": {"transactions": transactions}}


def _capture(store: DemoStore, v: dict) -> dict:
    data = v["input"]
    order = _order_by_gid(store, data["id"])
    if order is None or order.financial_status != "AUTHORIZED":
        return {"orderCapture": {"transaction": None, "userErrors": [
            {"field": ["input", "id"], "message": "The order has no capturable authorization."}]}}
    if Decimal(data["amount"]) > _order_total(order):
        return {"orderCapture": {"transaction": None, "userErrors": [
            {"field": ["input", "amount"], "message": "Amount exceeds the authorized amount."}]}}
    order.financial_status = "PAID"
    order.captures += 1
    order.updated_at = store.touch()
    return {"orderCapture": {"transaction": {"id": f"gid://shopify/OrderTransaction/{order.number}2",
                                             "status": "SUCCESS"}, "userErrors": []}}


def _fulfil(store: DemoStore, v: dict) -> dict:
    ids = [item["fulfillmentOrderId"] for item in v["fulfillment"]["lineItemsByFulfillmentOrder"]]
    orders = [o for o in store.orders if f"gid://shopify/FulfillmentOrder/{o.number}" in ids]
    if not orders:
        return {"fulfillmentCreate": {"fulfillment": None, "userErrors": [
            {"field": ["fulfillment"], "message": "Fulfillment order does not exist."}]}}
    for order in orders:
        order.fulfilled_at = order.updated_at = store.touch()
    return {"fulfillmentCreate": {"fulfillment": {"id": "gid://shopify/Fulfillment/1", "status": "SUCCESS"},
                                  "userErrors": []}}


def _cancel(store: DemoStore, v: dict) -> dict:
    order = _order_by_gid(store, v["orderId"])
    if order is None:
        return {"orderCancel": {"job": None, "orderCancelUserErrors": [
            {"field": ["orderId"], "message": "Order does not exist.", "code": "NOT_FOUND"}]}}
    if order.cancelled_at:
        return {"orderCancel": {"job": None, "orderCancelUserErrors": [
            {"field": ["orderId"], "message": "Order has already been cancelled.", "code": "INVALID"}]}}
    # An authorisation not captured is released; what was captured is refunded (refund: true).
    order.financial_status = "VOIDED" if order.financial_status == "AUTHORIZED" else "REFUNDED"
    order.cancelled_at = order.updated_at = store.touch()
    return {"orderCancel": {"job": {"id": f"gid://shopify/Job/{order.number}", "done": False},
                            "orderCancelUserErrors": []}}


def _refundable(store: DemoStore, v: dict) -> dict:
    order = _order_by_gid(store, v["id"])
    if order is None:
        return {"order": None}
    paid = [{"id": f"gid://shopify/OrderTransaction/{order.number}2", "kind": "CAPTURE", "status": "SUCCESS",
             "gateway": "demo"}] if order.financial_status in ("PAID", "PARTIALLY_REFUNDED") else []
    return {"order": {"refunds": [{"id": f"gid://shopify/Refund/{order.number}{n + 1}", "note": r["note"]}
                                  for n, r in enumerate(order.refunds)], "transactions": paid}}


def _refund(store: DemoStore, v: dict) -> dict:
    data = v["input"]
    order = _order_by_gid(store, data["orderId"])
    amount = sum((Decimal(t["amount"]) for t in data.get("transactions") or []), Decimal("0.00"))
    refunded = sum((r["amount"] for r in (order.refunds if order else [])), Decimal("0.00"))
    if order is None or order.financial_status not in ("PAID", "PARTIALLY_REFUNDED"):
        return {"refundCreate": {"refund": None, "userErrors": [{"field": ["orderId"], "message": "Order is not paid."}]}}
    if amount <= 0 or refunded + amount > _order_total(order):
        return {"refundCreate": {"refund": None, "userErrors": [
            {"field": ["transactions"], "message": "Refund amount exceeds the amount paid."}]}}
    order.refunds.append({"note": data.get("note") or "", "amount": amount})
    order.financial_status = "PARTIALLY_REFUNDED"
    order.updated_at = store.touch()
    return {"refundCreate": {"refund": {"id": f"gid://shopify/Refund/{order.number}{len(order.refunds)}"},
                             "userErrors": []}}


def _check_access(store: DemoStore) -> dict:
    return {"shop": {"name": "Demo web store"},
            "currentAppInstallation": {"accessScopes": [{"handle": scope} for scope in store.scopes]}}


def _check_locations(store: DemoStore, v: dict) -> dict:
    # `nodes` answers null for an id that names nothing.
    return {"locations": [{"id": gid, "name": store.locations[gid]} if gid in store.locations else None
                          for gid in v.get("locations") or []]}


def _variant_check_node(variant, v: dict) -> dict:
    named = (v.get("mpnNamespace"), v.get("mpnKey")) == ("mm-google-shopping", "mpn")
    return {"id": variant.gid, "sku": variant.sku,
            "metafield": {"value": variant.mpn} if variant.mpn and named else None}


def _check_linked(store: DemoStore, v: dict) -> dict:
    by_gid = {variant.gid: variant for _, variant in store.variants()}
    return {"variants": [_variant_check_node(by_gid[gid], v) if gid in by_gid else None
                         for gid in v.get("variants") or []]}


SEARCH_TERM = re.compile(r'(sku|barcode):(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _check_by_sku(store: DemoStore, v: dict) -> dict:
    """Shopify's search syntax, as far as Tandem uses it: `sku:"A" OR barcode:"B"`."""
    wanted = {(field, json.loads(f'"{quoted}"') if quoted else bare)
              for field, quoted, bare in SEARCH_TERM.findall(v.get("query") or "")}
    found = [variant for _, variant in store.variants_in_order()[1]
             if ("sku", variant.sku) in wanted or ("barcode", variant.barcode) in wanted][:v.get("first", 10)]
    return {"productVariants": {"edges": [{"node": _variant_check_node(variant, v)} for variant in found]}}


def _register_webhook(store: DemoStore, v: dict) -> dict:
    url = (v.get("webhookSubscription") or {}).get("callbackUrl")
    if not url:
        return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [
            {"field": ["webhookSubscription", "callbackUrl"], "message": "Address can't be blank"}]}}
    store.subscribe("shopify", url, store.client_secret, v.get("topic", ""))
    return {"webhookSubscriptionCreate": {"webhookSubscription": {
        "id": f"gid://shopify/WebhookSubscription/{len(store.webhooks)}"}, "userErrors": []}}


def _bulk_query(store: DemoStore, v: dict, api_version: str) -> dict:
    document = v.get("query") or ""
    if re.search(r"^\s*\{\s*productVariants\b", document):
        work = bulk.listings_work(store, document)
    elif re.search(r"^\s*\{\s*orders\b", document):
        work = bulk.orders_work(store, document, lambda o, lines: _order_node(o, lines, sees_fulfilment_orders(store))
                                if sees_order(store, o.created_at) else None, UPDATED_SINCE)
    else:
        return {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
            {"field": ["query"], "message": "The demo store runs bulk queries of productVariants or orders only."}]}}
    return {"bulkOperationRunQuery": bulk.start(store, "QUERY", api_version, work)}


def _bulk_mutation(store: DemoStore, v: dict, api_version: str) -> dict:
    path = store.uploads.get(v.get("stagedUploadPath"))
    if path is None:
        return {"bulkOperationRunMutation": {"bulkOperation": None, "userErrors": [
            {"field": ["stagedUploadPath"], "message": "The staged upload path is not valid.", "code": "NO_SUCH_FILE"}]}}
    if "productVariantsBulkUpdate(productId: $productId, variants: $variants)" not in v.get("mutation", ""):
        return {"bulkOperationRunMutation": {"bulkOperation": None, "userErrors": [
            {"field": ["mutation"], "message": "The demo store runs productVariantsBulkUpdate in bulk only.",
             "code": "INVALID_MUTATION"}]}}
    products = _products_by_gid(store)
    work = bulk.mutation_work(store, path, lambda line: _set_prices(store, line, products))
    return {"bulkOperationRunMutation": bulk.start(store, "MUTATION", api_version, work)}


def handle_graphql(store: DemoStore, token: str | None, body: bytes, fault: str | None,
                   base_url: str = "http://127.0.0.1", asked_version: str = SERVED_VERSIONS[-1]) -> tuple[int, dict, bytes]:
    if not token_accepted(store, token):
        return 401, {}, json.dumps({"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                                              "password)"}).encode()
    api_version = store.app.answered_version(asked_version)
    status, payload = _answer(store, body, fault, base_url, api_version)
    return status, {VERSION_HEADER: api_version}, payload


def _answer(store: DemoStore, body: bytes, fault: str | None, base_url: str, api_version: str) -> tuple[int, bytes]:
    try:
        request = json.loads(body)
        document, variables = request["query"], request.get("variables") or {}
    except (ValueError, KeyError, TypeError):
        return 400, json.dumps({"errors": [{"message": "Bad request: expected {query, variables}"}]}).encode()
    match = OPERATION.search(document)
    name = match.group(2) if match else ""
    with store.lock:
        store.requests[name] += 1
        if int(variables.get("first") or 0) > MAX_FIRST:
            return 200, json.dumps({"errors": [{"message": f"first exceeds {MAX_FIRST}"}]}).encode()
        requested = requested_cost(name, document, variables)
        if requested > MAX_QUERY_COST:
            return 200, json.dumps({"errors": [{
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}}]}).encode()
        refused = denied(store, document, variables)
        if refused:
            # Shopify charges the request and answers null for the fields refused.
            _charge(store, requested, throttle=False)
            return 200, json.dumps({"errors": refused, "data": None,
                                    "extensions": {"cost": _cost(store, requested, requested)}}).encode()
        if not _charge(store, requested, throttle=fault == "throttle"):
            store.throttled_by[name] += 1
            return 200, json.dumps({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                                        "extensions": {"cost": _cost(store, requested, None)}}).encode()
        handlers = {
            "TandemCheckAccess": lambda: _check_access(store),
            "TandemCheckLocations": lambda: _check_locations(store, variables),
            "TandemCheckLinked": lambda: _check_linked(store, variables),
            "TandemCheckBySku": lambda: _check_by_sku(store, variables),
            "TandemListings": lambda: _listings(store, variables),
            "TandemOrders": lambda: _orders(store, variables, vanish=fault == "vanish"),
            "TandemOrderLines": lambda: _order_lines(store, variables),
            "TandemSetStock": lambda: _set_stock_calls(store, document, variables),
            "TandemSetPrices": lambda: _set_prices_calls(store, document, variables),
            "TandemSetStatus": lambda: _set_status_calls(store, document, variables),
            "TandemProductStatuses": lambda: _product_statuses(store, variables),
            "TandemCapturable": lambda: _capturable(store, variables),
            "TandemCapture": lambda: _capture(store, variables),
            "TandemCaptures": lambda: _captures(store, variables),
            "TandemFulfil": lambda: _fulfil(store, variables),
            "TandemRefundable": lambda: _refundable(store, variables),
            "TandemRefund": lambda: _refund(store, variables),
            "TandemCancel": lambda: _cancel(store, variables),
            "TandemBulkQuery": lambda: _bulk_query(store, variables, api_version),
            "TandemRegisterWebhook": lambda: _register_webhook(store, variables),
            "TandemStageUpload": lambda: {"stagedUploadsCreate": bulk.stage_upload(store, variables, base_url)},
            "TandemBulkMutation": lambda: _bulk_mutation(store, variables, api_version),
            "TandemBulkStatus": lambda: {"node": bulk.status(store, variables.get("id"), base_url)},
            "TandemCurrentBulk": lambda: {"currentBulkOperation": bulk.current(store, variables.get("type", "QUERY"))},
        }
        if name not in handlers:
            return 200, json.dumps({"errors": [{"message": f"the demo store does not answer {name!r}"}]}).encode()
        data = handlers[name]()
        cost = _cost(store, requested, actual_cost(name, variables, data, requested))
        if fault == "shapeless":
            data = {}  # a 200 answer whose data lacks what was asked for
    return 200, json.dumps({"data": data, "extensions": {"cost": cost}}).encode()
