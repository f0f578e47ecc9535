"""The demo store's state: products with variants, inventory per location, orders, and faults."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from core.demo_store.shopify_access import AppAccess

LOCATION_ID = "gid://shopify/Location/1"
BULK_FAULTS = ("fail", "partial", "expire", "gone", "busy")
FAULTS = ("429", "500", "timeout", "drop", "malformed", "throttle", "401", "vanish", "echo", "shapeless", "pass")


@dataclass
class DemoVariant:
    number: int
    title: str
    sku: str | None
    barcode: str | None
    price: Decimal
    mpn: str | None = None
    available: dict[str, int] = field(default_factory=dict)
    updated_at: str = "2026-11-01T00:00:00Z"
    status: str = "publish"  # WooCommerce: a simple product's or a variation's own status

    @property
    def gid(self) -> str:
        return f"gid://shopify/ProductVariant/{self.number}"

    @property
    def inventory_item(self) -> str:
        return f"gid://shopify/InventoryItem/{self.number}"


@dataclass
class DemoProduct:
    number: int
    title: str
    variants: list[DemoVariant]
    mpn: str | None = None  # WooCommerce: a variable product's own part-number meta (its variations' default)
    status: str = "ACTIVE"  # Shopify: ACTIVE, DRAFT (on no sales channel) or ARCHIVED

    @property
    def gid(self) -> str:
        return f"gid://shopify/Product/{self.number}"


@dataclass
class DemoOrderLine:
    number: int
    variant: DemoVariant | None
    title: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal = Decimal("0")  # a fraction, as Shopify reports it (0.0825)


@dataclass
class DemoOrder:
    number: int
    name: str
    created_at: str
    updated_at: str
    email: str | None
    customer: str | None
    phone: str | None
    address: list[str]
    lines: list[DemoOrderLine]
    shipping: Decimal = Decimal("0.00")
    tags: list[str] = field(default_factory=list)
    cancelled_at: str | None = None
    financial_status: str = "AUTHORIZED"
    fulfilled_at: str | None = None
    refunds: list[dict] = field(default_factory=list)
    pickup_location: str | None = None  # the store location the customer collects it at (Shopify's id)
    payment_method: str = "stripe"  # WooCommerce's gateway id; "bacs" (bank transfer) cannot refund by API
    captures: int = 0  # payments taken: Shopify's orderCapture, or a gateway capturing as WooCommerce completes

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.number}"


class DemoStore:
    """Everything the store knows. One lock guards it: the loopback server answers from threads."""

    def __init__(self, products: list[DemoProduct] | None = None, orders: list[DemoOrder] | None = None,
                 *, access_token: str = "demo-token", consumer_key: str = "ck_demo", consumer_secret: str = "cs_demo",
                 bucket_size: float = 1000.0, restore_rate: float = 50.0):
        self.products = products or []
        self.orders = orders or []
        self.access_token = access_token
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.bucket_size, self.restore_rate = bucket_size, restore_rate
        self.bucket = bucket_size
        self.bucket_at: float | None = None
        self.throttled = 0  # THROTTLED answers given
        self.throttled_by: Counter = Counter()  # ... by the request's operation name
        self.lock = threading.RLock()
        self.faults: deque[str] = deque()
        self.requests: Counter[str] = Counter()
        self.timeout_seconds = 3.0
        self.hang_over = threading.Event()
        self.seen_nonces: set[str] = set()
        # The WooCommerce key's Permissions ("read", "write" or "read_write"), and whether the store
        # has Local Pickup (the Checkout block's "pickup_location" shipping method).
        self.consumer_key_permission = "read_write"
        self.offers_local_pickup = True
        # The Shopify app's access scopes (what the app was granted when installed), its client
        # credentials' tokens and the API versions served (core.demo_store.shopify_access).
        self.scopes = ["write_products", "write_inventory", "read_locations", "write_orders", "read_all_orders",
                       "write_merchant_managed_fulfillment_orders"]
        self.app = AppAccess()
        # Where the store keeps stock; its own id for each, and the name a pickup location shows.
        self.locations = {LOCATION_ID: "Main warehouse"}
        # Bulk operations (core.demo_store.shopify_bulk): their state, staged uploads, faults.
        self.bulk_operations: dict = {}
        self.bulk_sequence = 0
        self.bulk_threads: list[threading.Thread] = []
        self.bulk_faults: deque[str] = deque()
        self.staged_keys: set[str] = set()
        # Webhook subscriptions (platform, address, secret, topic); Shopify signs with the app's client secret.
        self.webhooks: list[tuple[str, str, str, str]] = []
        self.client_secret = "demo-client-secret"
        self.pings: list[tuple[str, int | None]] = []  # WooCommerce's pings to new webhooks: (address, answer)
        self.uploads: dict = {}
        self._by_item: dict[str, DemoVariant] | None = None
        self._products_in_order: list[DemoProduct] | None = None
        self._variants_in_order: tuple[list[int], list] | None = None
        self._woo: tuple[dict, dict] | None = None

    def fail_next(self, *faults: str) -> None:
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
        with self.lock:
            self.faults.extend(faults)

    def subscribe(self, platform: str, url: str, secret: str, topic: str) -> None:
        self.webhooks.append((platform, url, secret, topic))

    def ping(self, url: str, webhook_id: int) -> None:
        """WooCommerce's test ping to a new webhook's delivery address; its answer is kept."""
        import httpx

        try:
            status = httpx.post(url, content=f"webhook_id={webhook_id}".encode(), timeout=5,
                                headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code
        except httpx.HTTPError:
            status = None
        with self.lock:
            self.pings.append((url, status))

    def place_order(self, order: DemoOrder) -> None:
        """A customer's order: the store lowers its own stock, then tells its webhook subscribers
        (from a thread, as a platform's delivery queue does)."""
        with self.lock:
            for line in order.lines:
                if line.variant is not None:
                    for location in list(line.variant.available)[:1]:
                        line.variant.available[location] -= line.quantity
            self.orders.append(order)
            subscribers = [hook for hook in self.webhooks if hook[3] in ("ORDERS_CREATE", "order.created")]
        if subscribers:
            threading.Thread(target=_deliver, args=(order, subscribers), daemon=True).start()

    def fail_next_bulk(self, *faults: str) -> None:
        for fault in faults:
            if fault not in BULK_FAULTS:
                raise ValueError(f"unknown bulk fault {fault!r}")
        with self.lock:
            self.bulk_faults.extend(faults)

    def next_fault(self) -> str | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def variants(self) -> list[tuple[DemoProduct, DemoVariant]]:
        return [(product, variant) for product in self.products for variant in product.variants]

    def woo_indexes(self) -> tuple[dict[int, DemoVariant], dict[int, DemoProduct]]:
        """Simple products' variants by product number, and each variant's product."""
        if self._woo is None:
            simple = {p.number: p.variants[0] for p in self.products if len(p.variants) == 1}
            self._woo = (simple, {v.number: p for p in self.products for v in p.variants})
        return self._woo

    def products_in_order(self) -> list[DemoProduct]:
        if self._products_in_order is None:
            self._products_in_order = sorted(self.products, key=lambda p: p.number)
        return self._products_in_order

    def variants_in_order(self) -> tuple[list[int], list[tuple[DemoProduct, DemoVariant]]]:
        """Every variant by number, with the numbers alone for bisecting a page's start."""
        if self._variants_in_order is None:
            pairs = sorted(self.variants(), key=lambda pair: pair[1].number)
            self._variants_in_order = ([variant.number for _, variant in pairs], pairs)
        return self._variants_in_order

    def variant_by_item(self) -> dict[str, DemoVariant]:
        # Products never change shape after the store is built, so the index is built once.
        if self._by_item is None:
            self._by_item = {variant.inventory_item: variant for _, variant in self.variants()}
        return self._by_item

    def touch(self) -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _deliver(order: DemoOrder, subscribers) -> None:
    import json

    import httpx

    from core.webhooks import sign

    for platform, url, secret, topic in subscribers:
        body = json.dumps({"id": order.number}).encode()
        signature = sign(secret, body)
        headers = ({"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Event-Id": f"demo-{order.number}",
                    "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()} if platform == "shopify"
                   else {"X-WC-Webhook-Signature": signature, "X-WC-Webhook-Topic": topic,
                         "X-WC-Webhook-Delivery-ID": f"demo-{order.number}"})
        try:
            httpx.post(url, content=body, headers={**headers, "Content-Type": "application/json"}, timeout=5)
        except httpx.HTTPError:
            pass  # a platform retries later; the watcher's polls find the order anyway
