"""The daily export: available quantity and selling price of every matched product, sent to the
web store in batches of the platform's documented maximum.

Only what changed since the last successful export is sent (unless `full`). Each link remembers
what was last accepted by the store, and that mark moves batch by batch, right after the store
accepted the batch, so a run cut short resends only what the store had not yet accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import Connection, Engine, bindparam, case, func, literal, or_, select, update

from core.connectors.base import Connector, PriceUpdate, StockUpdate
from core.dbtypes import Money, utcnow
from core.models import Location, Product, ProductLink, SalesChannel, Stock, WebListing

link_table = ProductLink.__table__
STREAM_CHUNK = 2_000  # plan rows read from the database at a time


@dataclass
class ExportPlan:
    stock: list[tuple[int, StockUpdate]] = field(default_factory=list)
    prices: list[tuple[int, PriceUpdate]] = field(default_factory=list)


@dataclass(frozen=True)
class ExportReport:
    quantities_sent: int
    prices_sent: int
    requests: int
    dry_run: bool = False


def _stock_location(conn: Connection, channel_id: int) -> int | None:
    location = conn.execute(select(SalesChannel.location_id).where(SalesChannel.id == channel_id)).scalar()
    if location is None:
        location = conn.execute(select(Location.id).order_by(Location.id).limit(1)).scalar()
    return location


def _planned(conn: Connection, channel_id: int, full: bool) -> Iterator[tuple[int, StockUpdate | PriceUpdate]]:
    """What is to be sent, one update at a time, computed in one query streamed in chunks (so a
    million-product export never holds its whole plan): available = on hand - committed - buffer,
    not below 0. In the order of the store's products, so one product's prices come together."""
    buffer = conn.execute(select(SalesChannel.safety_buffer).where(SalesChannel.id == channel_id)).scalar() or 0
    location = _stock_location(conn, channel_id)
    raw = func.coalesce(Stock.on_hand, 0) - func.coalesce(Stock.committed, 0) - literal(buffer)
    available = case((raw < 0, 0), else_=raw)
    # Until Tandem has sent a price, the one the store listed is what the store has.
    store_price = func.coalesce(ProductLink.last_exported_price, WebListing.price)
    rows = conn.execution_options(yield_per=STREAM_CHUNK).execute(
        select(ProductLink.id, WebListing.external_id, WebListing.external_product_id, WebListing.inventory_item_id,
               available.label("available"), Product.price, ProductLink.last_exported_quantity,
               store_price.label("store_price"))
        .join(WebListing, WebListing.id == ProductLink.listing_id)
        .join(Product, Product.id == ProductLink.product_id)
        .outerjoin(Stock, (Stock.product_id == Product.id) & (Stock.location_id == location))
        .where(ProductLink.channel_id == channel_id, ProductLink.product_id.is_not(None),
               Product.non_inventory.is_(False))
        .where(literal(full) | or_(ProductLink.last_exported_quantity.is_distinct_from(available),
                                   store_price.is_distinct_from(Product.price)))
        .order_by(WebListing.external_product_id, ProductLink.id)
    )
    for row in rows:
        if full or row.last_exported_quantity != row.available:
            yield row.id, StockUpdate(row.external_id, row.inventory_item_id, int(row.available))
        if full or row.store_price != row.price:
            yield row.id, PriceUpdate(row.external_id, row.external_product_id, row.price)


def plan_export(conn: Connection, channel_id: int, full: bool = False) -> ExportPlan:
    """The whole plan at once: for a dry run's listing and for tests."""
    plan = ExportPlan()
    for link, update_ in _planned(conn, channel_id, full):
        (plan.stock if isinstance(update_, StockUpdate) else plan.prices).append((link, update_))
    return plan


def _mark(engine: Engine, column: str, sent: list[tuple[int, object]]) -> None:
    value_type = Money() if column == "last_exported_price" else None
    with engine.begin() as conn:
        conn.execute(
            update(link_table).where(link_table.c.id == bindparam("link"))
            .values({column: bindparam("value", type_=value_type), "last_exported_at": bindparam("at")}),
            [{"link": link, "value": value, "at": utcnow()} for link, value in sent],
        )


def _adopt_listed_prices(engine: Engine, channel_id: int) -> None:
    """A link never exported whose listing already shows the shop's price is marked as having it.

    Without this, a run killed after the store took a price but before the mark was written would
    leave that link unmarked for good (the rerun reads the new price and has nothing to send), while
    an uninterrupted run marks it: the marks must not depend on where a run was cut.
    """
    listed = (select(WebListing.price).where(WebListing.id == link_table.c.listing_id)
              .scalar_subquery())
    price = select(Product.price).where(Product.id == link_table.c.product_id).scalar_subquery()
    with engine.begin() as conn:
        conn.execute(update(link_table).where(
            link_table.c.channel_id == channel_id, link_table.c.product_id.is_not(None),
            link_table.c.last_exported_price.is_(None), listed == price,
        ).values(last_exported_price=price))


def run_export(engine: Engine, channel_id: int, connector: Connector, *, full: bool = False,
               dry_run: bool = False) -> tuple[ExportReport, ExportPlan]:
    """Send the plan batch by batch as it is read, each batch's mark written once the store took it."""
    if dry_run:
        with engine.connect() as conn:
            plan = plan_export(conn, channel_id, full)
        return ExportReport(len(plan.stock), len(plan.prices), 0, dry_run=True), plan
    before = connector.counter.requests
    _adopt_listed_prices(engine, channel_id)
    skips_unstocked = getattr(connector, "needs_inventory_item", False)
    per_product = getattr(connector, "prices_per_product", False)
    stock: list[tuple[int, StockUpdate]] = []
    prices: list[tuple[int, PriceUpdate]] = []
    sent = {"last_exported_quantity": 0, "last_exported_price": 0}

    def send(batch: list, to_store, column: str) -> None:
        to_store([update_ for _, update_ in batch])
        _mark(engine, column, [(link, update_.quantity if column == "last_exported_quantity" else update_.price)
                               for link, update_ in batch])
        sent[column] += len(batch)
        batch.clear()

    def send_stock() -> None:
        send(stock, connector.set_stock, "last_exported_quantity")

    def send_prices() -> None:
        send(prices, connector.set_prices, "last_exported_price")

    with engine.connect() as conn:
        for link, update_ in _planned(conn, channel_id, full):
            if isinstance(update_, StockUpdate):
                if skips_unstocked and not update_.inventory_item_id:
                    continue  # a listing the store keeps no stock for
                stock.append((link, update_))
                if len(stock) == connector.stock_batch_size:
                    send_stock()
            else:
                if per_product and prices and prices[-1][1].external_product_id != update_.external_product_id:
                    send_prices()  # one product's variants per call
                prices.append((link, update_))
                if len(prices) == connector.price_batch_size:
                    send_prices()
    if stock:
        send_stock()
    if prices:
        send_prices()
    return (ExportReport(sent["last_exported_quantity"], sent["last_exported_price"],
                         connector.counter.requests - before), ExportPlan())
