"""What every staff action on a web sale shares: the refusal it raises, reading the sale, and
claiming it at the version the person saw (two terminals never both apply a decision); the status
labels, defined once; and giving a line its product by hand.

The rules themselves are in the modules named for them: core.pickup (pickup checks and payment),
core.gift_cards, core.customers, core.supplier (supplier fulfilment and holds), core.inbox (what
staff see), and the sync's settle stage (stock moves, once per line)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, update

from core.roles import require
from core.i18n import _, money
from core.i18n import N_
from core.audit import Actor
from core.audit import record as audit
from core.models import CLOSED_SALE_STATES, GiftCard, Location, Product, SaleState, Stock, WebSale, WebSaleLine
from core.sync.matching import match_sale_lines
from core.sync.settle import release_lines, settle_sales

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


# A shop price this far from what the web charged is more often a wrong pick than a price change.
PRICE_TOLERANCE = Decimal("0.05")


class PriceDiffers(SaleError):
    """The product picked sells in the shop at a price far from the web line's: ask first."""

    def __init__(self, sku: str, shop_price: Decimal, web_price: Decimal):
        super().__init__(_("{sku} sells for {shop} in the shop, but the web line was sold at {web}").format(
            sku=sku, shop=money(shop_price), web=money(web_price)))
        self.sku, self.shop_price, self.web_price = sku, shop_price, web_price


OPEN_LINE_STATES = (SaleState.READY.value, SaleState.WAITING_MATCH.value, SaleState.GIFT_CARD_TO_ISSUE.value,
                    SaleState.CAPTURE_FAILED.value)


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
    require(actor, "sale.line_product")
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


@dataclass(frozen=True)
class Picked:
    sku: str
    short_at: str | None = None  # the sale's location, when it has fewer units free than it now holds for sales


def short_at(conn: Connection, line_id: int) -> str | None:
    """The location a line's sale takes its units from, when that location has committed more of
    the line's product than it has on hand: a unit promised that is not on the shelf."""
    return conn.execute(
        select(Location.name).select_from(line_table)
        .join(sale_table, sale_table.c.id == line_table.c.sale_id)
        .join(Stock, (Stock.product_id == line_table.c.product_id) & (Stock.location_id == sale_table.c.location_id))
        .join(Location, Location.id == Stock.location_id)
        .where(line_table.c.id == line_id, Stock.committed > Stock.on_hand)).scalar()


def change_line_product(engine: Engine, line_id: int, product_id: int, actor: Actor, *,
                        price_confirmed: bool = False) -> Picked:
    """Put a line of an open sale on another shop product, by hand, as often as it takes until the
    sale is completed: its committed unit moves with it, in one transaction. A product whose shop
    price is more than PRICE_TOLERANCE from the web line's raises PriceDiffers unless the person
    saw both prices and confirmed. Returns the new SKU, and the sale's location when it has no unit
    free for the line: the unit is committed all the same (the customer has paid for it), and
    staff are told, never left to find the shelf empty."""
    require(actor, "sale.line_product")
    with engine.begin() as conn:
        line = _open_line(conn, line_id)
        product = conn.execute(select(Product.sku, Product.price).where(Product.id == product_id,
                                                                          Product.active.is_(True))).first()
        if product is None:
            raise SaleError(_("that product no longer exists or is inactive"))
        if line.product_id == product_id:
            raise SaleError(_("the line is already on {sku}").format(sku=product.sku))
        if conn.execute(select(GiftCard.id).where(GiftCard.sale_line_id == line_id)).first():
            raise SaleError(_("a gift card was issued for this line; its product stays"))
        web = line.unit_price
        if not price_confirmed and web and abs(product.price - web) > web * PRICE_TOLERANCE:
            raise PriceDiffers(product.sku, product.price, web)
        old = conn.execute(select(Product.sku).where(Product.id == line.product_id)).scalar()
        release_lines(conn, select(line_table.c.id).where(line_table.c.id == line_id))
        conn.execute(update(line_table).where(line_table.c.id == line_id)
                     .values(product_id=product_id, product_by_hand=True))
        _claim(conn, line.sale_id, line.version)
        settle_sales(conn, line.channel_id, sale_ids=[line.sale_id])
        audit(conn, actor, "line_product", "websale", line.sale_id, f"line {line_id} product", old, product.sku)
        short = short_at(conn, line_id)
    return Picked(product.sku, short)


def undo_line_product(engine: Engine, line_id: int, actor: Actor) -> str:
    """Take back a product put on a line by hand: its unit released, the line back to what the
    matching rules give it (often nothing: it waits for a product again). Says what it did."""
    require(actor, "sale.line_product")
    with engine.begin() as conn:
        line = _open_line(conn, line_id)
        if not line.product_by_hand:
            raise SaleError(_("no person chose this line's product; nothing to undo here"))
        old = conn.execute(select(Product.sku).where(Product.id == line.product_id)).scalar()
        release_lines(conn, select(line_table.c.id).where(line_table.c.id == line_id))
        conn.execute(update(line_table).where(line_table.c.id == line_id)
                     .values(product_id=None, product_by_hand=False))
        _claim(conn, line.sale_id, line.version)
        match_sale_lines(conn, line.channel_id)
        settle_sales(conn, line.channel_id, sale_ids=[line.sale_id])
        now = conn.execute(select(Product.sku).join(line_table, line_table.c.product_id == Product.id)
                           .where(line_table.c.id == line_id)).scalar()
        audit(conn, actor, "undo_line_product", "websale", line.sale_id, f"line {line_id} product", old, now)
    if now:
        return _("Undone: “{title}” is off {old}, back on {now} by the matching rules.").format(
            title=line.title, old=old, now=now)
    return _("Undone: “{title}” is off {old} and waits for a product again.").format(title=line.title, old=old)


def _open_line(conn: Connection, line_id: int):
    line = conn.execute(select(line_table.c.sale_id, line_table.c.product_id, line_table.c.product_by_hand,
                               line_table.c.unit_price, line_table.c.title, line_table.c.stock_state,
                               sale_table.c.state, sale_table.c.channel_id, sale_table.c.version)
                        .join(sale_table, sale_table.c.id == line_table.c.sale_id)
                        .where(line_table.c.id == line_id)).first()
    if line is None:
        raise SaleError(_("that sale line no longer exists"))
    if line.state not in OPEN_LINE_STATES or line.stock_state == "sold":
        raise SaleError(_('the sale is {value}; its lines cannot change').format(
            value=_(STATUS_LABELS.get(line.state, line.state))))
    return line


def accept_held_back(engine: Engine, sale_id: int, actor: Actor, seen_version: int) -> str:
    """Let an order flagged by a channel rule (it takes units held back for the shop floor, or a
    product sold in store only) take its units: they are committed at once. Returns the reason it
    waited, for the screen's message."""
    require(actor, "sale.held_back")
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if not sale.held_back_reason:
            raise SaleError(_("this sale is not waiting on a web-store rule"))
        if sale.state in CLOSED_SALE_STATES:
            raise SaleError(_('the sale is {value}; its lines cannot change').format(
                value=_(STATUS_LABELS.get(sale.state, sale.state))))
        _claim(conn, sale_id, seen_version, held_back_reason=None, held_back_accepted_by=actor.user)
        conn.execute(update(line_table).where(line_table.c.sale_id == sale_id).values(held_back=False))
        audit(conn, actor, "held_back_accepted", "websale", str(sale_id), "held_back_reason",
              sale.held_back_reason, None)
        settle_sales(conn, sale.channel_id, sale_ids=[sale_id])
    return sale.held_back_reason
