"""WooCommerce, through the REST API v3.

Credentials are a consumer key and secret: HTTP Basic over https, or a one-legged OAuth 1.0a
signature (HMAC-SHA256) over plain http, which core.connectors.http only allows to loopback.
Writes use the batch endpoints, at most 100 items a call; orders are read with
`modified_after`, 100 a page, walking forward by modification time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterator
from urllib.parse import quote, urlsplit

import httpx

from core.i18n import N_, _, ngettext
from core.connectors.base import (
    WARN, CheckContext, ConnectorError, CredentialError, ListingData, OrderLine, OutcomeUnknown, PartNumberSample,
    PriceUpdate, RequestCounter, StockUpdate, StoreRefusal, VisibilityUpdate, WebOrder, read_order, reading,
)
from core.connectors.http import RetryPolicy, StoreClient
from core.secrets import remember_pair

API = "/wp-json/wc/v3"
BATCH = 100  # the documented maximum of items in one batch request
PAGE = 100
# Only the fields Tandem reads (WordPress's `_fields`): a page of 100 orders is a fraction of its full size.
PRODUCT_FIELDS = "id,name,sku,price,global_unique_id,meta_data,date_modified_gmt,type,variations"
VARIATION_FIELDS = "id,sku,price,global_unique_id,meta_data,date_modified_gmt,attributes"
ORDER_FIELDS = ("id,number,status,currency,date_created_gmt,date_modified_gmt,date_completed_gmt,billing,shipping,"
                "line_items,shipping_lines,shipping_total,shipping_tax,total_tax,total,meta_data")
CONFIRM_ATTEMPTS = 3  # sends of one refund or completion, each after reading that the store has none
# `tandem --check`: what it reads of the products, and how far it looks. The `sku` filter documents
# one SKU a request (several, comma-separated, work but are not documented), so SKUs are looked up
# one by one, and only a few; linked listings are read by id, a page at once.
CHECK_FIELDS = "id,sku,type,parent_id,meta_data"
CHECK_SKUS = 10
CHECK_PARENTS = 10  # variable products whose linked variations are read, a request each
PICKUP_METHOD = "pickup_location"  # WooCommerce's Local Pickup (the Checkout block's), by its method id


def _enc(value: str) -> str:
    return quote(str(value), safe="~-._")


def _second_before(moment: str) -> str:
    """The second before a cursor, as `modified_after` wants it (ISO 8601, UTC, no zone)."""
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        raise ConnectorError(_('the saved order cursor {moment} is not a date').format(moment=repr(moment))) from None
    return (parsed.replace(tzinfo=None) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")


def oauth_signature(method: str, url: str, params: dict[str, str], consumer_secret: str) -> str:
    """OAuth 1.0a signature (RFC 5849 §3.4) with HMAC-SHA256, as WooCommerce checks it on http."""
    normalized = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted((str(k), str(v)) for k, v in params.items()))
    base = "&".join([method.upper(), _enc(url), _enc(normalized)])
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class OAuth1Auth(httpx.Auth):
    """One-legged OAuth 1.0a in the query string, for plain http to a loopback store."""

    def __init__(self, consumer_key: str, consumer_secret: str):
        self._key, self._secret = consumer_key, consumer_secret

    def auth_flow(self, request: httpx.Request):
        url = request.url
        params = dict(url.params)
        params |= {
            "oauth_consumer_key": self._key, "oauth_timestamp": str(int(time.time())),
            "oauth_nonce": secrets.token_hex(16), "oauth_signature_method": "HMAC-SHA256",
        }
        base_url = f"{url.scheme}://{url.host}{':' + str(url.port) if url.port else ''}{url.path}"
        params["oauth_signature"] = oauth_signature(request.method, base_url, params, self._secret)
        request.url = url.copy_with(params=params)
        yield request


def _money(value) -> Decimal:
    try:
        return Decimal(str(value or "0")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ConnectorError(_('the store sent an amount that is not a number: {value}').format(value=repr(value))) from None


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", ""))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _meta(item: dict, key: str | None) -> str | None:
    if not key:
        return None
    for entry in item.get("meta_data") or []:
        if entry.get("key") == key and entry.get("value") not in (None, ""):
            return str(entry["value"])
    return None


def listing_id(product_id, variation_id=0) -> str:
    return f"variation:{product_id}:{variation_id}" if variation_id else f"product:{product_id}"


def _barcode(item: dict, barcode_key: str | None) -> str | None:
    """WooCommerce 9.2+ keeps a product's GTIN/UPC/EAN/ISBN in `global_unique_id`; stores that keep
    it in a plugin's meta key name that key in the `barcode_field` setting."""
    if barcode_key:
        return _meta(item, barcode_key)
    return item.get("global_unique_id") or None


