"""Finding products: search as you type over the whole catalog, one page at a time.

Pages are keyset-paged on the SKU (`WHERE sku > last one seen`), so the thousandth page costs
what the first one does, and only the rows on screen ever leave the database.
"""

from __future__ import annotations

import unicodedata

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, and_, case, func, literal, select

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
    # With a location asked for, on_hand and committed are that location's, and this is what the
    # other locations have free; without one, on_hand and committed are every location's together.
    available_elsewhere: int = 0

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


def search_text_of(sku, part_number, brand, description):
    """What search looks in, as SQL over the given columns. The database's own lower() builds it
    and lowers the typed words too, so both sides agree on every backend."""
    space = literal(" ")
    return func.lower(
        sku + space + func.coalesce(part_number, "") + space + func.coalesce(brand, "") + space + description
    )


# What a search box keeps of what was typed or pasted. Twelve words already narrow a catalog to a
# handful; a pasted page of text would otherwise become thousands of LIKE terms (SQLite refuses
# the expression, PostgreSQL spends seconds on it).
SEARCH_CHARACTERS = 200
SEARCH_WORDS = 12


def clean_search(text: str) -> str:
    """The search as it will run: control characters (NUL included) turned into spaces, cut to
    SEARCH_CHARACTERS, each word once, at most SEARCH_WORDS words."""
    printable = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text[:SEARCH_CHARACTERS * 4])
    words = list(dict.fromkeys(printable[:SEARCH_CHARACTERS].split()))
    return " ".join(words[:SEARCH_WORDS])


def _search_filter(text: str):
    """Each typed word must appear in the SKU, part number, brand or description. A whole valid
    barcode is looked up by its GTIN-14 instead, as a scanner types it in one go."""
    text = clean_search(text)
    if not text:
        return None
    barcode = parse_barcode(text)
    if barcode is not None and barcode.gtin14 is not None:
        return Product.gtin14 == barcode.gtin14
    return and_(*(
        Product.search_text.like(func.lower(f"%{_escape_like(word)}%"), escape="\\")
        for word in text.split()
    ))


def search_products(engine: Engine, text: str = "", after_sku: str | None = None,
                    limit: int = PAGE_SIZE, with_total: bool = True, location_id: int | None = None) -> ProductPage:
    """One page of products matching `text`, in SKU order, starting after `after_sku`.

    `with_total=False` skips counting every match (total is then -1), for search-as-you-type.
    `location_id`: the stock shown is that location's (a sale takes its units there), with what
    the others have free beside it."""
    condition = _search_filter(text)
    page = select(Product.id).order_by(Product.sku).limit(limit + 1)
    if condition is not None:
        page = page.where(condition)
    if after_sku is not None:
        page = page.where(Product.sku > after_sku)
    page = page.subquery()
    # Stock is summed for the page's products only, never for the whole catalog.
    here = (Stock.location_id == location_id) if location_id is not None else literal(True)
    free = Stock.on_hand - Stock.committed
    query = (
        select(
            Product.id, Product.sku, Product.description, Product.brand, Product.part_number,
            Product.barcode_raw, Product.barcode_status, Product.price,
            func.coalesce(func.sum(case((here, Stock.on_hand), else_=0)), 0),
            func.coalesce(func.sum(case((here, Stock.committed), else_=0)), 0),
            Product.active, Product.non_inventory,
            func.coalesce(func.sum(case((~here & (free > 0), free), else_=0)), 0),
        )
        .join(page, page.c.id == Product.id)
        .outerjoin(Stock, Stock.product_id == Product.id)
        .group_by(Product.id)
        .order_by(Product.sku)
    )
    count = select(func.count()).select_from(Product)
    if condition is not None:
        count = count.where(condition)
    with engine.connect() as conn:
        rows = [ProductRow(*row) for row in conn.execute(query)]
        total = conn.execute(count).scalar_one() if with_total else -1
    return ProductPage(rows[:limit], total, len(rows) > limit)


def product_detail(engine: Engine, product_id: int, location_id: int | None = None) -> ProductDetail | None:
    """A product and its stock at each location; `location_id` (a sale's) first."""
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
                .order_by(case((Location.id == location_id, 0), else_=1), Location.id)
            )
        ]
    row = ProductRow(
        p.id, p.sku, p.description, p.brand, p.part_number, p.barcode_raw, p.barcode_status,
        p.price, sum(s.on_hand for s in stock), sum(s.committed for s in stock), p.active,
        p.non_inventory,
    )
    return ProductDetail(row, p.msrp, p.gtin14, p.gift_card_placeholder, stock)
