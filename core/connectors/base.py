"""What every connector offers, in the shapes the rest of Tandem uses."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterator, Protocol

from core.i18n import _
from core.secrets import redact


class ConnectorError(Exception):
    """The store could not be reached or refused the request; the message is meant for staff.
    Store text often echoes the request, so every known secret is masked out of it at once."""

    def __init__(self, message: str = ""):
        super().__init__(redact(message))


class OutcomeUnknown(ConnectorError):
    """A request that changes the store was sent, and its answer was lost: the store may or may not
    have acted. Never resent blindly; the caller reads the store's state first."""


class StoreRefusal(ConnectorError):
    """The store answered with a reason why it will not do this; asking again changes nothing."""

    def __init__(self, message: str = "", reason: str | None = None):
        super().__init__(message)
        self.reason = redact(reason) if reason else None  # the store's own words alone


SHAPE_ERRORS = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, IndexError)


@contextmanager
def reading(kind: str):
    """Around code that reads a store's answer: a field missing or of the wrong type becomes a
    ConnectorError saying which answer and what was wrong, never a traceback."""
    try:
        yield
    except ConnectorError:
        raise
    except SHAPE_ERRORS as exc:
        raise ConnectorError(_('the store sent a {kind} answer Tandem cannot read ({value})').format(kind=kind, value=shape_problem(exc))) from None


def shape_problem(exc: Exception) -> str:
    """What was wrong with an answer, from the error reading it raised."""
    if isinstance(exc, KeyError) and exc.args:
        return _('no {value:.40} field').format(value=str(exc.args[0]))
    if isinstance(exc, ArithmeticError):
        return _("an amount that is not a number")
    if isinstance(exc, ValueError):
        return _("a value of the wrong kind")
    return _("a field of the wrong type")


WARN = "warn"  # a `tandem --check` point that holds for now but wants someone to look


@dataclass(frozen=True)
class PartNumberSample:
    """A shop product that has a part number, with the web listings of this channel linked to it
    (none before the first sync): where `--check` looks for the store's part-number field."""

    sku: str
    part_number: str
    barcode: str | None = None
    listing_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckContext:
    """What `tandem --check` knows of a channel beyond its connector: the store locations named in
    its settings (Shopify: location ids, the channel's own when empty; WooCommerce: Local Pickup
    location names), shop products that have a part number, and the shop's date."""

    store_locations: tuple[str, ...] = ()
    part_numbers: tuple[PartNumberSample, ...] = ()
    today: date | None = None


class CredentialError(ConnectorError):
    """The store refused the credentials (401/403). Says which one to fix; never shows it."""


@dataclass(frozen=True)
class ListingData:
    """A product (or variant) as a web store lists it."""

    external_id: str
    title: str
    product_code: str | None = None
    barcode: str | None = None
    part_number: str | None = None
    price: Decimal | None = None
    external_product_id: str | None = None
    inventory_item_id: str | None = None
    remote_updated_at: datetime | None = None


@dataclass(frozen=True)
class OrderLine:
    external_id: str
    title: str
    quantity: int
    unit_price: Decimal
    product_code: str | None = None
    barcode: str | None = None
    part_number: str | None = None
    listing_external_id: str | None = None
    discount: Decimal = Decimal("0.00")
    tax_rate: Decimal = Decimal("0")
    tax_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class WebOrder:
    external_id: str
    order_number: str
    status: str
    ordered_at: datetime
    updated_at: datetime
    currency: str
    lines: list[OrderLine]
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    billing_address: str | None = None
    shipping_address: str | None = None
    subtotal: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    shipping_tax: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    cancelled: bool = False
    supplier_fulfilled: bool = False
    shipped_at: datetime | None = None
    tags: tuple[str, ...] = ()
    # Where the customer collects it, as the store names it (Shopify location id, WooCommerce pickup
    # location name); None for an order that ships.
    pickup_location: str | None = None


@dataclass(frozen=True)
class StockUpdate:
    """Set the available quantity of one listing at a store location (None: the channel's own)."""

    listing_external_id: str
    inventory_item_id: str | None
    quantity: int
    store_location: str | None = None