def parse_product(product: dict, mpn_key: str | None, barcode_key: str | None = None) -> ListingData:
    return ListingData(
        external_id=listing_id(product["id"]), title=product.get("name") or str(product["id"]),
        product_code=product.get("sku") or None, barcode=_barcode(product, barcode_key),
        part_number=_meta(product, mpn_key), price=_money(product["price"]) if product.get("price") else None,
        external_product_id=str(product["id"]), remote_updated_at=_time(product.get("date_modified_gmt")),
    )


def parse_variation(parent: dict, variation: dict, mpn_key: str | None, barcode_key: str | None = None) -> ListingData:
    options = " ".join(str(a.get("option", "")) for a in variation.get("attributes") or [])
    return ListingData(
        external_id=listing_id(parent["id"], variation["id"]),
        title=f"{parent.get('name', '')} {options}".strip() or str(variation["id"]),
        product_code=variation.get("sku") or None, barcode=_barcode(variation, barcode_key),
        part_number=_meta(variation, mpn_key) or _meta(parent, mpn_key),
        price=_money(variation["price"]) if variation.get("price") else None,
        external_product_id=str(parent["id"]), remote_updated_at=_time(variation.get("date_modified_gmt")),
    )


def _address(address: dict | None) -> str | None:
    if not address:
        return None
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    parts = [name, address.get("company"), address.get("address_1"), address.get("address_2"),
             " ".join(p for p in (address.get("postcode"), address.get("city"), address.get("state")) if p),
             address.get("country")]
    text = "\n".join(p for p in parts if p)
    return text or None


def parse_order(order: dict, supplier_meta: str | None, shipped_meta: str | None) -> WebOrder:
    lines = []
    for item in order.get("line_items") or []:
        quantity = int(item["quantity"])
        total, tax = _money(item.get("total")), _money(item.get("total_tax"))
        subtotal = _money(item.get("subtotal"))
        rate = (tax / total * 100).quantize(Decimal("0.0001")) if total else Decimal("0")
        lines.append(OrderLine(
            external_id=str(item["id"]), title=item.get("name") or "", quantity=quantity,
            unit_price=(subtotal / quantity).quantize(Decimal("0.01")) if quantity else _money(item.get("price")),
            product_code=item.get("sku") or None, barcode=item.get("global_unique_id") or None,
            listing_external_id=listing_id(item["product_id"], item.get("variation_id") or 0),
            discount=subtotal - total, tax_rate=rate, tax_amount=tax,
        ))
    billing = order.get("billing") or {}
    supplier = (_meta(order, supplier_meta) or "").lower() in ("1", "yes", "true")
    shipped = _time(_meta(order, shipped_meta)) if supplier else None
    name = " ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p) or None
    pickup = next(pickup_names(order), None)
    return WebOrder(
        external_id=str(order["id"]), order_number=f"#{order.get('number') or order['id']}",
        status=order.get("status") or "", ordered_at=_time(order.get("date_created_gmt")),
        updated_at=_time(order.get("date_modified_gmt")), currency=order.get("currency") or "USD",
        lines=lines, customer_name=name, customer_email=billing.get("email") or None,
        customer_phone=billing.get("phone") or None, billing_address=_address(billing),
        shipping_address=_address(order.get("shipping")),
        subtotal=sum((line.unit_price * line.quantity for line in lines), Decimal("0.00")),
        shipping=_money(order.get("shipping_total")), shipping_tax=_money(order.get("shipping_tax")),
        tax_total=_money(order.get("total_tax")), total=_money(order.get("total")),
        cancelled=order.get("status") in ("cancelled", "refunded", "failed"), supplier_fulfilled=supplier,
        shipped_at=shipped or (_time(order.get("date_completed_gmt")) if supplier else None),
        pickup_location=str(pickup) if pickup else None,
    )


