"""Gift cards (SPEC §7): a web sale with the gift-card placeholder waits until staff issue a real
card for the line's amount; its number is unique and recorded with its balance."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from core.i18n import _
from core.audit import Actor
from core.audit import record as audit
from core.dbtypes import utcnow
from core.models import (
    GiftCard,
    Product,
    Stock,
    WebSale,
    WebSaleLine,
)
from core.sales import SaleError
from core.sync.settle import refresh_states

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__


def issue_gift_card(engine: Engine, line_id: int, number: str, actor: Actor) -> Decimal:
    """Replace a gift-card placeholder line with a real card: its number, and the line's amount."""
    number = number.strip()
    if not number or len(number) > 40:
        raise SaleError(_("a gift card number is 1 to 40 characters"))
    with engine.begin() as conn:
        line = conn.execute(select(line_table.c.sale_id, line_table.c.unit_price, line_table.c.quantity,
                                   Product.gift_card_placeholder, WebSale.channel_id)
                            .join(Product, Product.id == line_table.c.product_id)
                            .join(WebSale, WebSale.id == line_table.c.sale_id)
                            .where(line_table.c.id == line_id)).first()
        if line is None or not line.gift_card_placeholder:
            raise SaleError(_("that line is not a gift card"))
        amount = line.unit_price * line.quantity
        try:
            with conn.begin_nested():
                conn.execute(insert(GiftCard.__table__).values(number=number, amount=amount, balance=amount,
                                                               sale_line_id=line_id, issued_by=str(actor),
                                                               issued_at=utcnow()))
        except IntegrityError:
            raise SaleError(_('gift card {number} already exists, or this line already has a card').format(number=number)) from None
        refresh_states(conn, line.channel_id)
        audit(conn, actor, "issue_gift_card", "websale", line.sale_id, "gift_card", None, number, f"{amount:.2f}")
    return amount
