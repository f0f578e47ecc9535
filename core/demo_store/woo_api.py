"""The WooCommerce REST v3 subset Tandem uses, answered from the demo store's state."""

from __future__ import annotations

import base64
import hmac
import json
import math
import re
from decimal import Decimal
from urllib.parse import parse_qsl

from core.connectors.woocommerce import oauth_signature
from core.demo_store.store import LOCATION_ID, DemoStore

API = "/wp-json/wc/v3"
BATCH_LIMIT = 100
# What WC_REST_Authentication::check_permissions lets a key do, by its Permissions setting: checked
# before any route, so a write with a Read key never reaches the route.
READ_METHODS, WRITE_METHODS = ("GET", "HEAD"), ("POST", "PUT", "PATCH", "DELETE")
# GET shipping_methods: the methods WooCommerce registers (WC_Shipping::get_shipping_methods), as
# WC_REST_Shipping_Methods_V2_Controller lists them; "pickup_location" is the Checkout block's
# Local Pickup, whose locations no REST route lists.
SHIPPING_METHODS = [
    ("flat_rate", "Flat rate", "Lets you charge a fixed rate for shipping."),
    ("free_shipping", "Free shipping",
     "Free shipping is a special method which can be triggered with coupons and minimum spends."),
    ("local_pickup", "Local pickup", "Allow customers to pick up orders themselves. By default, when using local "
     "pickup store base taxes will apply regardless of customer address."),
    ("pickup_location", "Local pickup", "Allow customers to choose a local pickup location during checkout."),
]