@dataclass(frozen=True)
class PriceUpdate:
    listing_external_id: str
    external_product_id: str | None
    price: Decimal


@dataclass(frozen=True)
class VisibilityUpdate:
    """Publish or unpublish a listing (never delete it): a product sold in store only is taken off
    the web store's shelves, and put back when the rule goes. `external_product_id` is what a
    platform that hides whole products (Shopify) acts on."""

    listing_external_id: str
    external_product_id: str | None
    visible: bool
    was_ours: bool = False  # publishing again: Tandem unpublished it (nothing else is ever published)


@dataclass
class RequestCounter:
    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    throttled: int = 0  # answers refusing for lack of rate-limit budget (Shopify's THROTTLED)
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.requests += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class Connector(Protocol):
    """What Tandem asks of a web store. Each platform module (Shopify, WooCommerce, the demo store)
    provides one, built by `core.connectors.registry.connector_for`."""

    counter: RequestCounter
    stock_batch_size: int  # the platform's documented maximum per stock call
    price_batch_size: int  # ... per price call
    prices_per_product: bool  # a price call takes one product's variants only (Shopify)
    needs_inventory_item: bool  # stock is set per inventory item: listings without one keep no stock

    def listings(self) -> Iterator[list[ListingData]]:
        """The store's products and variants, a page at a time."""

    def orders_since(self, cursor: str | None) -> Iterator[tuple[list[WebOrder], str | None]]:
        """Orders changed since the cursor, a page at a time, each with the cursor after it."""

    def set_stock(self, updates: list[StockUpdate]) -> None:
        """One call for at most `stock_batch_size` updates."""

    def set_prices(self, updates: list[PriceUpdate]) -> None:
        """One call for at most `price_batch_size` updates."""

    # Unpublishing (channel rules, "in store only"): `hides_whole_products` says whether the platform
    # hides a product with all its variants (Shopify: its status) or each listing (WooCommerce: a
    # product's or a variation's status); `set_visibility(updates)` takes at most `price_batch_size`.
    hides_whole_products: bool

    def set_visibility(self, updates: list[VisibilityUpdate]) -> None:
        """Publish or unpublish, in one call."""

    def published(self, updates: list[VisibilityUpdate]) -> set[str]:
        """Which of these the store shows now (Shopify: product ids; WooCommerce: listing ids), read
        just before unpublishing: what the shop took off itself is never Tandem's to put back."""

    # A connector whose platform takes prices in bulk (Shopify) also has `bulk_prices_from` (the
    # number of prices from which the export uses it) and `set_prices_in_bulk(updates)`, which
    # takes the updates grouped by product and says, for each in order, whether the store took it.

    def capture(self, order_external_id: str, amount: Decimal) -> str | None:
        """Capture an authorised payment; None where the platform cannot (captured elsewhere)."""

    def complete(self, order_external_id: str) -> None:
        """Mark the order fulfilled or completed on the website."""

    def cancel(self, order_external_id: str) -> str:
        """Cancel the order on the website; says, for staff, what became of its payment's
        authorisation (released where the platform does it, left to the gateway where not)."""

    def refund(self, order_external_id: str, amount: Decimal, key: str) -> str:
        """Refund `amount` on the website once, whatever the retries (`key` names this refund);
        returns the store's reference for it."""

    def check(self, context: CheckContext) -> list[tuple[bool | str, str]]:
        """`tandem --check`: (verdict, line) for each point, through the cheapest calls allowed; the
        verdict is True (holds), False (fails) or WARN (holds, but someone should look)."""

    def close(self) -> None: ...


# Beyond these no shop's order goes; a store sending them is broken, and saying so beats storing it.
MAX_LINE_QUANTITY = 100_000
MAX_AMOUNT = Decimal("10000000.00")
ID_LENGTH = 100
# The longest text each field keeps (the database's columns); longer text is cut, never refused.
ORDER_TEXT = {"order_number": 50, "status": 50, "currency": 3, "customer_name": 200, "customer_email": 254,
              "customer_phone": 40, "billing_address": 2000, "shipping_address": 2000}
