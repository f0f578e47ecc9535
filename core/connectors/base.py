"""What every connector offers, in the shapes the rest of Tandem uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Iterator, Protocol

from core.listings import ListingData


class ConnectorError(Exception):
    """The store could not be reached or refused the request; the message is meant for staff."""


class CredentialError(ConnectorError):
    """The store refused the credentials (401/403). Says which one to fix; never shows it."""


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


@dataclass(frozen=True)
class StockUpdate:
    """Set the available quantity of one listing at the channel's store location."""

    listing_external_id: str
    inventory_item_id: str | None
    quantity: int


@dataclass(frozen=True)
class PriceUpdate:
    listing_external_id: str
    external_product_id: str | None
    price: Decimal


@dataclass
class RequestCounter:
    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.requests += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class Connector(Protocol):
    counter: RequestCounter
    stock_batch_size: int
    price_batch_size: int

    def listings(self) -> Iterator[list[ListingData]]:
        """The store's products and variants, a page at a time."""

    def orders_since(self, cursor: str | None) -> Iterator[tuple[list[WebOrder], str | None]]:
        """Orders changed since the cursor, a page at a time, each with the cursor after it."""

    def set_stock(self, updates: list[StockUpdate]) -> None:
        """One call for at most `stock_batch_size` updates."""

    def set_prices(self, updates: list[PriceUpdate]) -> None:
        """One call for at most `price_batch_size` updates."""

    def capture(self, order_external_id: str, amount: Decimal) -> str | None:
        """Capture an authorised payment; None where the platform cannot (captured elsewhere)."""

    def complete(self, order_external_id: str) -> None:
        """Mark the order fulfilled or completed on the website."""

    def close(self) -> None: ...