def _error(status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    return status, {}, json.dumps({"code": code, "message": message, "data": {"status": status}}).encode()


def _authorised(store: DemoStore, method: str, url: str, query: dict, authorization: str | None) -> bool:
    if authorization and authorization.startswith("Basic "):
        key, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        return hmac.compare_digest(key, store.consumer_key) and hmac.compare_digest(secret, store.consumer_secret)
    signature = query.pop("oauth_signature", None)
    if not signature or query.get("oauth_consumer_key") != store.consumer_key:
        return False
    expected = oauth_signature(method, url, query, store.consumer_secret)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return False
    nonce = query.get("oauth_nonce", "")
    if nonce in store.seen_nonces:  # a replayed request
        return False
    store.seen_nonces.add(nonce)
    return True


def _key_refusal(store: DemoStore, method: str) -> str | None:
    """Why the key's Permissions refuse this request, in WooCommerce's words; None if they allow it."""
    permission = store.consumer_key_permission
    if method in READ_METHODS and permission not in ("read", "read_write"):
        return "The API key provided does not have read permissions."
    if method in WRITE_METHODS and permission not in ("write", "read_write"):
        return "The API key provided does not have write permissions."
    return None


def _meta(mpn: str | None) -> list[dict]:
    return [{"id": 1, "key": "mpn", "value": mpn}] if mpn else []


def _product(product) -> dict:
    variant = product.variants[0]
    simple = len(product.variants) == 1
    return {
        "id": product.number, "name": product.title, "type": "simple" if simple else "variable", "parent_id": 0,
        "sku": variant.sku or "" if simple else "", "price": f"{variant.price:.2f}",
        "regular_price": f"{variant.price:.2f}", "global_unique_id": (variant.barcode or "") if simple else "",
        "manage_stock": True, "stock_quantity": variant.available.get(LOCATION_ID, 0) if simple else None,
        "date_modified_gmt": variant.updated_at.rstrip("Z"), "meta_data": _meta(variant.mpn if simple else product.mpn),
        "variations": [] if simple else [v.number for v in product.variants],
        "status": variant.status if simple else "publish",
    }


def _variation(variant) -> dict:
    return {
        "id": variant.number, "sku": variant.sku or "", "price": f"{variant.price:.2f}",
        "regular_price": f"{variant.price:.2f}", "global_unique_id": variant.barcode or "",
        "stock_quantity": variant.available.get(LOCATION_ID, 0), "manage_stock": True,
        "date_modified_gmt": variant.updated_at.rstrip("Z"), "meta_data": _meta(variant.mpn),
        "attributes": [{"id": 0, "name": "Option", "option": variant.title}], "status": variant.status,
    }


def _listed(item) -> dict:
    """An item of GET products: a product, or (when filtered by SKU) a variation, which is then
    listed as a product of type "variation" with its parent's id."""
    if not isinstance(item, tuple):
        return _product(item)
    product, variant = item
    return _variation(variant) | {"name": f"{product.title} - {variant.title}", "type": "variation",
                                  "parent_id": product.number}


def _ids(value: str | None) -> set[int]:
    """An id list as WordPress reads it (wp_parse_id_list): numbers separated by commas or spaces."""
    return {int(part) for part in re.split(r"[\s,]+", value or "") if part.isdigit()}


def _listed_products(store: DemoStore, query: dict) -> list:
    """GET products, filtered and ordered as WC_REST_Products_Controller does: `include` (product
    ids), `sku` (exact; several comma-separated, the whole text counting too, and variations then
    listed as well), newest first unless `order=asc` (whether by `orderby` date, the default, or id:
    the demo's products were made in number order, each one's variations with it)."""
    items = store.products_in_order()
    if include := _ids(query.get("include")):
        items = [product for product in items if product.number in include]
    if sku := query.get("sku"):
        skus = set(sku.split(",")) | {sku}
        items = [item for product in items
                 for item in ([product] if len(product.variants) == 1 else [(product, v) for v in product.variants])
                 if (item[1] if isinstance(item, tuple) else item.variants[0]).sku in skus]
    return items[::-1] if query.get("order", "desc") == "desc" else items


def _shipping_methods(store: DemoStore) -> list[dict]:
    return [{"id": method, "title": title, "description": description}
            for method, title, description in SHIPPING_METHODS
            if method != "pickup_location" or store.offers_local_pickup]


def _shipping_lines(order, locations: dict[str, str]) -> list[dict]:
    """As WooCommerce's Local Pickup writes a pickup: method "pickup_location", the location's name in its meta."""
    if order.pickup_location:
        name = locations.get(order.pickup_location, order.pickup_location)
        return [{"id": 1, "method_title": "Local pickup", "method_id": "pickup_location", "total": "0.00",
                 "meta_data": [{"id": 1, "key": "pickup_location", "value": name},
                               {"id": 2, "key": "pickup_address", "value": ""}]}]
    if order.shipping:
        return [{"id": 1, "method_title": "Flat rate", "method_id": "flat_rate", "total": f"{order.shipping:.2f}",
                 "meta_data": []}]
    return []


def _order(order, variant_parent: dict, locations: dict[str, str]) -> dict:
    first, _, last = (order.customer or "").partition(" ")
    items = []
    for line in order.lines:
        subtotal = line.unit_price * line.quantity
        tax = (subtotal * line.tax_rate).quantize(Decimal("0.01"))
        parent = variant_parent.get(line.variant.number) if line.variant else None
        simple = parent is not None and len(parent.variants) == 1
        items.append({
            "id": line.number, "name": line.title, "quantity": line.quantity,
            "product_id": parent.number if parent else 0, "variation_id": 0 if simple or not line.variant else line.variant.number,
            "subtotal": f"{subtotal:.2f}", "total": f"{subtotal:.2f}", "total_tax": f"{tax:.2f}",
            "sku": (line.variant.sku or "") if line.variant else "", "price": float(line.unit_price),
            "global_unique_id": (line.variant.barcode or "") if line.variant else "",
        })
    tax_total = sum((Decimal(i["total_tax"]) for i in items), Decimal("0.00"))
    subtotal = sum((Decimal(i["total"]) for i in items), Decimal("0.00"))
    address = {"first_name": first, "last_name": last, "address_1": order.address[1] if len(order.address) > 1 else "",
               "city": order.address[2] if len(order.address) > 2 else "", "country": "US"}
    supplier = "supplier-fulfilled" in order.tags
    return {
        "id": order.number, "number": order.name.lstrip("#"), "payment_method": order.payment_method,
        "status": "cancelled" if order.cancelled_at else ("completed" if order.fulfilled_at and "supplier-fulfilled"
                                                         not in order.tags else "processing"), "currency": "USD",
        "date_created_gmt": order.created_at.rstrip("Z"), "date_modified_gmt": order.updated_at.rstrip("Z"),
        "billing": address | {"email": order.email or "", "phone": order.phone or ""}, "shipping": address,
        "shipping_total": f"{order.shipping:.2f}", "shipping_tax": "0.00", "total_tax": f"{tax_total:.2f}",
        "total": f"{subtotal + order.shipping + tax_total:.2f}", "line_items": items,
        "shipping_lines": _shipping_lines(order, locations),
        "meta_data": [{"id": 1, "key": "supplier_fulfilled", "value": "yes"},
                      {"id": 2, "key": "supplier_shipped_at", "value": (order.fulfilled_at or "").rstrip("Z")}]
        if supplier else [],
    }


def _paged(items: list, query: dict, render=lambda item: item) -> tuple[int, dict, bytes]:
    """One page of `items`; only that page is rendered, so a large store answers as fast as a small one."""
    per_page = min(int(query.get("per_page", 10)), 100)
    page = max(int(query.get("page", 1)), 1)
    total_pages = max(math.ceil(len(items) / per_page), 1)
    chunk = [render(item) for item in items[(page - 1) * per_page: page * per_page]]
    if query.get("_fields"):
        # WordPress's `_fields`: only the top-level fields named are sent.
        wanted = set(query["_fields"].split(","))
        chunk = [{key: value for key, value in item.items() if key in wanted} for item in chunk]
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)}
    return 200, headers, json.dumps(chunk).encode()


