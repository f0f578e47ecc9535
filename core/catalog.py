"""Finding products: search as you type over the whole catalog, one page at a time.

Pages are keyset-paged on the SKU (`WHERE sku > last one seen`), so the thousandth page costs
what the first one does, and only the rows on screen ever leave the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, and_, func, or_, select

from core.identifiers import parse_barcode
from core.models import Location, Product, Stock

PAGE_SIZE = 100


@dataclass(frozen=True)
class ProductRow:
    id: int
    sku: str
    description: str
    brand: str | None
    part_number: str | None
    barcode: str | None
    barcode_status: str | None
    price: Decimal
    on_hand: int
    committed: int
    active: bool
    non_inventory: bool

    @property
    def available(self) -> int:
        return max(self.on_hand - self.committed, 0)


@dataclass(frozen=True)
class ProductPage:
    rows: list[ProductRow]
    total: int
    has_more: bool


@dataclass(frozen=True)
class StockAt:
    location: str
    on_hand: int
    committed: int


@dataclass(frozen=True)
class ProductDetail:
    row: ProductRow
    msrp: Decimal | None
    gtin14: str | None
    gift_card_placeholder: bool
    stock: list[StockAt]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_filter(text: str):
    """Each word must appear somewhere: SKU or part number (from the start), or description or brand.
    A whole valid barcode is looked up by its GTIN-14 instead, which a scanner types in one go."""
    text = text.strip()
    if not text:
        return None
    barcode = parse_barcode(text)
    if barcode is not None and barcode.gtin14 is not None:
        return Product.gtin14 == barcode.gtin14
    conditions = []
    for word in text.casefold().split():
        starts, contains = f"{_escape_like(word)}%", f"%{_escape_like(word)}%"
        conditions.append(or_(
            func.lower(Product.sku).like(starts, escape="\\"),
            Product.part_number_key.like(starts, escape="\\"),
            func.lower(Product.description).like(contains, escape="\\"),
            func.lower(Product.brand).like(contains, escape="\\"),
        ))
    return and_(*conditions)


def search_products(engine: Engine, text: str = "", after_sku: str | None = None,
                    limit: int = PAGE_SIZE) -> ProductPage:
    """One page of products matching `text`, in SKU order, starting after `after_sku`."""
    condition = _search_filter(text)
    stock_totals = (
        select(Stock.product_id, func.sum(Stock.on_hand).label("on_hand"),
               func.sum(Stock.committed).label("committed"))
        .group_by(Stock.product_id)
        .subquery()
    )
    page = select(Product.id).order_by(Product.sku).limit(limit + 1)
    if condition is not None:
        page = page.where(condition)
    if after_sku is not None:
        page = page.where(Product.sku > after_sku)
    page = page.subquery()
    query = (
        select(
            Product.id, Product.sku, Product.description, Product.brand, Product.part_number,
            Product.barcode_raw, Product.barcode_status, Product.price,
            func.coalesce(stock_totals.c.on_hand, 0), func.coalesce(stock_totals.c.committed, 0),
            Product.active, Product.non_inventory,
        )
        .join(page, page.c.id == Product.id)
        .outerjoin(stock_totals, stock_totals.c.product_id == Product.id)
        .order_by(Product.sku)
    )
    count = select(func.count()).select_from(Product)
    if condition is not None:
        count = count.where(condition)
    with engine.connect() as conn:
        rows = [ProductRow(*row) for row in conn.execute(query)]
        total = conn.execute(count).scalar_one()
    return ProductPage(rows[:limit], total, len(rows) > limit)


def product_detail(engine: Engine, product_id: int) -> ProductDetail | None:
    with engine.connect() as conn:
        p = conn.execute(select(Product.__table__).where(Product.id == product_id)).first()
        if p is None:
            return None
        stock = [
            StockAt(name, on_hand, committed)
            for name, on_hand, committed in conn.execute(
                select(Location.name, Stock.on_hand, Stock.committed)
                .join(Stock, Stock.location_id == Location.id)
                .where(Stock.product_id == product_id)
                .order_by(Location.id)
            )
        ]
    row = ProductRow(
        p.id, p.sku, p.description, p.brand, p.part_number, p.barcode_raw, p.barcode_status,
        p.price, sum(s.on_hand for s in stock), sum(s.committed for s in stock), p.active,
        p.non_inventory,
    )
    return ProductDetail(row, p.msrp, p.gtin14, p.gift_card_placeholder, stock)
