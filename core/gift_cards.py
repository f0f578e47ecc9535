"""Gift cards (SPEC §12, §24): a web sale with the gift-card placeholder waits until staff issue a
real card for the line's amount; its number is unique and recorded with its balance.

The card's record here is where its balance lives: what is left on it (lowered when the POS shows
it was spent, `set_gift_card_balance`), and what refunds and a cancel took back. A refund or a
cancel of a sale that issued a card takes back what is left on the card first, in the same
transaction, and refunds only that; a card with nothing left is refused with the reason. So money
is never both on a card and back in the customer's hands."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.roles import require
from core.i18n import _, money
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
    require(actor, "sale.gift_card")
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


card_table = GiftCard.__table__


@dataclass(frozen=True)
class IssuedCard:
    id: int
    number: str
    amount: Decimal
    balance: Decimal
    sale_line_id: int


def cards_of_sale(conn: Connection, sale_id: int) -> list[IssuedCard]:
    rows = conn.execute(select(card_table.c.id, card_table.c.number, card_table.c.amount, card_table.c.balance,
                               card_table.c.sale_line_id)
                        .join(line_table, line_table.c.id == card_table.c.sale_line_id)
                        .where(line_table.c.sale_id == sale_id).order_by(card_table.c.id)).all()
    return [IssuedCard(*row) for row in rows]


def take_back(conn: Connection, card: IssuedCard, amount: Decimal, actor: Actor, why: str) -> None:
    """Take `amount` off the card (never more than is left on it, checked in the update itself, so
    two terminals cannot both take the same money back); voided once nothing is left."""
    taken = conn.execute(update(card_table).where(card_table.c.id == card.id, card_table.c.balance >= amount)
                         .values(balance=card_table.c.balance - amount, taken_back=card_table.c.taken_back + amount))
    if taken.rowcount != 1:
        raise SaleError(_("gift card {number} changed a moment ago; look at it again").format(number=card.number))
    conn.execute(update(card_table).where(card_table.c.id == card.id, card_table.c.balance == 0,
                                          card_table.c.voided_at.is_(None))
                 .values(voided_at=utcnow(), voided_by=str(actor)))
    sale_id = conn.execute(select(line_table.c.sale_id).where(line_table.c.id == card.sale_line_id)).scalar()
    audit(conn, actor, "take_back_gift_card", "websale", sale_id, "gift_card", card.number, f"{-amount:.2f}", why)


def void_cards_to_cancel(conn: Connection, sale_id: int, actor: Actor) -> list[IssuedCard]:
    """Before a sale is cancelled: every card it issued, untouched, is voided (all of it taken back).
    A card already spent, in part or whole, refuses the cancel: the customer has had that value,
    and nothing was captured to pay for it."""
    cards = cards_of_sale(conn, sale_id)
    for card in cards:
        if card.balance < card.amount:
            raise SaleError(_("gift card {number} was already used ({spent} spent): cancelling would leave that "
                              "unpaid. Complete the sale to capture the payment, then refund what is left on the "
                              "card").format(number=card.number, spent=money(card.amount - card.balance)))
    for card in cards:
        take_back(conn, card, card.balance, actor, "sale cancelled")
    return cards


WEB_STORE = Actor("web store")


def void_cards_cancelled_on_the_web(conn: Connection, sale_id: int) -> list[IssuedCard]:
    """The web store cancelled an open sale after its card was issued: the payment authorisation
    is gone, so what is left on each card is taken back at once. A card already used cannot be
    taken back whole: that is recorded for a person in the sale's history (the shop gave value
    nobody paid for). Returns the cards that had been used."""
    used = []
    for card in cards_of_sale(conn, sale_id):
        if card.balance:
            take_back(conn, card, card.balance, WEB_STORE, "sale cancelled on the web store")
        if card.balance < card.amount:
            used.append(card)
            audit(conn, WEB_STORE, "gift_card_used_before_web_cancel", "websale", sale_id, "gift_card", card.number,
                  f"{card.amount - card.balance:.2f}",
                  "cancelled on the web store after the card was used: collect what was spent")
    return used


def set_gift_card_balance(engine: Engine, number: str, balance: Decimal, actor: Actor) -> Decimal:
    """What the POS shows is left on a card after it was spent there. A balance only goes down:
    money is never put back on a card from here. Returns the amount spent."""
    require(actor, "gift_card.balance")
    with engine.begin() as conn:
        card = conn.execute(select(card_table).where(card_table.c.number == number.strip())).first()
        if card is None:
            raise SaleError(_("no gift card {number}").format(number=number))
        if balance < 0 or balance > card.balance:
            raise SaleError(_("gift card {number} has {balance} left; its balance can only go down, to 0 at the "
                              "least").format(number=card.number, balance=money(card.balance)))
        spent = card.balance - balance
        conn.execute(update(card_table).where(card_table.c.id == card.id).values(balance=balance))
        sale_id = conn.execute(select(line_table.c.sale_id).where(line_table.c.id == card.sale_line_id)).scalar()
        audit(conn, actor, "gift_card_spent", "websale", sale_id, "gift_card_balance", f"{card.balance:.2f}",
              f"{balance:.2f}", card.number)
    return spent
