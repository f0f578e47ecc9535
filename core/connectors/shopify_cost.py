"""Shopify's query cost, planned before each request and paced by the store's own figures.

Shopify charges a query's *requested* cost before running it (an object costs 1, a connection 2
plus `first` times its node, a mutation 10) and refunds the difference to the *actual* cost once it
has run. Every answer says, in `extensions.cost.throttleStatus`, how many points the app's bucket
holds and how fast it refills. Tandem keeps the last figures and, before each request, waits just
long enough for the bucket to hold that request's requested cost, so a run alone on the bucket
never receives THROTTLED. Another app cannot spend this app's bucket (Shopify keeps one per app and
store), but a second Tandem process can; a THROTTLED answer is then waited out from the figures it
carries.

A new process knows nothing of the bucket until its first answer, and its first request is often
the most expensive (a page of 249 listings asks for 999 points). So the figures outlive the
process: the sync keeps them with the store's channel, stamped with the wall-clock time they
were read (`CostBucket.remembered`), and the next process starts from them (`resume`), refilled
for the time gone by — on a slow or busy machine as on a quick one.

The per-document formulas below are checked against Shopify's published schema in
tests/core/connectors/test_shopify_documents.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

QUERY_COST_LIMIT = 1000  # the most one request may ask for, whatever the bucket holds
MUTATION_COST = 10

# Requested cost of the documents that page, by their page sizes.
LISTING_VARIANT = 4  # a variant with its product, inventory item and part-number metafield
ORDER_BASE = 30  # an order with its customer, addresses, amounts, fulfilments, fulfilment order, lines' page
ORDER_LINE = 9  # one line item with its variant, prices and tax lines
PAGE_COST = 2  # the connection itself


def listings_cost(first: int) -> int:
    return PAGE_COST + first * LISTING_VARIANT + 1  # + the variant count


def orders_cost(first: int, lines: int) -> int:
    return PAGE_COST + first * (ORDER_BASE + lines * ORDER_LINE) + 1  # + the order count


def order_lines_cost(lines: int) -> int:
    return 1 + PAGE_COST + lines * ORDER_LINE


def most_orders_per_page(lines: int) -> int:
    """As many orders as the 1,000-point cap allows when each brings `lines` line items."""
    return (QUERY_COST_LIMIT - PAGE_COST - 1) // (ORDER_BASE + lines * ORDER_LINE)


def most_listings_per_page() -> int:
    return min(250, (QUERY_COST_LIMIT - PAGE_COST - 1) // LISTING_VARIANT)


def most_mutations_per_request() -> int:
    return QUERY_COST_LIMIT // MUTATION_COST


@dataclass
class CostBucket:
    """The app's bucket as the store last described it, and when."""

    maximum: float | None = None
    available: float | None = None
    restore_rate: float | None = None
    read_at: float = 0.0
    clock: object = field(default=time.monotonic, repr=False)

    def seconds_before(self, cost: float) -> float:
        """How long to wait until the bucket holds `cost` points (0 when unknown: the first
        answer tells)."""
        if self.available is None or not self.restore_rate:
            return 0.0
        needed = min(cost, self.maximum or cost)
        now_available = self.available + (self.clock() - self.read_at) * self.restore_rate
        if self.maximum is not None:
            now_available = min(now_available, self.maximum)
        return max(needed - now_available, 0.0) / self.restore_rate

    def remembered(self) -> dict | None:
        """The figures to keep for the next process, or None when no answer gave any."""
        if self.available is None or not self.restore_rate:
            return None
        return {"available": self.available, "restore_rate": self.restore_rate, "maximum": self.maximum,
                "read_at": time.time() - (self.clock() - self.read_at)}

    def resume(self, figures: dict | None) -> None:
        """Start from an earlier process's figures; a clock that went back refills nothing."""
        if not figures or self.available is not None:
            return
        try:
            available, rate = float(figures["available"]), float(figures["restore_rate"])
            maximum = float(figures["maximum"]) if figures.get("maximum") else None
            gone = max(time.time() - float(figures["read_at"]), 0.0)
        except (KeyError, TypeError, ValueError):
            return
        self.available, self.restore_rate, self.maximum = available, rate, maximum
        self.read_at = self.clock() - gone

    def spend(self, cost: float) -> None:
        """What is charged up front; the answer's figures replace the estimate."""
        if self.available is not None:
            self.available -= cost

    def read(self, cost: dict | None) -> None:
        status = (cost or {}).get("throttleStatus") or {}
        try:
            available = float(status["currentlyAvailable"])
            rate = float(status["restoreRate"])
            maximum = float(status.get("maximumAvailable") or 0) or None
        except (KeyError, TypeError, ValueError):
            return
        self.available, self.restore_rate, self.maximum = available, rate, maximum
        self.read_at = self.clock()