def pickup_names(order: dict) -> Iterator:
    """The pickup locations an order's shipping lines name: WooCommerce's Local Pickup (method
    "pickup_location") keeps the chosen location's name in its line's meta."""
    return (entry.get("value") for line in order.get("shipping_lines") or []
            if line.get("method_id") == PICKUP_METHOD
            for entry in line.get("meta_data") or [] if entry.get("key") == "pickup_location")


def _same_name(name) -> str:
    return str(name).strip().casefold()


def _total_pages(response: httpx.Response) -> int:
    try:
        return int(response.headers.get("X-WP-TotalPages", "1") or 1)
    except ValueError:
        raise ConnectorError(_("the store sent a page count that is not a number")) from None


def check_batch_response(body: dict) -> None:
    if not isinstance(body, dict):
        raise ConnectorError(_("the store sent a batch answer that is not an object"))
    for action in ("create", "update", "delete"):
        for item in body.get(action) or []:
            if isinstance(item, dict) and item.get("error"):
                error = item["error"]
                raise ConnectorError(_('the store refused item {value}: {value2}').format(value=item.get('id'), value2=error.get('message', error)))


class WooCommerceConnector:
    stock_batch_size = BATCH
    price_batch_size = BATCH
    prices_per_product = False
    needs_inventory_item = False
    hides_whole_products = False  # a simple product's or a variation's own status

    def __init__(self, store_url: str, consumer_key: str, consumer_secret: str, *, mpn_meta_key: str | None = "mpn",
                 supplier_meta_key: str | None = "supplier_fulfilled",
                 shipped_meta_key: str | None = "supplier_shipped_at", barcode_meta_key: str | None = None,
                 transport=None,
                 policy: RetryPolicy | None = None, sleep=time.sleep):
        self.counter = RequestCounter()
        remember_pair(consumer_key, consumer_secret)
        scheme = urlsplit(store_url).scheme
        auth = httpx.BasicAuth(consumer_key, consumer_secret) if scheme == "https" else OAuth1Auth(
            consumer_key, consumer_secret)
        self.client = StoreClient(
            store_url, auth=auth, transport=transport, policy=policy, counter=self.counter, sleep=sleep,
            credential_hint=N_("the channel's WooCommerce consumer key and secret (tandem --set-secret CHANNEL)"),
        )
        self.mpn_key, self.supplier_key, self.shipped_key = mpn_meta_key, supplier_meta_key, shipped_meta_key
        self.barcode_key = barcode_meta_key

    def close(self) -> None:
        self.client.close()

    def _json(self, response: httpx.Response, kind: str):
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(_('the store sent a {kind} answer that is not JSON').format(kind=kind)) from None

    def _pages(self, path: str, kind: str, params: dict) -> Iterator[list[dict]]:
        page = 1
        while True:
            response = self.client.request("GET", f"{API}{path}", kind, params={**params, "per_page": PAGE, "page": page})
            items = self._json(response, kind)
            if not isinstance(items, list):
                raise ConnectorError(_('the store sent a {kind} answer that is not a list').format(kind=kind))
            yield items
            if page >= _total_pages(response) or not items:
                return
            page += 1

    def listings(self) -> Iterator[list[ListingData]]:
        for products in self._pages("/products", "listings", {"orderby": "id", "order": "asc",
                                                              "_fields": PRODUCT_FIELDS}):
            page = []
            for product in products:
                with reading("products"):
                    variable = product.get("type") == "variable" and product.get("variations")
                    if not variable:
                        page.append(parse_product(product, self.mpn_key, self.barcode_key))
                        continue
                    path = f"/products/{int(product['id'])}/variations"
                for variations in self._pages(path, "listings", {"_fields": VARIATION_FIELDS}):
                    with reading("variations"):
                        page += [parse_variation(product, v, self.mpn_key, self.barcode_key) for v in variations]
            yield page

    def orders_since(self, cursor: str | None) -> Iterator[tuple[list[WebOrder], str | None]]:
        """Orders modified after the cursor, oldest first, each page with the cursor that covers it.

        Pages are walked by time, not by page number: every request asks again for what was
        modified after the newest second already read, less one second. An order deleted or
        edited meanwhile then shifts nothing (with page numbers, the order after a deleted one
        would be skipped), and orders sharing the cursor's second are read again rather than
        lost, since `modified_after` is strict and WooCommerce keeps whole seconds. What is read
        twice is stored once. Only when a whole page shares one second does it fall back to the
        next page number for that second.
        """
        params = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true", "_fields": ORDER_FIELDS}
        after = _second_before(cursor) if cursor else None
        seen: set[str] = set()
        page = 1
        while True:
            query = {**params, **({"modified_after": after} if after else {}), "per_page": PAGE, "page": page}
            response = self.client.request("GET", f"{API}/orders", "orders", params=query)
            items = self._json(response, "orders")
            if not isinstance(items, list):
                raise ConnectorError(_("the store sent an orders answer that is not a list"))
            orders = [read_order(o, parse_order, self.supplier_key, self.shipped_key) for o in items]
            newest = max((o.updated_at for o in orders if o.updated_at), default=None)
            fresh = [o for o in orders if o.external_id not in seen]
            seen.update(o.external_id for o in orders)
            cursor = newest.strftime("%Y-%m-%dT%H:%M:%S") if newest else cursor
            yield fresh, cursor
            if page >= _total_pages(response) or len(items) < PAGE or newest is None:
                return
            following = _second_before(cursor)
            if following == after:
                page += 1  # a whole page in one second: only the page number can move on
            else:
                after, page = following, 1

    def _batch(self, updates: list[tuple[str, dict]], kind: str) -> None:
        """Updates keyed by listing id; simple products in one call, each parent's variations in another."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for external_id, fields in updates:
            parts = external_id.split(":")
            if parts[0] == "variation":
                groups[f"/products/{parts[1]}/variations/batch"].append({"id": int(parts[2]), **fields})
            else:
                groups["/products/batch"].append({"id": int(parts[1]), **fields})
        for path, items in groups.items():
            for start in range(0, len(items), BATCH):
                response = self.client.request("POST", f"{API}{path}", kind, json={"update": items[start:start + BATCH]})
                check_batch_response(self._json(response, kind))

    def register_webhooks(self, callback_url: str, secret: str | None = None) -> list[str]:
        """Subscribe `callback_url` to new and changed orders, signed with `secret`."""
        if not secret:
            raise ConnectorError(_("set the channel's webhook_secret first: WooCommerce signs with it"))
        made = []
        for topic in ("order.created", "order.updated"):
            response = self.client.request("POST", f"{API}/webhooks", "register_webhook", json={
                "name": f"Tandem {topic}", "topic": topic, "delivery_url": callback_url, "secret": secret,
                "status": "active"})
            with reading("register_webhook"):
                made.append(str(self._json(response, "register_webhook")["id"]))
        return made

    def capture(self, order_external_id: str, amount: Decimal) -> str | None:
        """WooCommerce's REST API cannot capture: payment gateways capture on their own side.
        None tells the caller to record that the payment was captured elsewhere."""
        return None

    def _refund_made(self, order_external_id: str, reason: str) -> str | None:
        existing = self._json(self.client.request("GET", f"{API}/orders/{order_external_id}/refunds", "refund"),
                              "refund")
        with reading("refunds"):
            return next((str(refund.get("id") or "already refunded") for refund in existing or []
                         if reason in (refund.get("reason") or "")), None)

    def refund(self, order_external_id: str, amount: Decimal, key: str) -> str:
        """An order refund on the website, once: its reason carries `key`. Before every send the
        order's refunds are read, and one with the key is the answer; a lost answer is never
        followed by a blind second refund."""
        reason = f"Tandem return {key}"
        for _attempt in range(CONFIRM_ATTEMPTS):
            if made := self._refund_made(order_external_id, reason):
                return made
            try:
                response = self.client.request(
                    "POST", f"{API}/orders/{order_external_id}/refunds", "refund", idempotent=False,
                    json={"amount": f"{amount:.2f}", "reason": reason, "api_refund": True})
            except OutcomeUnknown:
                continue
            created = self._json(response, "refund")
            with reading("refund"):
                return str(created.get("id", ""))
        if made := self._refund_made(order_external_id, reason):
            return made
        raise OutcomeUnknown(_("the store's answer to the refund was lost several times and the order shows no such "
                             "refund; look at the order on the website before trying again"))

    def _status(self, order_external_id: str) -> str | None:
        order = self._json(self.client.request("GET", f"{API}/orders/{order_external_id}", "complete"), "complete")
        with reading("order"):
            return order.get("status")

    def cancel(self, order_external_id: str) -> str:
        """Set the order cancelled on the website. WooCommerce itself holds no authorisation: its
        payment gateway does, and voids it or lets it lapse by its own rules — staff are told so."""
        response = self.client.request("PUT", f"{API}/orders/{order_external_id}", "cancel", json={"status": "cancelled"})
        order = self._json(response, "cancel")
        if not isinstance(order, dict) or order.get("status") != "cancelled":
            raise ConnectorError(_("the store did not mark the order cancelled"))
        return (_("Cancelled on the website too. WooCommerce leaves the card authorisation to its payment gateway: "
                "check there that it is voided."))

    def complete(self, order_external_id: str) -> None:
        """Mark the order completed (which is when many gateways capture). After a lost answer the
        order is read first: one already completed is not completed again."""
        for attempt in range(CONFIRM_ATTEMPTS):
            if attempt and self._status(order_external_id) == "completed":
                return
            try:
                response = self.client.request("PUT", f"{API}/orders/{order_external_id}", "complete",
                                               idempotent=False, json={"status": "completed"})
            except OutcomeUnknown:
                continue
            order = self._json(response, "complete")
            if not isinstance(order, dict) or order.get("status") != "completed":
                raise ConnectorError(_("the store did not mark the order completed"))
            return
        if self._status(order_external_id) != "completed":
            raise OutcomeUnknown(_("the store's answer was lost several times; the order is not completed yet"))

    def check(self, context: CheckContext) -> list[tuple[bool | str, str]]:
        """What `tandem --check` reports for this store, one (verdict, line) per point: the keys are
        accepted, they may write, the part-number meta key is where the shop's part numbers are,
        and the Local Pickup locations the channel names (if any) are known to the store."""
        self.client.request("GET", f"{API}/products", "check", params={"per_page": 1, "_fields": "id"})
        lines: list[tuple[bool | str, str]] = [(True, _("the consumer key and secret are accepted"))]
        lines.append(self._check_write())
        lines.append(self._check_part_numbers(context.part_numbers))
        if context.store_locations:
            lines += self._check_pickup(context.store_locations)
        lines.append((True, _("WooCommerce keeps one stock per product: Tandem sends the sum of the {count} shop "
                              "locations the channel names").format(count=len(context.store_locations))
                      if len(context.store_locations) > 1 else
                      _("WooCommerce keeps one stock per product: Tandem sends the stock of the channel's shop "
                        "location")))
        return lines

    def _check_write(self) -> tuple[bool | str, str]:
        """A batch that creates, updates and deletes nothing: WooCommerce refuses any write made with
        a Read key (HTTP 401) before reaching the route, and does nothing with a Read/Write key."""
        try:
            self.client.request("POST", f"{API}/products/batch", "check",
                                json={"create": [], "update": [], "delete": []})
        except CredentialError:
            return False, _("the consumer key is read-only (or its user may not edit products): in WooCommerce → "
                            "Settings → Advanced → REST API, open the key and set its Permissions to Read/Write")
        except StoreRefusal as exc:
            return False, _("the write test (a batch that changes nothing) failed: {reason}").format(reason=exc)
        return True, _("the consumer key may write too (its Permissions are Read/Write)")

    def _check_part_numbers(self, samples: tuple[PartNumberSample, ...]) -> tuple[bool | str, str]:
        """The meta key must be filled on some web product of a shop product that has a part
        number; other products (the newest, say) may well have none."""
        key = repr(self.mpn_key)
        if not samples:
            return True, _("no shop product has a part number: nothing to check")
        found = self._linked_listings(samples) or self._listings_by_sku(samples)
        filled = [listing for listing in found if listing.part_number]
        if filled:
            return True, ngettext(
                "the part-number meta key {key} is filled on {filled} of {found} web product of shop products that "
                "have a part number",
                "the part-number meta key {key} is filled on {filled} of {found} web products of shop products that "
                "have a part number", len(found)).format(key=key, filled=len(filled), found=len(found))
        if found:
            return False, ngettext(
                "the {found} web product found for a shop product that has a part number lacks the meta key {key} "
                "(SKU {example}): check part_number_field in the channel's settings, or fill that custom field on "
                "the product",
                "none of the {found} web products found for shop products that have a part number has the meta key "
                "{key} (for example SKU {example}): check part_number_field in the channel's settings, or fill that "
                "custom field on the products", len(found)).format(
                found=len(found), key=key, example=found[0].product_code or found[0].external_id)
        return WARN, _("no web product was found for the shop's products that have a part number, so the meta key "
                       "{key} cannot be checked yet: run tandem --sync, then check again").format(key=key)

    def _products(self, params: dict) -> list[dict]:
        response = self.client.request("GET", f"{API}/products", "check", params={**params, "_fields": CHECK_FIELDS})
        items = self._json(response, "check")
        if not isinstance(items, list):
            raise ConnectorError(_("the store sent a products answer that is not a list"))
        return items

    def _linked_listings(self, samples: tuple[PartNumberSample, ...]) -> list[ListingData]:
        """The listings linked to the samples, read by id: simple products in one request, each
        variable product's linked variations in one more (a variation without the meta has its
        parent's, as `listings()` reads it)."""
        simple: set[int] = set()
        variations: dict[int, set[int]] = defaultdict(set)
        for external_id in (listing for sample in samples for listing in sample.listing_ids):
            kind, _colon, rest = external_id.partition(":")
            numbers = [int(part) for part in rest.split(":") if part.isdigit()]
            if kind == "product" and len(numbers) == 1:
                simple.add(numbers[0])
            elif kind == "variation" and len(numbers) == 2 and (numbers[0] in variations
                                                                 or len(variations) < CHECK_PARENTS):
                variations[numbers[0]].add(numbers[1])
        wanted = sorted(simple)[:PAGE - len(variations)] + sorted(variations)
        if not wanted:
            return []
        products = self._products({"include": ",".join(map(str, wanted)), "per_page": PAGE})
        found = []
        with reading("check"):
            by_id = {int(product["id"]): product for product in products}
            found += [parse_product(by_id[number], self.mpn_key) for number in sorted(simple) if number in by_id]
        for parent, numbers in variations.items():
            if parent not in by_id:
                continue
            response = self.client.request("GET", f"{API}/products/{parent}/variations", "check", params={
                "include": ",".join(map(str, sorted(numbers))), "per_page": PAGE, "_fields": CHECK_FIELDS})
            with reading("check"):
                found += [parse_variation(by_id[parent], variation, self.mpn_key)
                          for variation in self._json(response, "check")]
        return found

    def _listings_by_sku(self, samples: tuple[PartNumberSample, ...]) -> list[ListingData]:
        """Web products with the SKU of a sample, shop products not linked yet first, one request
        each. The `sku` filter lists variations too; one without the meta has its parent's."""
        skus = list(dict.fromkeys(sample.sku for sample in sorted(samples, key=lambda s: bool(s.listing_ids))
                                  if sample.sku))[:CHECK_SKUS]
        with reading("check"):
            matches = [item for sku in skus for item in self._products({"sku": sku, "per_page": PAGE})
                       if item.get("sku") == sku]  # exact: the filter also splits a SKU at its commas
            parents = {int(item["parent_id"]) for item in matches if item.get("type") == "variation"
                       and not _meta(item, self.mpn_key)}
        parent_products = (self._products({"include": ",".join(map(str, sorted(parents))), "per_page": PAGE})
                           if parents else [])
        with reading("check"):
            by_id = {int(parent["id"]): parent for parent in parent_products}
            return [parse_variation(by_id.get(int(item["parent_id"]), {"id": item["parent_id"]}), item, self.mpn_key)
                    if item.get("type") == "variation" else parse_product(item, self.mpn_key) for item in matches]

    def _check_pickup(self, names: tuple[str, ...]) -> list[tuple[bool | str, str]]:
        """WooCommerce's REST API does not list Local Pickup locations (they are an option, with no
        route): what it shows is whether the method exists, and which locations recent orders were
        collected at. A name none of them carries may be misspelt, or merely not chosen lately."""
        methods = self._json(self.client.request("GET", f"{API}/shipping_methods", "check"), "check")
        with reading("shipping methods"):
            offered = any(method["id"] == PICKUP_METHOD for method in methods)
        if not offered:
            return [(False, _("the channel's locations name Local Pickup locations, but this WooCommerce has no Local "
                              "Pickup: turn it on in WooCommerce → Settings → Shipping → Local pickup (it needs the "
                              "Checkout block)"))]
        response = self.client.request("GET", f"{API}/orders", "check", params={
            "per_page": PAGE, "orderby": "date", "order": "desc", "_fields": "id,shipping_lines"})
        orders = self._json(response, "check")
        if not isinstance(orders, list):
            raise ConnectorError(_("the store sent an orders answer that is not a list"))
        with reading("orders"):
            seen = {_same_name(name) for order in orders for name in pickup_names(order) if name}
        lines: list[tuple[bool | str, str]] = [(True, _("WooCommerce offers Local Pickup"))]
        for name in names:
            if _same_name(name) in seen:
                lines.append((True, _("the pickup location “{name}” is on recent pickup orders").format(name=name)))
            elif not orders:
                lines.append((WARN, _("the store has no orders yet to show the pickup location “{name}”: check its "
                                      "spelling against WooCommerce → Settings → Shipping → Local pickup").format(
                    name=name)))
            else:
                lines.append((WARN, ngettext(
                    "the pickup location “{name}” was not chosen on the store's {count} recent order: check its "
                    "spelling against WooCommerce → Settings → Shipping → Local pickup",
                    "the pickup location “{name}” was not chosen on any of the store's {count} recent orders: check "
                    "its spelling against WooCommerce → Settings → Shipping → Local pickup", len(orders)).format(
                    name=name, count=len(orders))))
        return lines

    def set_stock(self, updates: list[StockUpdate]) -> None:
        self._batch([(u.listing_external_id, {"manage_stock": True, "stock_quantity": u.quantity}) for u in updates],
                    "set_stock")

    def set_prices(self, updates: list[PriceUpdate]) -> None:
        self._batch([(u.listing_external_id, {"regular_price": f"{u.price:.2f}"}) for u in updates], "set_prices")

    def published(self, updates: list[VisibilityUpdate]) -> set[str]:
        """The listings among these the store has published now (status "publish")."""
        simple: list[int] = []
        variations: dict[str, list[int]] = defaultdict(list)
        for u in updates:
            parts = u.listing_external_id.split(":")
            if parts[0] == "variation":
                variations[parts[1]].append(int(parts[2]))
            else:
                simple.append(int(parts[1]))
        asked = [("/products", "product:{}", simple)] + [
            (f"/products/{parent}/variations", f"variation:{parent}:{{}}", ids) for parent, ids in variations.items()]
        shown = set()
        for path, named, ids in asked:
            for start in range(0, len(ids), PAGE):
                chunk = ids[start:start + PAGE]
                response = self.client.request("GET", f"{API}{path}", "statuses", params={
                    "include": ",".join(map(str, chunk)), "_fields": "id,status", "per_page": PAGE})
                with reading("statuses"):
                    shown |= {named.format(item["id"]) for item in self._json(response, "statuses")
                              if item.get("status") == "publish"}
        return shown

    def set_visibility(self, updates: list[VisibilityUpdate]) -> None:
        """"private": only the shop's admins see it, nothing is deleted; "publish" puts it back."""
        self._batch([(u.listing_external_id, {"status": "publish" if u.visible else "private"}) for u in updates],
                    "set_status")


def from_config(config, secrets: dict, policy: RetryPolicy | None = None) -> WooCommerceConnector:
    """The registry's factory (see core.connectors.registry)."""
    return WooCommerceConnector(config.url, secrets["consumer_key"].reveal(), secrets["consumer_secret"].reveal(),
                                mpn_meta_key=config.mpn_field, supplier_meta_key=config.supplier_marker,
                                shipped_meta_key=config.supplier_shipped_field,
                                barcode_meta_key=config.barcode_field, policy=policy)