LINE_TEXT = {"title": 255, "product_code": 64, "barcode": 64, "part_number": 64}
ORDER_MONEY = ("subtotal", "shipping", "shipping_tax", "tax_total", "total")
LINE_MONEY = ("unit_price", "discount", "tax_amount")
CENT = Decimal("0.01")


def read_order(raw, parse: Callable[..., WebOrder], *args) -> WebOrder:
    """One order from the store's JSON, parsed and checked. Anything that does not fit what the
    platform documents is a ConnectorError naming the order: never a traceback, never half an order."""
    label = (raw.get("name") or raw.get("number") or raw.get("id")) if isinstance(raw, dict) else None
    try:
        order = parse(raw, *args)
    except ConnectorError as exc:
        raise ConnectorError(_('order {label:.40}: {exc}').format(label=str(label), exc=exc)) from None
    except SHAPE_ERRORS as exc:
        raise ConnectorError(_('the store sent order {label:.40} in a shape Tandem cannot read ({value})').format(label=str(label), value=shape_problem(exc))) from None
    return checked_order(order, label)


def _text(value, limit: int, what: str, label) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConnectorError(_('order {label:.40}: {what} is not text').format(label=str(label), what=what))
    return value.replace("\x00", "")[:limit]


def _identifier(value, what: str, label) -> str:
    if not isinstance(value, str) or not value or len(value) > ID_LENGTH or "\x00" in value:
        raise ConnectorError(_('order {label:.40}: its {what} is not a usable identifier').format(label=str(label), what=what))
    return value


def _amount(value, what: str, label) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) > MAX_AMOUNT:
        raise ConnectorError(_('order {label:.40}: {what} {value:.30} is not an amount a shop charges').format(label=str(label), what=what, value=str(value)))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _moment(value, what: str, label, required: bool = True) -> datetime | None:
    if value is None and not required:
        return None
    if not isinstance(value, datetime):
        raise ConnectorError(_('order {label:.40}: it has no {what}').format(label=str(label), what=what))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def checked_order(order: WebOrder, label=None) -> WebOrder:
    """Identifiers usable, texts cut to what is kept (and rid of NUL bytes, which no database
    keeps), amounts finite and in cents, quantities those of a real order."""
    label = label or order.external_id
    lines = []
    for line in order.lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) \
                or not 0 <= line.quantity <= MAX_LINE_QUANTITY:
            raise ConnectorError(_('order {label:.40}: a line asks for {quantity:.20} units').format(label=str(label), quantity=str(line.quantity)))
        rate = line.tax_rate
        if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 <= rate <= 100:
            raise ConnectorError(_('order {label:.40}: a tax rate of {rate:.20} %').format(label=str(label), rate=str(rate)))
        lines.append(replace(
            line, external_id=_identifier(line.external_id, _("line id"), label),
            listing_external_id=(_identifier(line.listing_external_id, _("product id"), label)
                                 if line.listing_external_id is not None else None),
            **{name: _text(getattr(line, name), limit, name, label) for name, limit in LINE_TEXT.items()},
            **{name: _amount(getattr(line, name), name.replace("_", " "), label) for name in LINE_MONEY},
        ))
    if any(not isinstance(line.title, str) for line in lines):
        raise ConnectorError(_('order {label:.40}: a line has no title').format(label=str(label)))
    if not isinstance(order.order_number, str) or not order.order_number.strip("\x00"):
        raise ConnectorError(_('order {label:.40}: it has no order number').format(label=str(label)))
    return replace(
        order, external_id=_identifier(order.external_id, "id", label), lines=lines,
        ordered_at=_moment(order.ordered_at, _("creation date"), label),
        updated_at=_moment(order.updated_at, _("modification date"), label),
        shipped_at=_moment(order.shipped_at, _("shipping date"), label, required=False),
        **{name: _text(getattr(order, name), limit, name, label) for name, limit in ORDER_TEXT.items()},
        **{name: _amount(getattr(order, name), name.replace("_", " "), label) for name in ORDER_MONEY},
    )