def _batch(store: DemoStore, variants_by_id: dict, body: bytes, kind: str) -> tuple[int, dict, bytes]:
    try:
        request = json.loads(body)
    except ValueError:
        return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
    updates = request.get("update") or []
    if sum(len(request.get(action) or []) for action in ("create", "update", "delete")) > BATCH_LIMIT:
        return _error(413, "woocommerce_rest_request_entity_too_large",
                      f"Unable to accept more than {BATCH_LIMIT} items for this request.")
    if not updates:
        # Nothing to update (the demo store makes and deletes no products): WC_REST_Controller::batch_items
        # answers only the actions given items, so an empty array.
        return 200, {}, b"[]"
    answered = []
    for item in updates:
        variant = variants_by_id.get(item.get("id"))
        if variant is None:
            answered.append({"id": item.get("id"), "error": {"code": f"woocommerce_rest_{kind}_invalid_id",
                                                              "message": "Invalid ID.", "data": {"status": 400}}})
            continue
        if "stock_quantity" in item:
            variant.available[LOCATION_ID] = int(item["stock_quantity"])
        if "regular_price" in item:
            variant.price = Decimal(item["regular_price"])
            variant.updated_at = store.touch()
        if "status" in item:
            if item["status"] not in ("draft", "pending", "private", "publish"):
                answered.append({"id": item["id"], "error": {"code": "rest_invalid_param",
                                                              "message": "Invalid parameter(s): status",
                                                              "data": {"status": 400}}})
                continue
            variant.status = item["status"]
        answered.append(_variation(variant) | {"id": item["id"]})
    return 200, {}, json.dumps({"update": answered}).encode()


