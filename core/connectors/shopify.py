"""Shopify, through the Admin GraphQL API.

Every document this module can send is listed in DOCUMENTS; a test validates each one against
Shopify's published schema and checks that its worst-case cost stays under the 1,000-point
query limit. Throttling is cost-based: the store reports its bucket in `extensions.cost`, and a
THROTTLED answer means waiting for the bucket to refill, not failing.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from array import array
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Iterator

from core.i18n import N_, _, money
from core.connectors.base import (
    WARN, CheckContext, ConnectorError, CredentialError, ListingData, OrderLine, OutcomeUnknown, PriceUpdate, RequestCounter, StockUpdate, VisibilityUpdate, WebOrder,
    read_order, reading,
)
from core.connectors.http import RetryPolicy, StoreClient
from core.connectors import shopify_bulk, shopify_scopes, shopify_versions
from core.connectors.shopify_auth import ClientCredentials, FixedToken
from core.connectors.shopify_bulk import BulkFile, BulkOperations
from core.connectors.shopify_cost import (
    MUTATION_COST, CostBucket, listings_cost, most_listings_per_page, most_mutations_per_request,
    most_orders_per_page, order_lines_cost, orders_cost,
)

DEFAULT_API_VERSION = shopify_versions.DEFAULT
STOCK_BATCH = 250  # inventorySetQuantities: at most 250 quantities per call (Shopify's input-array limit)
STOCK_ALIASES = 20  # calls per request: 5,000 quantities, 200 points, a body near half a megabyte
PRICE_ALIASES = most_mutations_per_request()  # productVariantsBulkUpdate calls (one product each) per request
LISTING_PAGE = most_listings_per_page()  # 249 variants x 4 points + 3 = 999, the most under the cap
ORDER_FIRST_LINES = 3  # lines per order in the page; most orders have no more
ORDER_PAGE = most_orders_per_page(ORDER_FIRST_LINES)  # 17 orders of 57 points
ORDER_LINES = 100  # the rest of a larger order's lines, per request (903 points)
# Above these sizes a bulk operation (a few requests whatever the size) beats pages.
BULK_LISTINGS_FROM = 5_000  # variants: 21 pages
BULK_ORDERS_FROM = 250  # orders: 15 pages
# Prices: 300 are 3 requests of 1,000 points each, already 10 s of a Standard plan's refill; a
# price rule can move a third of a catalog at once, and a bulk mutation costs a few cheap requests.
BULK_PRICES_FROM = 300
RESULT_PAGE = 1_000  # listings or orders handed on at a time from a bulk result file
MAX_THROTTLE_WAITS = 20
CONFIRM_ATTEMPTS = 3  # sends of one refund or capture, each after reading that the store has none
# Mutations that must not happen twice: a lost answer is followed by reading the order, not by resending.
NOT_IDEMPOTENT = {"capture", "refund", "fulfil"}

LISTINGS = """
query TandemListings($first: Int!, $after: String, $mpnNamespace: String!, $mpnKey: String!) {
  productVariantsCount { count }
  productVariants(first: $first, after: $after) {
    edges {
      node {
        id
        sku
        barcode
        price
        title
        updatedAt
        product { id title }
        inventoryItem { id }
        metafield(namespace: $mpnNamespace, key: $mpnKey) { value }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# The whole catalog as one bulk query (no variables there: the part-number field is written in).
BULK_LISTINGS = """
{
  productVariants {
    edges {
      node {
        id sku barcode price title updatedAt
        product { id title }
        inventoryItem { id }
        metafield(namespace: %(namespace)s, key: %(key)s) { value }
      }
    }
  }
}
"""

# What Tandem reads of an order line, shared by the two documents that read lines.
LINE_ITEM_FIELDS = """
  id
  title
  sku
  quantity
  variant { id barcode }
  originalUnitPriceSet { shopMoney { amount } }
  totalDiscountSet { shopMoney { amount } }
  taxLines { rate priceSet { shopMoney { amount } } }
"""
LINE_ITEM_FRAGMENT = "fragment TandemLineItem on LineItem {" + LINE_ITEM_FIELDS + "}\n"

# What Tandem reads of an order itself (its lines and fulfilment orders are read beside it).
ORDER_FIELDS = """
  id
  name
  createdAt
  updatedAt
  cancelledAt
  tags
  email
  phone
  currencyCode
  displayFinancialStatus
  customer { displayName email phone }
  billingAddress { formatted(withName: true) }
  shippingAddress { formatted(withName: true) }
  subtotalPriceSet { shopMoney { amount } }
  totalShippingPriceSet { shopMoney { amount } }
  totalTaxSet { shopMoney { amount } }
  totalPriceSet { shopMoney { amount } }
  fulfillments(first: 5) { createdAt service { serviceName } }
"""
FULFILMENT_ORDER_FIELDS = "deliveryMethod { methodType } assignedLocation { location { id } }"
ORDER_FRAGMENT = ("fragment TandemOrder on Order {" + ORDER_FIELDS
                  + "  fulfillmentOrders(first: 1) { nodes { " + FULFILMENT_ORDER_FIELDS + " } }\n}\n")

# The first page also counts the orders to read: a backlog is read with one bulk query instead.
ORDERS = """
query TandemOrders($first: Int!, $after: String, $query: String!, $lines: Int!) {
  ordersCount(query: $query) { count }
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges {
      node {
        ...TandemOrder
        lineItems(first: $lines) {
          edges { node { ...TandemLineItem } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
""" + ORDER_FRAGMENT + LINE_ITEM_FRAGMENT

# A backlog of orders as one bulk query: each order's lines and fulfilment orders come as lines of
# their own right after it, naming it in `__parentId` (a bulk query takes no page sizes).
BULK_ORDERS = ("{\n  orders(query: %(query)s, sortKey: UPDATED_AT) {\n    edges {\n      node {" + ORDER_FIELDS
               + "        lineItems { edges { node {" + LINE_ITEM_FIELDS + "} } }\n"
               + "        fulfillmentOrders { edges { node { id " + FULFILMENT_ORDER_FIELDS + " } } }\n"
               + "      }\n    }\n  }\n}\n")

# The rest of a large order's lines.
ORDER_LINES_PAGE = """
query TandemOrderLines($id: ID!, $after: String, $lines: Int!) {
  order(id: $id) {
    lineItems(first: $lines, after: $after) {
      edges { node { ...TandemLineItem } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
""" + LINE_ITEM_FRAGMENT

def stock_document(calls: int, idempotent: bool = False) -> str:
    """`calls` inventorySetQuantities in one request, each under its own alias (q0, q1, ...). From
    2026-04 Shopify requires an idempotency key on inventory mutations: one per call."""
    variables = ", ".join(f"$input{n}: InventorySetQuantitiesInput!" + (f", $key{n}: String!" if idempotent else "")
                          for n in range(calls))
    fields = "".join(
        f"  q{n}: inventorySetQuantities(input: $input{n})" + (f" @idempotent(key: $key{n})" if idempotent else "")
        + " {\n    inventoryAdjustmentGroup { id }\n    userErrors { field message code }\n  }\n"
        for n in range(calls))
    return f"mutation TandemSetStock({variables}) {{\n{fields}}}\n"


# Which products the store shows now, read just before unpublishing (at most 250 ids).
PRODUCT_STATUSES = """
query TandemProductStatuses($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Product { id status } }
}
"""


def status_document(calls: int) -> str:
    """`calls` productUpdate in one request, each setting one product's status (ACTIVE or DRAFT:
    a draft is on no sales channel; nothing is deleted), aliased s0, s1, ..."""
    variables = ", ".join(f"$product{n}: ProductUpdateInput!" for n in range(calls))
    fields = "".join(f"  s{n}: productUpdate(product: $product{n}) {{\n    product {{ id status }}\n"
                     "    userErrors { field message }\n  }\n" for n in range(calls))
    return f"mutation TandemSetStatus({variables}) {{\n{fields}}}\n"


def prices_document(calls: int) -> str:
    """`calls` productVariantsBulkUpdate in one request (one product's variants each), aliased p0, p1, ..."""
    variables = ", ".join(f"$product{n}: ID!, $variants{n}: [ProductVariantsBulkInput!]!" for n in range(calls))
    fields = "".join(
        f"  p{n}: productVariantsBulkUpdate(productId: $product{n}, variants: $variants{n}) {{\n"
        "    productVariants { id }\n    userErrors { field message }\n  }\n" for n in range(calls))
    return f"mutation TandemSetPrices({variables}) {{\n{fields}}}\n"


# Webhooks for `tandem --watch --listen`: only the order's id is asked for, since a webhook is only
# ever a reason to read the order again through the API.
REGISTER_WEBHOOK = """
mutation TandemRegisterWebhook($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id }
    userErrors { field message }
  }
}
"""
WEBHOOK_TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED")

# What a bulk price update runs once per line of its file (a line: one product's variables).
BULK_PRICES = """
mutation TandemBulkPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id }
    userErrors { field message }
  }
}
"""

# Capturing an authorised payment: find the authorisation, then capture it.
CAPTURABLE = """
query TandemCapturable($id: ID!) {
  order(id: $id) {
    transactions(first: 10, capturable: true) {
      id
      kind
      status
      amountSet { shopMoney { amount currencyCode } }
    }
    fulfillmentOrders(first: 10) { edges { node { id status } } }
  }
}
"""

# After a capture whose answer was lost: the captures already made against the order.
CAPTURES = """
query TandemCaptures($id: ID!) {
  order(id: $id) {
    transactions(first: 50) {
      id
      kind
      status
      parentTransaction { id }
    }
  }
}
"""

CAPTURE = """
mutation TandemCapture($input: OrderCaptureInput!) {
  orderCapture(input: $input) {
    transaction { id status }
    userErrors { field message }
  }
}
"""

FULFIL = """
mutation TandemFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

# Cancelling an order releases an authorisation not yet captured (Shopify's documented behaviour);
# `refund: true` gives back anything captured meanwhile; the shop's stock is Tandem's, so no restock.
CANCEL = """
mutation TandemCancel($orderId: ID!, $staffNote: String) {
  orderCancel(orderId: $orderId, refund: true, restock: false, reason: OTHER, notifyCustomer: false,
              staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

# Refunds: what was already refunded (by note) and which transaction to refund against.
REFUNDABLE = """
query TandemRefundable($id: ID!) {
  order(id: $id) {
    refunds(first: 50) { id note }
    transactions(first: 10) { id kind status gateway }
  }
}
"""

REFUND = """
mutation TandemRefund($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id }
    userErrors { field message }
  }
}
"""

# `tandem --check`: the credentials and their scopes first (these need no scope), then, as far as
# the scopes allow, the store locations and the part-number field.
CHECK_ACCESS = """
query TandemCheckAccess {
  shop { name }
  currentAppInstallation { accessScopes { handle } }
}
"""
CHECK_LOCATIONS = """
query TandemCheckLocations($locations: [ID!]!) {
  locations: nodes(ids: $locations) { ... on Location { id name } }
}
"""
# The part-number field on the listings linked to shop products that have a part number...
CHECK_LINKED = """
query TandemCheckLinked($variants: [ID!]!, $mpnNamespace: String!, $mpnKey: String!) {
  variants: nodes(ids: $variants) {
    ... on ProductVariant { id sku metafield(namespace: $mpnNamespace, key: $mpnKey) { value } }
  }
}
"""
# ...or, before the first sync, on the listings with those products' SKUs or barcodes.
CHECK_BY_SKU = """
query TandemCheckBySku($first: Int!, $query: String!, $mpnNamespace: String!, $mpnKey: String!) {
  productVariants(first: $first, query: $query) {
    edges { node { id sku metafield(namespace: $mpnNamespace, key: $mpnKey) { value } } }
  }
}
"""
CHECK_SAMPLE = 50  # listings looked at for the part-number field

DOCUMENTS = {"check_access": CHECK_ACCESS, "check_locations": CHECK_LOCATIONS, "check_linked": CHECK_LINKED,
             "check_by_sku": CHECK_BY_SKU, "listings": LISTINGS, "orders": ORDERS, "order_lines": ORDER_LINES_PAGE,
             "set_stock": stock_document(STOCK_ALIASES), "set_prices": prices_document(PRICE_ALIASES),
             "set_status": status_document(PRICE_ALIASES), "product_statuses": PRODUCT_STATUSES,
             "capturable": CAPTURABLE, "captures": CAPTURES, "capture": CAPTURE, "fulfil": FULFIL,
             "refundable": REFUNDABLE, "refund": REFUND, "cancel": CANCEL, **shopify_bulk.DOCUMENTS,
             "bulk_prices": BULK_PRICES, "register_webhook": REGISTER_WEBHOOK}
DOCUMENTS_2026 = {**DOCUMENTS, "set_stock": stock_document(STOCK_ALIASES, idempotent=True),
                  **shopify_bulk.DOCUMENTS_2026}


def documents_for(api_version: str) -> dict[str, str]:
    """What Tandem sends to a store on `api_version`: from 2026-01 bulk queries group objects, and
    from 2026-04 inventory mutations carry an idempotency key (mandatory from that version)."""
    if api_version >= "2026-04":
        return DOCUMENTS_2026
    if api_version >= "2026-01":
        return {**DOCUMENTS, **shopify_bulk.DOCUMENTS_2026}
    return DOCUMENTS


class ScopeMissing(ConnectorError):
    """The store refused a request for want of an access scope (Shopify's ACCESS_DENIED)."""
# What bulk queries ask (documents in their own right, sent as a bulk operation's text).
BULK_QUERIES = {"listings": BULK_LISTINGS % {"namespace": '"mm-google-shopping"', "key": '"mpn"'},
                "orders": BULK_ORDERS % {"query": '"updated_at:>=\'2026-01-01T00:00:00Z\'"'}}


def _money(money_set: dict | None) -> Decimal:
    if not money_set:
        return Decimal("0.00")
    return Decimal(str(money_set["shopMoney"]["amount"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _address(address: dict | None) -> str | None:
    return "\n".join(address["formatted"]) if address and address.get("formatted") else None


def parse_order(node: dict, supplier_tag: str | None, supplier_service: str | None) -> WebOrder:
    lines = []
    for edge in node["lineItems"]["edges"]:
        item = edge["node"]
        taxes = item.get("taxLines") or []
        variant = item.get("variant") or {}
        lines.append(OrderLine(
            external_id=item["id"], title=item["title"], quantity=int(item["quantity"]),
            unit_price=_money(item["originalUnitPriceSet"]), product_code=item.get("sku") or None,
            barcode=variant.get("barcode") or None, listing_external_id=variant.get("id"),
            discount=_money(item.get("totalDiscountSet")),
            tax_rate=(sum((Decimal(str(t["rate"])) for t in taxes), Decimal("0")) * 100).quantize(Decimal("0.0001")),
            tax_amount=sum((_money(t["priceSet"]) for t in taxes), Decimal("0.00")),
        ))
    tags = tuple(node.get("tags") or ())
    fulfillments = node.get("fulfillments") or []
    by_supplier = [f for f in fulfillments
                   if supplier_service and (f.get("service") or {}).get("serviceName") == supplier_service]
    supplier = bool(supplier_tag and supplier_tag in tags) or bool(by_supplier)
    shipped = by_supplier or (fulfillments if supplier else [])
    customer = node.get("customer") or {}
    # A pickup order's fulfilment order is assigned to the location the customer chose.
    pickup = next((f["assignedLocation"]["location"]["id"] for f in (node.get("fulfillmentOrders") or {}).get("nodes", [])
                   if (f.get("deliveryMethod") or {}).get("methodType") == "PICK_UP"
                   and (f.get("assignedLocation") or {}).get("location")), None)
    return WebOrder(
        external_id=node["id"], order_number=node["name"],
        status=str(node.get("displayFinancialStatus") or "").lower(),
        ordered_at=_time(node["createdAt"]), updated_at=_time(node["updatedAt"]),
        currency=node.get("currencyCode") or "USD", lines=lines,
        customer_name=customer.get("displayName"), customer_email=node.get("email") or customer.get("email"),
        customer_phone=node.get("phone") or customer.get("phone"),
        billing_address=_address(node.get("billingAddress")), shipping_address=_address(node.get("shippingAddress")),
        subtotal=_money(node.get("subtotalPriceSet")), shipping=_money(node.get("totalShippingPriceSet")),
        tax_total=_money(node.get("totalTaxSet")), total=_money(node.get("totalPriceSet")),
        cancelled=node.get("cancelledAt") is not None, supplier_fulfilled=supplier,
        shipped_at=_time(min(f["createdAt"] for f in shipped)) if shipped else None, tags=tags,
        pickup_location=pickup,
    )


@dataclass
class BulkPrices:
    """What a bulk price update did: for each update given, in order, whether the store took it."""

    accepted: bytearray
    refused: list[str]  # the store's reasons, one per refused product, in file order
    complete: bool  # False: the operation stopped part-way and only some lines were run
    error_code: str | None = None


def _listing(node: dict) -> ListingData:
    product = node.get("product") or {}
    title = product.get("title") or ""
    if node.get("title") and node["title"] != "Default Title":
        title = f"{title} {node['title']}".strip()
    return ListingData(
        external_id=node["id"], title=title or node["id"], product_code=node.get("sku"),
        barcode=node.get("barcode"), part_number=(node.get("metafield") or {}).get("value"),
        price=Decimal(str(node["price"])) if node.get("price") is not None else None,
        external_product_id=product.get("id"),
        inventory_item_id=(node.get("inventoryItem") or {}).get("id"),
        remote_updated_at=_time(node.get("updatedAt")),
    )


def _cursor_of(orders: list[WebOrder], cursor: str | None, keep_newer: bool = False) -> str | None:
    """The newest change among `orders` as an order-query cursor; `cursor` when there is none (or,
    with `keep_newer`, when it is newer)."""
    newest = max((o.updated_at for o in orders), default=None)
    found = newest.isoformat().replace("+00:00", "Z") if newest else None
    if found is None or (keep_newer and cursor and cursor > found):
        return cursor
    return found


class ShopifyConnector:
    stock_batch_size = STOCK_BATCH * STOCK_ALIASES  # quantities per request, over several aliased calls
    price_batch_size = PRICE_ALIASES  # prices per request: at most that many products, one aliased call each
    prices_per_product = False
    hides_whole_products = True  # a product's status: Shopify has no per-variant publishing
    bulk_prices_from = BULK_PRICES_FROM
    needs_inventory_item = True

    def __init__(self, shop_url: str, access_token: str | None = None, *, location_id: str,
                 client_id: str | None = None, client_secret: str | None = None,
                 api_version: str = DEFAULT_API_VERSION,
                 mpn_metafield: str = "mm-google-shopping.mpn", supplier_tag: str | None = "supplier-fulfilled",
                 supplier_service: str | None = None, transport=None, policy: RetryPolicy | None = None,
                 sleep=time.sleep, clock=time.monotonic, token_clock=None):
        """Either a Dev Dashboard app's `client_id` and `client_secret`, or a legacy app's `access_token`.
        `token_clock` times the token's life (`clock`, the cost bucket's, unless given)."""
        self.counter = RequestCounter()
        self.api_version = api_version
        self.answered_version: str | None = None  # what the store said it answered with, last time
        self.location_id = location_id
        self.mpn_namespace, _dot, self.mpn_key = mpn_metafield.partition(".")
        self.supplier_tag, self.supplier_service = supplier_tag, supplier_service
        self._sleep = sleep
        self.bucket = CostBucket(clock=clock)
        if client_id and client_secret:
            hint = N_("the channel's Shopify app client ID and secret (tandem --set-secret CHANNEL)")
            token_client = StoreClient(shop_url, transport=transport, policy=policy, counter=self.counter,
                                       sleep=sleep, credential_hint=hint)
            self.auth: ClientCredentials | FixedToken = ClientCredentials(token_client, client_id, client_secret,
                                                                          clock=token_clock or clock)
            self._token_client: StoreClient | None = token_client
        elif access_token:
            hint = N_("the channel's Shopify access token (tandem --set-secret CHANNEL)")
            self.auth, self._token_client = FixedToken(access_token), None
        else:
            raise ConnectorError(_("a Shopify channel needs its app's client ID and secret, or a legacy access "
                                   "token (tandem --set-secret CHANNEL)"))
        self.client = StoreClient(shop_url, headers={"Content-Type": "application/json"}, transport=transport,
                                  policy=policy, counter=self.counter, sleep=sleep, credential_hint=hint)
        self.documents = documents_for(api_version)
        self.bulk = BulkOperations(self._graphql, self.counter, sleep, transport=transport)

    def close(self) -> None:
        self.client.close()
        if self._token_client is not None:
            self._token_client.close()
        self.bulk.close()

    def _estimated_cost(self, kind: str, variables: dict, document: str) -> float:
        if kind == "listings":
            return listings_cost(variables["first"])
        if kind == "orders":
            return orders_cost(variables["first"], variables["lines"])
        if kind == "order_lines":
            return order_lines_cost(variables["lines"])
        if document.lstrip().startswith("mutation"):
            return MUTATION_COST * max(document.count("userErrors"), 1)
        return MUTATION_COST  # the small reads: an order's payments, a bulk operation's state

    def _graphql(self, kind: str, variables: dict, document: str | None = None) -> dict:
        document = document or self.documents[kind]
        path = f"/admin/api/{self.api_version}/graphql.json"
        cost_estimate = self._estimated_cost(kind, variables, document)
        for _attempt in range(MAX_THROTTLE_WAITS):
            self._pause(self.bucket.seconds_before(cost_estimate))
            self.bucket.spend(cost_estimate)
            response = self._post(path, kind, {"query": document, "variables": variables})
            try:
                body = response.json()
            except ValueError:
                raise ConnectorError(_('the store sent a {kind} answer that is not JSON').format(kind=kind)) from None
            with reading(kind):
                if not isinstance(body, dict):
                    raise TypeError
                cost = (body.get("extensions") or {}).get("cost") or {}
                errors = body.get("errors") or []
                if isinstance(errors, (str, dict)):
                    errors = [errors]
                errors = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
                throttled = any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)
            self.bucket.read(cost)
            if throttled:
                # Someone else spent the bucket (another process of this app): wait for this cost.
                self.counter.throttled += 1
                cost_estimate = float(cost.get("requestedQueryCost") or cost_estimate)
                self._pause(max(self.bucket.seconds_before(cost_estimate), 0.1))
                continue
            denied = [e for e in errors if (e.get("extensions") or {}).get("code") == "ACCESS_DENIED"]
            if denied:
                raise ScopeMissing(self._lacking(denied[0]))
            if errors:
                raise ConnectorError(_('the store refused the {kind} request: {value}').format(kind=kind, value=errors[0].get('message', 'unknown error')))
            if not isinstance(body.get("data"), dict):
                raise ConnectorError(_('the store sent a {kind} answer without data').format(kind=kind))
            return body["data"]
        raise ConnectorError(_("the store kept throttling requests; try again later"))

    def _post(self, path: str, kind: str, body: dict):
        """One GraphQL request with the current token; a 401 gets one new token and one more try
        (Shopify refused the request before acting on it, so even a capture may be sent again)."""
        token = self.auth.current()
        send = dict(idempotent=kind not in NOT_IDEMPOTENT, json=body)
        try:
            response = self.client.request("POST", path, kind, headers={"X-Shopify-Access-Token": token}, **send)
        except CredentialError:
            if not self.auth.renewable:
                raise
            response = self.client.request("POST", path, kind,
                                           headers={"X-Shopify-Access-Token": self.auth.renew(token)}, **send)
        self.answered_version = response.headers.get(shopify_versions.ANSWERED_HEADER) or self.answered_version
        return response

    def _lacking(self, error: dict) -> str:
        """Shopify's ACCESS_DENIED, said as the scope missing, what it stops and where to add it."""
        required = str((error.get("extensions") or {}).get("requiredAccess") or error.get("message") or "")
        handle = next(iter(re.findall(r"`(\w+)`", required)), None)
        scope = shopify_scopes.BY_HANDLE.get(handle or "") or next(
            (known for known in shopify_scopes.SCOPES if handle and shopify_scopes.covered(handle, {known.handle})),
            None)
        if handle is None:
            return _("the store refused access: {reason}").format(reason=required or _("no reason given"))
        return _("the app lacks the scope {scope}, which {features} need: add it {where}").format(
            scope=scope.handle if scope else handle, features=shopify_scopes.blocks(scope) if scope else "Tandem",
            where=_(self.auth.where_scopes_are))

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.counter.waited_seconds += seconds
            self._sleep(seconds)

    def listings(self) -> Iterator[list[ListingData]]:
        """Pages of 249; a large catalog (the first page counts it) is read with one bulk query."""
        after = None
        while True:
            first_page = after is None
            data = self._graphql("listings", {"first": LISTING_PAGE, "after": after,
                                              "mpnNamespace": self.mpn_namespace, "mpnKey": self.mpn_key})
            with reading("listings"):
                page, more, after = self._listing_page(data)
                total = int(((data.get("productVariantsCount") or {}).get("count")) or 0)
            if first_page and more and total >= BULK_LISTINGS_FROM:
                yield from self._listings_in_bulk()
                return
            yield page
            if not more:
                return

    def _listings_in_bulk(self) -> Iterator[list[ListingData]]:
        result = self.bulk.query(BULK_LISTINGS % {"namespace": json.dumps(self.mpn_namespace),
                                                  "key": json.dumps(self.mpn_key)})
        try:
            if not result.complete:
                raise ConnectorError(_("the store's bulk read of the catalog failed ({code}); nothing from it was "
                                       "used").format(code=result.error_code or "?"))
            page: list[ListingData] = []
            with reading("listings"):
                for node in result.lines():
                    page.append(_listing(node))
                    if len(page) == RESULT_PAGE:
                        yield page
                        page = []
            if page:
                yield page
        finally:
            result.remove()

    def _listing_page(self, data: dict) -> tuple[list[ListingData], bool, str | None]:
        connection = data["productVariants"]
        page = [_listing(edge["node"]) for edge in connection["edges"]]
        return page, bool(connection["pageInfo"]["hasNextPage"]), connection["pageInfo"]["endCursor"]

    def orders_since(self, cursor: str | None) -> Iterator[tuple[list[WebOrder], str | None]]:
        query = f"updated_at:>='{cursor}'" if cursor else "updated_at:>='1970-01-01T00:00:00Z'"
        after = None
        while True:
            data = self._graphql("orders", {"first": ORDER_PAGE, "after": after, "query": query,
                                            "lines": ORDER_FIRST_LINES})
            with reading("orders"):
                connection = data["orders"]
                edges, more, end = connection["edges"], bool(connection["pageInfo"]["hasNextPage"]), \
                    connection["pageInfo"]["endCursor"]
                if not isinstance(edges, list):
                    raise TypeError
                backlog = int(((data.get("ordersCount") or {}).get("count")) or 0)
            if after is None and more and backlog >= BULK_ORDERS_FROM:
                yield from self._orders_in_bulk(query, cursor)
                return
            orders = [read_order(edge.get("node") if isinstance(edge, dict) else edge, self._parse_whole_order)
                      for edge in edges]
            yield orders, _cursor_of(orders, cursor)
            if not more:
                return
            after = end

    def _orders_in_bulk(self, query: str, cursor: str | None) -> Iterator[tuple[list[WebOrder], str | None]]:
        """The backlog from one bulk query. Its pages keep the old cursor and the last one carries
        the newest change seen, so a run cut short reads the backlog again rather than skip any."""
        result = self.bulk.query(BULK_ORDERS % {"query": json.dumps(query)})
        try:
            if not result.complete:
                raise ConnectorError(_("the store's bulk read of orders failed ({code}); nothing from it was "
                                       "used").format(code=result.error_code or "?"))
            page: list[WebOrder] = []
            newest = cursor
            for node in self._bulk_order_nodes(result):
                page.append(read_order(node, self._parse_order))
                if len(page) == RESULT_PAGE:
                    newest = _cursor_of(page, newest, keep_newer=True)
                    yield page, cursor
                    page = []
            yield page, _cursor_of(page, newest, keep_newer=True)
        finally:
            result.remove()

    @staticmethod
    def _bulk_order_nodes(result: BulkFile) -> Iterator[dict]:
        """Orders rebuilt from the bulk file: each child line (a line item, a fulfilment order)
        follows its order and names it."""
        order: dict | None = None
        with reading("orders"):
            for line in result.lines():
                parent = line.pop("__parentId", None)
                if parent is None:
                    if order is not None:
                        yield order
                    order = {**line, "lineItems": {"edges": [], "pageInfo": {"hasNextPage": False}},
                             "fulfillmentOrders": {"nodes": []}}
                    continue
                if order is None or parent != order["id"]:
                    raise ConnectorError(_("the store's bulk result has a line apart from its order"))
                if str(line.get("id", "")).startswith("gid://shopify/FulfillmentOrder/"):
                    order["fulfillmentOrders"]["nodes"].append(line)
                else:
                    order["lineItems"]["edges"].append({"node": line})
        if order is not None:
            yield order

    def _parse_order(self, node: dict) -> WebOrder:
        return parse_order(node, self.supplier_tag, self.supplier_service)

    def _parse_whole_order(self, node: dict) -> WebOrder:
        return parse_order(self._all_lines(node), self.supplier_tag, self.supplier_service)

    def _all_lines(self, node: dict) -> dict:
        """The order with every line item, following the line items' own pages."""
        items = node["lineItems"]
        while items["pageInfo"]["hasNextPage"]:
            more = self._graphql("order_lines", {"id": node["id"], "after": items["pageInfo"]["endCursor"],
                                                 "lines": ORDER_LINES})["order"]["lineItems"]
            items = {"edges": items["edges"] + more["edges"], "pageInfo": more["pageInfo"]}
        return {**node, "lineItems": items}

    def set_stock(self, updates: list[StockUpdate]) -> None:
        """Up to STOCK_ALIASES calls of 250 quantities, in one request."""
        if len(updates) > self.stock_batch_size:
            raise ValueError(_("too many quantities for one call"))
        idempotent = self.api_version >= "2026-04"
        variables: dict = {}
        calls = [updates[start:start + STOCK_BATCH] for start in range(0, len(updates), STOCK_BATCH)]
        for n, call in enumerate(calls):
            quantities = [{"inventoryItemId": u.inventory_item_id, "locationId": u.store_location or self.location_id,
                           "quantity": u.quantity} for u in call]
            given: dict = {"name": "available", "reason": "correction", "quantities": quantities}
            if idempotent:
                for quantity in quantities:
                    quantity["changeFromQuantity"] = None
                variables[f"key{n}"] = str(uuid.uuid4())
            else:
                given["ignoreCompareQuantity"] = True
            variables[f"input{n}"] = given
        data = self._graphql("set_stock", variables, stock_document(len(calls), idempotent))
        with reading("set_stock"):
            errors = [error for n in range(len(calls)) for error in data[f"q{n}"]["userErrors"]]
            if errors:
                raise ConnectorError(_('the store refused the quantities: {value}').format(value=errors[0]['message']))

    def _capture_made(self, order_external_id: str, authorisation_id: str) -> str | None:
        """The successful capture of this authorisation the store already has, if any."""
        data = self._graphql("captures", {"id": order_external_id})
        with reading("captures"):
            for transaction in (data["order"] or {}).get("transactions") or []:
                parent = (transaction.get("parentTransaction") or {}).get("id")
                if transaction["kind"] == "CAPTURE" and transaction["status"] == "SUCCESS" \
                        and parent == authorisation_id:
                    return transaction["id"]
        return None

    def capture(self, order_external_id: str, amount: Decimal) -> str:
        """Capture an authorised payment once; returns the capture's transaction id.

        When the capture's answer is lost, the order's transactions are read: a capture of this
        authorisation that the store made is taken as the answer, and only when there is none is
        the capture sent again."""
        data = self._graphql("capturable", {"id": order_external_id})
        with reading("capturable"):
            order = data["order"]
            if order is None:
                raise ConnectorError(_("the store no longer has this order"))
            authorisations = [t for t in order["transactions"] if t["kind"] == "AUTHORIZATION"]
            if not authorisations:
                raise ConnectorError(_("the order has no authorised payment left to capture"))
            authorisation = authorisations[0]
            authorised = authorisation["amountSet"]["shopMoney"]
            if amount > Decimal(str(authorised["amount"])):
                raise ConnectorError(_('cannot capture {amount}: only {value} was authorised').format(
                    amount=money(amount), value=money(Decimal(str(authorised['amount'])))))
        for attempt in range(CONFIRM_ATTEMPTS):
            if attempt and (made := self._capture_made(order_external_id, authorisation["id"])):
                return made
            try:
                data = self._graphql("capture", {"input": {
                    "id": order_external_id, "parentTransactionId": authorisation["id"], "amount": f"{amount:.2f}",
                    "currency": authorised["currencyCode"]}})
            except OutcomeUnknown:
                continue
            with reading("capture"):
                result = data["orderCapture"]
                if result["userErrors"]:
                    raise ConnectorError(_('the store refused the capture: {value}').format(value=result['userErrors'][0]['message']))
                return result["transaction"]["id"]
        if made := self._capture_made(order_external_id, authorisation["id"]):
            return made
        raise OutcomeUnknown(_("the store's answer to the capture was lost several times and the order shows no "
                             "capture; look at the order on the website before trying again"))

    def _refund_made(self, order_external_id: str, note: str) -> tuple[dict, str | None]:
        """The order's refundable state, and the id of a refund already made under `note`."""
        data = self._graphql("refundable", {"id": order_external_id})
        with reading("refundable"):
            order = data["order"]
            if order is None:
                raise ConnectorError(_("the store no longer has this order"))
            made = next((refund.get("id") or "already refunded" for refund in order["refunds"]
                         if note in (refund.get("note") or "")), None)
            return order, made

    def refund(self, order_external_id: str, amount: Decimal, key: str) -> str:
        """Refund on the website, once: the refund's note carries `key`. Before every send the
        order's refunds are read, and a refund whose note has the key is the answer; so a lost
        answer, a retry or a second click never refunds twice."""
        note = f"Tandem return {key}"
        for _attempt in range(CONFIRM_ATTEMPTS):
            order, made = self._refund_made(order_external_id, note)
            if made:
                return made
            with reading("refundable"):
                paid = [t for t in order["transactions"] if t["kind"] in ("CAPTURE", "SALE") and t["status"] == "SUCCESS"]
            if not paid:
                raise ConnectorError(_("the order has no captured payment to refund"))
            try:
                data = self._graphql("refund", {"input": {
                    "orderId": order_external_id, "note": note, "notify": False,
                    "transactions": [{"orderId": order_external_id, "parentId": paid[0]["id"],
                                      "gateway": paid[0]["gateway"], "kind": "REFUND", "amount": f"{amount:.2f}"}]}})
            except OutcomeUnknown:
                continue
            with reading("refund"):
                result = data["refundCreate"]
                if result["userErrors"]:
                    raise ConnectorError(_('the store refused the refund: {value}').format(value=result['userErrors'][0]['message']))
                return result["refund"]["id"]
        _refund, made = self._refund_made(order_external_id, note)
        if made:
            return made
        raise OutcomeUnknown(_("the store's answer to the refund was lost several times and the order shows no such "
                             "refund; look at the order on the website before trying again"))

    def _open_fulfilment_orders(self, order_external_id: str) -> list[str]:
        data = self._graphql("capturable", {"id": order_external_id})
        with reading("capturable"):
            return [edge["node"]["id"] for edge in (data["order"] or {}).get("fulfillmentOrders", {}).get("edges", [])
                    if edge["node"]["status"] in ("OPEN", "IN_PROGRESS")]

    def cancel(self, order_external_id: str) -> str:
        """Cancel the order on Shopify, which releases its authorisation. An order already
        cancelled there is the same outcome, so a retry after a lost answer is harmless."""
        data = self._graphql("cancel", {"orderId": order_external_id, "staffNote": "Cancelled at the shop in Tandem"})
        with reading("cancel"):
            errors = data["orderCancel"]["orderCancelUserErrors"]
        if errors and not any("already" in (error.get("message") or "").lower() for error in errors):
            raise ConnectorError(_('the store refused to cancel the order: {value}').format(value=errors[0]['message']))
        return _("Cancelled on the website too: Shopify releases the card authorisation.")

    def complete(self, order_external_id: str) -> None:
        """Mark the order fulfilled (picked up or shipped by the shop); after a lost answer the
        order is read again, and what is fulfilled by then is not fulfilled twice."""
        for _attempt in range(CONFIRM_ATTEMPTS):
            open_orders = self._open_fulfilment_orders(order_external_id)
            if not open_orders:
                return  # nothing left to fulfil: already done
            try:
                data = self._graphql("fulfil", {"fulfillment": {
                    "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fid} for fid in open_orders],
                    "notifyCustomer": False}})
            except OutcomeUnknown:
                continue
            with reading("fulfil"):
                result = data["fulfillmentCreate"]
                if result["userErrors"]:
                    raise ConnectorError(
                        _('the store refused to mark the order fulfilled: {value}').format(value=result['userErrors'][0]['message']))
            return
        if self._open_fulfilment_orders(order_external_id):
            raise OutcomeUnknown(_("the store's answer was lost several times; the order is not fulfilled yet"))

    def check(self, context: CheckContext) -> list[tuple[bool | str, str]]:
        """What `tandem --check` reports for this store, one (verdict, line) per point: the
        credentials, the API version, each scope Tandem needs, every store location the channel
        sends stock to (default: its own), and the part-number field."""
        data = self._graphql("check_access", {})
        with reading("check"):
            shop = data["shop"]["name"]
            granted = {scope["handle"] for scope in (data.get("currentAppInstallation") or {}).get("accessScopes") or []}
        lines: list[tuple[bool | str, str]] = [(True, (
            _("the app's client ID and secret are accepted by {shop} (its token is renewed every day, in memory)")
            if self.auth.renewable else _("the access token is accepted by {shop}")).format(shop=repr(shop)))]
        lines += self._check_version(context.today)
        missing = shopify_scopes.missing(granted)
        lines += [(False, _("the app lacks the scope {scope}, which {features} need: add it {where}").format(
            scope=scope.handle, features=shopify_scopes.blocks(scope), where=_(self.auth.where_scopes_are)))
            for scope in missing]
        if not missing:
            lines.append((True, _("the app has every scope Tandem needs ({count})").format(
                count=len(shopify_scopes.SCOPES))))
        if shopify_scopes.covered("read_locations", granted):
            lines += self._check_locations(list(context.store_locations))
        if shopify_scopes.covered("read_products", granted):
            lines.append(self._check_part_numbers(context))
        return lines

    def _check_version(self, today) -> list[tuple[bool | str, str]]:
        asked, answered = self.api_version, self.answered_version
        if answered and answered != asked:
            return [(WARN, _("the store answered with API version {answered}, not {asked}: Shopify no longer "
                             "serves {asked}; set api_version = \"{newest}\" in the channel's settings").format(
                answered=answered, asked=asked, newest=shopify_versions.newest_tested()))]
        if not shopify_versions.is_version(asked):
            return [(False, _("api_version {asked} is not a Shopify API version (they are YYYY-01, -04, -07 "
                              "or -10)").format(asked=repr(asked)))]
        ends = shopify_versions.retires_on(asked)
        if today and (ends - today).days <= shopify_versions.WARN_DAYS_BEFORE_RETIREMENT:
            return [(WARN, _("API version {asked} is retired by Shopify on {date}: set api_version = \"{newest}\" "
                             "in the channel's settings before then").format(
                asked=asked, date=ends.isoformat(), newest=shopify_versions.newest_tested()))]
        if asked not in shopify_versions.TESTED:
            return [(WARN, _("API version {asked} is served until {date}, but Tandem is tested with {tested}").format(
                asked=asked, date=ends.isoformat(), tested=", ".join(shopify_versions.TESTED)))]
        return [(True, _("API version {asked}, served by Shopify until {date}").format(
            asked=asked, date=ends.isoformat()))]

    def _check_locations(self, store_locations: list[str]) -> list[tuple[bool | str, str]]:
        wanted = store_locations or [self.location_id or "gid://shopify/Location/0"]
        data = self._graphql("check_locations", {"locations": wanted})
        lines: list[tuple[bool | str, str]] = []
        with reading("check"):
            for asked, location in zip(wanted, data["locations"], strict=True):
                named = asked if store_locations or self.location_id else _("(store_location_id is not set)")
                lines.append((bool(location), _('the store location {asked} is {value}').format(
                    asked=asked, value=repr(location['name'])) if location else
                    _('the store has no location {named}').format(named=named)))
        return lines

    def _check_part_numbers(self, context: CheckContext) -> tuple[bool | str, str]:
        """The field must be filled on some listing of a shop product that has a part number;
        other listings (the newest, say) may well have none."""
        field = f"{self.mpn_namespace}.{self.mpn_key}"
        samples = context.part_numbers[:CHECK_SAMPLE]
        if not samples:
            return True, _("no shop product has a part number: the field {field} is not needed yet").format(field=field)
        linked = [listing for sample in samples for listing in sample.listing_ids][:CHECK_SAMPLE]
        names = {"mpnNamespace": self.mpn_namespace, "mpnKey": self.mpn_key}
        if linked:
            data = self._graphql("check_linked", {"variants": linked, **names})
            with reading("check"):
                found = [node for node in data["variants"] if node]
        else:
            terms = [f"sku:{json.dumps(sample.sku)}" for sample in samples]
            terms += [f"barcode:{json.dumps(sample.barcode)}" for sample in samples if sample.barcode]
            query = " OR ".join(terms)
            data = self._graphql("check_by_sku", {"first": len(samples), "query": query, **names})
            with reading("check"):
                found = [edge["node"] for edge in data["productVariants"]["edges"]]
        with reading("check"):
            filled = [node for node in found if (node.get("metafield") or {}).get("value")]
        if filled:
            return True, _("the part-number field {field} is filled on {filled} of {found} listings of products "
                           "that have a part number").format(field=field, filled=len(filled), found=len(found))
        if found:
            example = found[0].get("sku") or found[0].get("id")
            return False, _("none of {found} listings of products that have a part number has the field {field} "
                            "(for example {example}): check part_number_field in the channel's settings, or fill the "
                            "metafield").format(found=len(found), field=field, example=example)
        return WARN, _("no listing was found for the shop's products that have a part number, so the field {field} "
                       "cannot be checked yet: run tandem --sync, then check again").format(field=field)

    def set_prices(self, updates: list[PriceUpdate]) -> None:
        """One request: each product's variants in an aliased productVariantsBulkUpdate."""
        products = _by_product(updates)
        if len(products) > PRICE_ALIASES:
            raise ValueError(_("too many products for one call"))
        variables: dict = {}
        for n, (product, variants) in enumerate(products.items()):
            variables[f"product{n}"], variables[f"variants{n}"] = product, variants
        data = self._graphql("set_prices", variables, prices_document(len(products)))
        with reading("set_prices"):
            errors = [error for n in range(len(products)) for error in data[f"p{n}"]["userErrors"]]
            if errors:
                raise ConnectorError(_('the store refused the prices: {value}').format(value=errors[0]['message']))

    def published(self, updates: list[VisibilityUpdate]) -> set[str]:
        """The products among these the store has ACTIVE now (a draft or archived one is the shop's)."""
        ids = sorted({u.external_product_id for u in updates if u.external_product_id})
        data = self._graphql("product_statuses", {"ids": ids})
        with reading("product_statuses"):
            return {node["id"] for node in data["nodes"] if node and node.get("status") == "ACTIVE"}

    def set_visibility(self, updates: list[VisibilityUpdate]) -> None:
        """One request: each product's status, DRAFT to unpublish, ACTIVE to publish again."""
        products = {u.external_product_id: u.visible for u in updates}
        if len(products) > PRICE_ALIASES:
            raise ValueError(_("too many products for one call"))
        variables = {f"product{n}": {"id": product, "status": "ACTIVE" if visible else "DRAFT"}
                     for n, (product, visible) in enumerate(products.items())}
        data = self._graphql("set_status", variables, status_document(len(products)))
        with reading("set_status"):
            errors = [error for n in range(len(products)) for error in data[f"s{n}"]["userErrors"]]
            if errors:
                raise ConnectorError(_("the store refused to publish or unpublish: {value}").format(
                    value=errors[0]["message"]))

    def register_webhooks(self, callback_url: str, secret: str | None = None) -> list[str]:
        """Subscribe `callback_url` to new and changed orders; Shopify signs them with the app's
        client secret (`secret` is not sent: it is that one). Returns the subscriptions' ids."""
        made = []
        for topic in WEBHOOK_TOPICS:
            data = self._graphql("register_webhook", {"topic": topic, "webhookSubscription": {
                "callbackUrl": callback_url, "format": "JSON", "includeFields": ["id"]}})
            with reading("register_webhook"):
                result = data["webhookSubscriptionCreate"]
                if result["userErrors"]:
                    raise ConnectorError(_("the store refused the webhook: {value}").format(
                        value=result["userErrors"][0]["message"]))
                made.append(result["webhookSubscription"]["id"])
        return made

    def set_prices_in_bulk(self, updates: Iterable[PriceUpdate]) -> BulkPrices:
        """Every price in one bulk mutation: one line per product (the updates come grouped by
        product), its result file read line by line for what the store refused."""
        line_sizes = array("I")

        def lines() -> Iterator[dict]:
            product, variants = None, []
            for update_ in updates:
                if update_.external_product_id != product and variants:
                    line_sizes.append(len(variants))
                    yield {"productId": product, "variants": variants}
                    variants = []
                product = update_.external_product_id
                variants.append({"id": update_.listing_external_id, "price": f"{update_.price:.2f}"})
            if variants:
                line_sizes.append(len(variants))
                yield {"productId": product, "variants": variants}

        result = self.bulk.mutation(BULK_PRICES, lines())
        ran = bytearray(len(line_sizes))
        refused: list[str] = []
        try:
            with reading("bulk_prices"):
                for line in result.lines():
                    number = int(line["__lineNumber"])
                    errors = (((line.get("data") or {}).get("productVariantsBulkUpdate") or {}).get("userErrors")
                              or line.get("errors") or [])
                    if errors or not line.get("data"):
                        refused.append(str((errors or [{"message": "no answer"}])[0].get("message")))
                    elif 0 <= number < len(ran):
                        ran[number] = 1
        finally:
            result.remove()
        accepted = bytearray()
        for number, size in enumerate(line_sizes):
            accepted += bytes([ran[number]]) * size
        return BulkPrices(accepted, refused, result.complete, result.error_code)


def _by_product(updates: list[PriceUpdate]) -> dict[str, list[dict]]:
    products: dict[str, list[dict]] = {}
    for update_ in updates:
        products.setdefault(update_.external_product_id, []).append(
            {"id": update_.listing_external_id, "price": f"{update_.price:.2f}"})
    return products


def from_config(config, secrets: dict, policy: RetryPolicy | None = None) -> ShopifyConnector:
    """The registry's factory (see core.connectors.registry)."""
    revealed = {name: secret.reveal() for name, secret in secrets.items()}
    return ShopifyConnector(config.url, revealed.get("access_token"), client_id=revealed.get("client_id"),
                            client_secret=revealed.get("client_secret"), location_id=config.store_location_id,
                            api_version=config.api_version, mpn_metafield=config.mpn_field,
                            supplier_tag=config.supplier_marker, supplier_service=config.supplier_service,
                            policy=policy)
