"""What each web store is sent for one product, and which rule made it: shop → rule → store, for
the console's product view and `tandem --explain`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, func, select

from core.models import Product, ProductLink, SalesChannel, Stock
from core.rules import Decision, facts, rule_book
from core.sync.export import stock_targets


@dataclass(frozen=True)
class ChannelView:
    """One product on one web store: POS → rule → what the store gets."""

    channel: str
    pos_available: int
    quantity: Decision
    shop_price: Decimal
    price: Decision


def product_on_channels(engine: Engine, product_id: int) -> list[ChannelView]:
    """Per web store the product is linked on, what it is sent and which rule made it."""
    with engine.connect() as conn:
        row = conn.execute(select(Product.sku, Product.brand, Product.category, Product.price, Product.msrp,
                                  Product.map_price).where(Product.id == product_id)).one()
        product = facts(row)
        channels = conn.execute(select(SalesChannel.id, SalesChannel.name).join(
            ProductLink, ProductLink.channel_id == SalesChannel.id).where(
            ProductLink.product_id == product_id, SalesChannel.active.is_(True)).distinct()
            .order_by(SalesChannel.id)).all()
        views = []
        for channel_id, name in channels:
            locations = {location for target in stock_targets(conn, channel_id)[:1] for location in target.locations}
            available = conn.execute(select(func.coalesce(func.sum(Stock.on_hand - Stock.committed), 0)).where(
                Stock.product_id == product_id, Stock.location_id.in_(locations))).scalar()
            book = rule_book(conn, channel_id)
            views.append(ChannelView(name, int(available), book.quantity(product, int(available)), product.price,
                                     book.price(product)))
        return views