def handle_rest(store: DemoStore, method: str, url: str, path: str, query_string: str, authorization: str | None,
                body: bytes, fault: str | None) -> tuple[int, dict, bytes]:
    query = dict(parse_qsl(query_string, keep_blank_values=True))
    with store.lock:
        if not _authorised(store, method, url, dict(query), authorization):
            return _error(401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match.")
        if refusal := _key_refusal(store, method):
            return _error(401, "woocommerce_rest_authentication_error", refusal)
        route = path[len(API):]
        store.requests[f"{method} {route.split('/')[1] if '/' in route else route}"] += 1
        simple, parent_of = store.woo_indexes()
        if method == "GET" and route == "/products":
            if fault == "shapeless":  # products without their id
                return _paged(_listed_products(store, query), query,
                              lambda p: {k: v for k, v in _listed(p).items() if k != "id"})
            return _paged(_listed_products(store, query), query, _listed)
        if method == "GET" and route.startswith("/products/") and route.endswith("/variations"):
            product = next((p for p in store.products if str(p.number) == route.split("/")[2]), None)
            if product is None:
                return _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            include = _ids(query.get("include"))
            return _paged([v for v in product.variants if not include or v.number in include], query, _variation)
        if method == "GET" and route == "/shipping_methods":
            return 200, {}, json.dumps(_shipping_methods(store)).encode()
        if method == "GET" and route == "/orders":
            since = query.get("modified_after", "")
            # Ordered by `orderby` (date, the default: creation; modified; id) and `order` (default desc).
            moment = {"modified": lambda o: o.updated_at, "id": lambda o: ""}.get(query.get("orderby", "date"),
                                                                                lambda o: o.created_at)
            orders = sorted((o for o in store.orders if o.updated_at.rstrip("Z") > since),
                            key=lambda o: (moment(o), o.number), reverse=query.get("order", "desc") == "desc")
            if fault == "vanish" and len(orders) > int(query.get("per_page", 10)):
                store.orders.remove(orders[0])
            return _paged(orders, query, lambda o: _order(o, parent_of, store.locations))
        if method == "POST" and route == "/webhooks":
            try:
                hook = json.loads(body)
                store.subscribe("woocommerce", hook["delivery_url"], hook.get("secret") or "", hook["topic"])
            except (ValueError, KeyError, TypeError):
                return _error(400, "rest_invalid_param", "Invalid parameter(s): delivery_url, topic")
            # As WC_Webhook::deliver_ping: an unsigned form post naming the new webhook; its answer
            # is not checked by the REST API (a failed ping only stays "pending delivery").
            store.ping(hook["delivery_url"], len(store.webhooks))
            return 201, {}, json.dumps({"id": len(store.webhooks), "topic": hook["topic"], "status": "active",
                                        "delivery_url": hook["delivery_url"]}).encode()
        if route.startswith("/orders/") and route.endswith("/refunds"):
            order = next((o for o in store.orders if str(o.number) == route.split("/")[2]), None)
            if order is None:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            if method == "GET":
                return 200, {}, json.dumps([{"id": n + 1, "reason": r["note"], "amount": f"{r['amount']:.2f}"}
                                            for n, r in enumerate(order.refunds)]).encode()
            request = json.loads(body or b"{}")
            if order.payment_method == "bacs" and request.get("api_refund", True):
                # What wc_create_refund answers when the gateway cannot refund, passed on by the REST API.
                return _error(500, "woocommerce_rest_cannot_create_order_refund",
                              "The payment gateway for this order does not support automatic refunds.")
            order.refunds.append({"note": request.get("reason", ""), "amount": Decimal(request["amount"])})
            return 201, {}, json.dumps({"id": len(order.refunds), "reason": request.get("reason", ""),
                                        "amount": request["amount"]}).encode()
        if method == "GET" and route.startswith("/orders/") and route.count("/") == 2:
            order = next((o for o in store.orders if str(o.number) == route.split("/")[2]), None)
            if order is None:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return 200, {}, json.dumps(_order(order, parent_of, store.locations) | {"status": "completed" if order.fulfilled_at
                                                                    else "processing"}).encode()
        if method == "PUT" and route.startswith("/orders/"):
            order = next((o for o in store.orders if str(o.number) == route.split("/")[2]), None)
            if order is None:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            store.requests["complete order"] += 1
            wanted = json.loads(body or b"{}").get("status")
            if wanted == "cancelled" and not order.fulfilled_at and not order.cancelled_at:
                order.cancelled_at = order.updated_at = store.touch()
            if wanted == "completed" and not order.fulfilled_at and not order.cancelled_at:
                # The status changes once; a gateway that captures on completion captures then.
                if order.financial_status == "AUTHORIZED":
                    order.financial_status, order.captures = "PAID", order.captures + 1
                order.fulfilled_at = order.updated_at = store.touch()
            status = "cancelled" if order.cancelled_at else ("completed" if order.fulfilled_at else "processing")
            return 200, {}, json.dumps(_order(order, parent_of, store.locations) | {"status": status}).encode()
        if method == "POST" and route == "/products/batch":
            return _batch(store, simple, body, "product")
        if method == "POST" and route.startswith("/products/") and route.endswith("/variations/batch"):
            product = next((p for p in store.products if str(p.number) == route.split("/")[2]), None)
            if product is None:
                return _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return _batch(store, {v.number: v for v in product.variants}, body, "product_variation")
    return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
