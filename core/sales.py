"""What every staff action on a web sale shares: the refusal it raises, reading the sale, and
claiming it at the version the person saw (two terminals never both apply a decision); the status
labels, defined once; and giving a line its product by hand.

The rules themselves are in the modules named for them: core.pickup (pickup checks and payment),
core.gift_cards, core.customers, core.supplier (supplier fulfilment and holds), core.inbox (what
staff see), and the sync's settle stage (stock moves, once per line)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, update

from core.i18n import _
from core.i18n import N_
from core.audit import Actor
from core.audit import record as audit
from core.models import Product, SaleState, Stock, WebSale, WebSaleLine
from core.sync.matching import match_sale_lines
from core.sync.settle import settle_sales

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__


# What staff read for each state, everywhere (a ready sale says how it leaves: "ready for pickup"
# or "ready to ship", see core.inbox).
STATUS_LABELS = {
    SaleState.READY.value: N_("ready"), SaleState.HELD.value: N_("held"), SaleState.WAITING_MATCH.value: N_("needs match"),
    SaleState.GIFT_CARD_TO_ISSUE.value: N_("gift card to issue"), SaleState.CAPTURE_FAILED.value: N_("capture failed"),
    SaleState.COMPLETED.value: N_("completed"), SaleState.CANCELLED.value: N_("cancelled"),
}


class SaleError(Exception):
    """The action was refused; the message is for staff."""


def _sale(conn: Connection, sale_id: int):
    sale = conn.execute(select(sale_table).where(sale_table.c.id == sale_id)).first()
    if sale is None:
        raise SaleError(_("that sale no longer exists"))
    return sale


def _claim(conn: Connection, sale_id: int, seen_version: int, **values) -> None:
    claimed = conn.execute(update(sale_table).where(sale_table.c.id == sale_id, sale_table.c.version == seen_version)
                           .values(version=sale_table.c.version + 1, **values)).rowcount
    if claimed != 1:
        raise SaleError(_("someone else changed this sale a moment ago; look at it again"))


def put_line_on_product(engine: Engine, line_id: int, product_id: int, actor: Actor) -> str:
    """Give one waiting line of an open sale its shop product by hand, whatever became of its web
    listing (marked not sold online, say): the sale is settled at once, as after a link.
    Returns the product's SKU."""
    with engine.begin() as conn:
        line = conn.execute(select(line_table.c.sale_id, line_table.c.product_id, sale_table.c.state,
                                   sale_table.c.channel_id, sale_table.c.order_number)
                            .join(sale_table, sale_table.c.id == line_table.c.sale_id)
                            .where(line_table.c.id == line_id)).first()
        if line is None:
            raise SaleError(_("that sale line no longer exists"))
        if line.state in (SaleState.COMPLETED.value, SaleState.CANCELLED.value, SaleState.HELD.value):
            raise SaleError(_('the sale is {value}; its lines cannot change').format(value=STATUS_LABELS[line.state]))
        sku = conn.execute(select(Product.sku).where(Product.id == product_id, Product.active.is_(True))).scalar()
        if sku is None:
            raise SaleError(_("that product no longer exists or is inactive"))
        if not conn.execute(update(line_table).where(line_table.c.id == line_id, line_table.c.product_id.is_(None))
                            .values(product_id=product_id, product_by_hand=True)).rowcount:
            raise SaleError(_("this line already has a shop product"))
        match_sale_lines(conn, line.channel_id)
        settle_sales(conn, line.channel_id, sale_ids=[line.sale_id])
        audit(conn, actor, "line_product", "websale", line.sale_id, f"line {line_id} product", None, sku)
    return sku


