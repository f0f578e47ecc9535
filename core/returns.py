"""Returns of web sales (SPEC §14-15): returned quantities are negative, each line's tax rate
defaults to the rate actually charged and may be changed (audited, with a reason), shipping is
refunded with a non-inventory product at quantity -1, returned units go back on hand unless
marked "do not restock", and the refund goes to the original payment's type and account.

Amounts are Decimal, each line's tax rounded half-up to the cent, so the total shown is the total
refunded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from core.roles import refund_limit, require
from core.i18n import _, money
from core.audit import Actor
from core.audit import record as audit
from core.dbtypes import utcnow
from core.gift_cards import cards_of_sale, take_back
from core.sales import SaleError
from core.models import (
    GiftCard,
    Location, Payment, Product, ReturnLine, SaleReturn, SalesChannel, SaleState, Stock, WebSale, WebSaleLine,
)

SHIPPING_REFUND_SKU = "SHIP-REFUND"
CENT = Decimal("0.01")
return_table, rline_table = SaleReturn.__table__, ReturnLine.__table__


class ReturnError(Exception):
    """The change was refused and nothing was saved; the message is for staff, `field` the input
    to correct when a dialog has several."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class DraftOvertaken(ReturnError):
    """Another return of the sale was posted after this draft was made: it now asks for more than
    is left. `changes` says, line by line, what the draft asks and what is left."""

    def __init__(self, changes: list[str]):
        super().__init__(_("another return of this sale was posted meanwhile: {changes}. Redo this draft from what "
                           "is left").format(changes="; ".join(changes)))
        self.changes = changes


def _overtaken(view: ReturnView) -> list[str]:
    """What a draft asks beyond what completed returns left, line by line, in words."""
    changes = []
    for line in view.lines:
        if not line.quantity:
            continue
        if line.is_shipping:
            if line.unit_price > view.shipping_left:
                changes.append(_("shipping: {asked} asked, {left} left").format(
                    asked=money(line.unit_price), left=money(view.shipping_left)))
        elif -line.quantity > line.sold - line.returned_elsewhere:
            changes.append(_("{title}: {asked} asked, {left} left").format(
                title=line.title, asked=-line.quantity, left=line.sold - line.returned_elsewhere))
    return changes


def redo_draft(engine: Engine, return_id: int, actor: Actor) -> list[str]:
    """Bring a draft overtaken by another return back into line: each line down to what is left
    (a shipping refund with nothing left comes off). Returns what changed, in words."""
    with engine.begin() as conn:
        view = _view(conn, return_id)
        if view.state != "draft":
            raise ReturnError(_("this return is already completed"))
        changes = _overtaken(view)
        for line in view.lines:
            if line.is_shipping and line.quantity and line.unit_price > view.shipping_left:
                if view.shipping_left > 0:
                    conn.execute(update(rline_table).where(rline_table.c.id == line.id)
                                 .values(unit_price=view.shipping_left))
                else:
                    conn.execute(delete(rline_table).where(rline_table.c.id == line.id))
            elif not line.is_shipping and -line.quantity > line.sold - line.returned_elsewhere:
                conn.execute(update(rline_table).where(rline_table.c.id == line.id)
                             .values(quantity=-(line.sold - line.returned_elsewhere)))
        conn.execute(update(return_table).where(return_table.c.id == return_id)
                     .values(version=return_table.c.version + 1))
        if changes:
            _audit(conn, actor, "redo_return", return_id, None, None, None, "; ".join(changes))
    return changes


def line_amounts(quantity: int, unit_price: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Net, tax and total of one return line at a rate a person chose, the tax rounded half-up to the cent."""
    net = (unit_price * quantity).quantize(CENT, ROUND_HALF_UP)
    tax = (net * tax_rate / 100).quantize(CENT, ROUND_HALF_UP)
    return net, tax, net + tax


def share(total: Decimal, whole: Decimal | int, before: Decimal | int, part: Decimal | int) -> Decimal:
    """The part of `total` (money charged for `whole` units or cents) that belongs to `part` more
    of them after `before` were already refunded. The running total is rounded, not each part,
    so all parts together come to exactly `total`, and never more."""
    if whole <= 0:
        return Decimal("0.00")

    def up_to(count) -> Decimal:
        return (total * Decimal(count) / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)

    return up_to(before + part) - up_to(before)


@dataclass(frozen=True)
class Charged:
    """What the sale charged for one return line's sale line (or its shipping), and how much of it
    completed returns already refunded: units for a product line, money for shipping."""
    net: Decimal
    tax: Decimal
    whole: Decimal | int  # units sold, or shipping charged
    before: Decimal | int  # units, or shipping, refunded by completed returns


@dataclass(frozen=True)
class ReturnLineView:
    id: int
    sale_line_id: int | None
    title: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    charged_tax_rate: Decimal
    restock: bool
    is_shipping: bool
    sold: int
    returned_elsewhere: int
    charged: Charged | None = None
    refunded: tuple[Decimal, Decimal] | None = None  # net and tax, once the return is posted
    gift_card: str | None = None  # the card this line issued, if it is a gift-card line
    card_left: Decimal | None = None  # what is still on that card: the most this line can refund

    @property
    def amounts(self) -> tuple[Decimal, Decimal, Decimal]:
        """At the rate charged, the refund is this line's share of the net and tax actually charged
        (a full return gives back exactly what was charged); an edited rate recomputes the tax.
        A posted line shows what it refunded."""
        if self.refunded is not None:
            return self.refunded[0], self.refunded[1], self.refunded[0] + self.refunded[1]
        if self.charged is None or not self.quantity:
            return line_amounts(self.quantity, self.unit_price, self.tax_rate)
        part = self.unit_price if self.is_shipping else -self.quantity
        net = -share(self.charged.net, self.charged.whole, self.charged.before, part)
        if self.tax_rate == self.charged_tax_rate:
            tax = -share(self.charged.tax, self.charged.whole, self.charged.before, part)
        else:
            tax = (net * self.tax_rate / 100).quantize(CENT, ROUND_HALF_UP)
        if self.card_left is not None and -(net + tax) > self.card_left:
            # A card spent in part: only what is left on it comes back (SPEC §24).
            capped_net = (net * self.card_left / -(net + tax)).quantize(CENT, ROUND_HALF_UP)
            return capped_net, -self.card_left - capped_net, -self.card_left
        return net, tax, net + tax


@dataclass(frozen=True)
class ReturnView:
    id: int
    version: int
    sale_id: int | None
    order_number: str | None
    state: str
    lines: list[ReturnLineView]
    shipping_left: Decimal = Decimal("0.00")  # shipping not yet refunded by completed returns

    @property
    def totals(self) -> tuple[Decimal, Decimal, Decimal]:
        amounts = [line.amounts for line in self.lines if line.quantity]
        return (sum((a[0] for a in amounts), Decimal("0.00")), sum((a[1] for a in amounts), Decimal("0.00")),
                sum((a[2] for a in amounts), Decimal("0.00")))


def find_sales(engine: Engine, text: str, limit: int = 50) -> list[tuple[int, str, str | None, Decimal]]:
    """Completed web sales by order number, customer name, email or phone, or a scanned barcode
    of a line; newest first."""
    from core.search import sale_condition

    condition = sale_condition(text)
    if condition is None:
        return []
    sale = WebSale.__table__
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(sale.c.id, sale.c.order_number, sale.c.customer_name, sale.c.total)
            .where(condition, sale.c.state == SaleState.COMPLETED.value)
            .order_by(sale.c.ordered_at.desc(), sale.c.id.desc()).limit(limit))]


def _audit(conn, actor: Actor, action: str, return_id: int, field, old, new, note=None) -> None:
    audit(conn, actor, action, "salereturn", return_id, field, old, new, note)


def start_return(engine: Engine, sale_id: int, actor: Actor) -> int:
    """A draft return for a completed web sale, one line per sold line at quantity 0."""
    require(actor, "return.post")
    with engine.begin() as conn:
        sale = conn.execute(select(WebSale.__table__).where(WebSale.id == sale_id)).first()
        if sale is None or sale.state != SaleState.COMPLETED.value:
            raise ReturnError(_("only a completed web sale can be returned"))
        # Units come back where the sale took them from: its location, else its channel's, else the first.
        location = (sale.location_id
                    or conn.execute(select(SalesChannel.location_id).where(SalesChannel.id == sale.channel_id)).scalar()
                    or conn.execute(select(Location.id).order_by(Location.id).limit(1)).scalar())
        return_id = conn.execute(insert(return_table).values(
            sale_id=sale_id, state="draft", idempotency_key=uuid.uuid4().hex, payment_type_id=sale.payment_type_id,
            location_id=location,
            refund_total=Decimal("0.00"), created_by=str(actor), created_at=utcnow(), version=1,
        )).inserted_primary_key[0]
        lines = conn.execute(select(WebSaleLine.id, WebSaleLine.product_id, WebSaleLine.unit_price,
                                    WebSaleLine.tax_rate).where(WebSaleLine.sale_id == sale_id,
                                                                WebSaleLine.product_id.is_not(None))
                             .order_by(WebSaleLine.id)).all()
        if lines:
            conn.execute(insert(rline_table), [{
                "return_id": return_id, "sale_line_id": line.id, "product_id": line.product_id, "quantity": 0,
                "unit_price": line.unit_price, "tax_rate": line.tax_rate, "charged_tax_rate": line.tax_rate,
                "restock": True, "is_shipping": False,
            } for line in lines])
        _audit(conn, actor, "start_return", return_id, None, None, sale.order_number)
    return return_id


def _returned_elsewhere(conn: Connection, sale_line_id: int, return_id: int) -> int:
    """Units of this sale line that other, completed returns took back. A draft reserves nothing:
    until it is posted it is only a screen, and the check at posting keeps two drafts honest."""
    return -(conn.execute(
        select(func.coalesce(func.sum(rline_table.c.quantity), 0))
        .join(return_table, return_table.c.id == rline_table.c.return_id)
        .where(rline_table.c.sale_line_id == sale_line_id, rline_table.c.return_id != return_id,
               return_table.c.state == "completed")
    ).scalar())


def _shipping_refunded(conn: Connection, sale_id: int, return_id: int) -> Decimal:
    """Shipping that other, completed returns of this sale already refunded."""
    return conn.execute(
        select(func.coalesce(func.sum(rline_table.c.unit_price), 0))
        .join(return_table, return_table.c.id == rline_table.c.return_id)
        .where(return_table.c.sale_id == sale_id, return_table.c.id != return_id,
               return_table.c.state == "completed", rline_table.c.is_shipping.is_(True))
    ).scalar() or Decimal("0.00")


def _shipping_tax_charged(sale) -> Decimal:
    if sale.shipping_tax:
        return sale.shipping_tax
    return (sale.shipping_charged * sale.shipping_tax_rate / 100).quantize(CENT, ROUND_HALF_UP)


def _line_charged(unit_price: Decimal, quantity: int, discount: Decimal | None, tax_amount: Decimal | None,
                  tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net and tax a sale line was charged. A store that did not say the tax amount charged it at its rate."""
    net = (unit_price * quantity - (discount or 0)).quantize(CENT, ROUND_HALF_UP)
    tax = tax_amount if tax_amount else (net * tax_rate / 100).quantize(CENT, ROUND_HALF_UP)
    return net, tax


def _draft_line(conn: Connection, line_id: int):
    line = conn.execute(select(rline_table, return_table.c.state, return_table.c.sale_id)
                        .join(return_table, return_table.c.id == rline_table.c.return_id)
                        .where(rline_table.c.id == line_id)).first()
    if line is None:
        raise ReturnError(_("that return line no longer exists"))
    if line.state != "draft":
        raise ReturnError(_("this return is already completed"))
    return line


def set_quantity(engine: Engine, line_id: int, units: int, actor: Actor) -> None:
    """How many units come back (entered positive, stored negative)."""
    with engine.begin() as conn:
        _set_units(conn, _draft_line(conn, line_id), units)


def add_units(engine: Engine, line_id: int, more: int, actor: Actor) -> int:
    """One more unit back (or fewer, with a negative `more`), counted from what is saved, not from
    what a screen last showed: `+` pressed twice quickly brings back two. Returns the units now."""
    with engine.begin() as conn:
        line = _draft_line(conn, line_id)
        # Lock the line while it is read and written (PostgreSQL; SQLite has one writer anyway).
        conn.execute(select(rline_table.c.id).where(rline_table.c.id == line_id).with_for_update())
        units = -conn.execute(select(rline_table.c.quantity).where(rline_table.c.id == line_id)).scalar() + more
        _set_units(conn, line, units)
    return units


def _set_units(conn: Connection, line, units: int) -> None:
    if line.is_shipping:
        raise ReturnError(_("the shipping refund is always one"))
    if units < 0:
        raise ReturnError(_("enter how many units come back, as a positive number"))
    sold = conn.execute(select(WebSaleLine.quantity).where(WebSaleLine.id == line.sale_line_id)).scalar()
    other = _returned_elsewhere(conn, line.sale_line_id, line.return_id)
    # Fewer units is always allowed: a draft another return overtook walks back into line.
    if units > sold - other and units >= -line.quantity:
        raise ReturnError(_('only {value} of {sold} sold can still come back').format(value=sold - other, sold=sold))
    conn.execute(update(rline_table).where(rline_table.c.id == line.id).values(quantity=-units))


def checked_tax_change(rate, reason: str | None) -> tuple[Decimal, str]:
    """A new tax rate (a number of percent, "8.25", "8,25 %") and its reason, as set_tax_rate takes
    them; raises ReturnError saying what is wrong (the dialog says it and keeps what was typed)."""
    try:
        rate = Decimal(str(rate).strip().rstrip("%").strip().replace(",", "."))
    except ArithmeticError:
        raise ReturnError(_("the tax rate is a number of percent, like 8.25")) from None
    if not rate.is_finite() or not Decimal("0") <= rate <= Decimal("100"):
        raise ReturnError(_("a tax rate is between 0 and 100 %"))
    if rate != rate.quantize(Decimal("0.0001")):
        raise ReturnError(_("a tax rate has at most 4 decimals"))
    if not reason or not reason.strip():
        raise ReturnError(_("say briefly why the tax rate changes"), field="reason")
    return rate, reason.strip()


def set_tax_rate(engine: Engine, line_id: int, rate: Decimal, reason: str, actor: Actor) -> None:
    """Change a return line's tax rate; who, from what, to what and why go to the audit log."""
    require(actor, "return.tax_rate")
    rate, reason = checked_tax_change(rate, reason)
    with engine.begin() as conn:
        line = _draft_line(conn, line_id)
        conn.execute(update(rline_table).where(rline_table.c.id == line_id)
                     .values(tax_rate=rate, tax_rate_reason=reason.strip()[:200]))
        _audit(conn, actor, "tax_rate", line.return_id, f"line {line_id} tax_rate", f"{line.tax_rate.normalize():f}",
               f"{rate.normalize():f}", reason.strip())


def set_restock(engine: Engine, line_id: int, restock: bool, actor: Actor) -> None:
    with engine.begin() as conn:
        line = _draft_line(conn, line_id)
        conn.execute(update(rline_table).where(rline_table.c.id == line_id).values(restock=restock))
        _audit(conn, actor, "restock", line.return_id, f"line {line_id} restock", line.restock, restock)


def add_shipping_refund(engine: Engine, return_id: int, actor: Actor, amount: Decimal | None = None) -> int:
    """A shipping-refund line: the non-inventory product at -1, priced at the shipping charged
    (or less), taxed at the shipping tax rate charged."""
    with engine.begin() as conn:
        ret = conn.execute(select(return_table).where(return_table.c.id == return_id)).first()
        if ret is None or ret.state != "draft":
            raise ReturnError(_("this return is already completed"))
        sale = conn.execute(select(WebSale.__table__).where(WebSale.id == ret.sale_id)).first()
        product = conn.execute(select(Product.id).where(Product.sku == SHIPPING_REFUND_SKU,
                                                        Product.non_inventory.is_(True))).scalar()
        if product is None:
            raise ReturnError(_('the catalog has no non-inventory product {SHIPPING_REFUND_SKU} for shipping refunds').format(SHIPPING_REFUND_SKU=SHIPPING_REFUND_SKU))
        if sale.shipping_charged <= 0:
            raise ReturnError(_("no shipping was charged on this sale"))
        exists = conn.execute(select(rline_table.c.id).where(rline_table.c.return_id == return_id,
                                                             rline_table.c.is_shipping.is_(True))).scalar()
        if exists:
            raise ReturnError(_("the shipping refund is already on this return"))
        left = sale.shipping_charged - _shipping_refunded(conn, sale.id, return_id)
        if left <= 0:
            raise ReturnError(_('the {shipping_charged} of shipping was already refunded by an earlier return').format(shipping_charged=money(sale.shipping_charged)))
        price = left if amount is None else Decimal(amount)
        if price <= 0 or price > left:
            raise ReturnError(_shipping_limit(sale.shipping_charged, left))
        rate = sale.shipping_tax_rate
        if not rate and sale.shipping_tax and sale.shipping_charged:
            rate = (sale.shipping_tax / sale.shipping_charged * 100).quantize(Decimal("0.0001"))
        line = conn.execute(insert(rline_table).values(
            return_id=return_id, sale_line_id=None, product_id=product, quantity=-1, unit_price=price, tax_rate=rate,
            charged_tax_rate=rate, restock=False, is_shipping=True)).inserted_primary_key[0]
        _audit(conn, actor, "shipping_refund", return_id, "shipping", None, f"{price:.2f}")
    return line


def _shipping_limit(charged: Decimal, left: Decimal) -> str:
    if left == charged:
        return _("the shipping refund is more than 0 and at most the {charged} charged").format(charged=money(charged))
    return _("the shipping refund is more than 0 and at most the {left} left of the {charged} charged "
             "(earlier returns refunded the rest)").format(left=money(left), charged=money(charged))


def set_shipping_amount(engine: Engine, line_id: int, amount: Decimal, actor: Actor) -> None:
    """Refund less shipping than was charged; never more."""
    try:
        amount = Decimal(str(amount)).quantize(CENT)
    except ArithmeticError:
        raise ReturnError(_("the amount is a number, like 9.95")) from None
    with engine.begin() as conn:
        line = _draft_line(conn, line_id)
        if not line.is_shipping:
            raise ReturnError(_("only the shipping refund's amount can be changed; products keep the price charged"))
        charged = conn.execute(select(WebSale.shipping_charged).where(WebSale.id == line.sale_id)).scalar()
        left = charged - _shipping_refunded(conn, line.sale_id, line.return_id)
        if not Decimal("0") < amount <= left:
            raise ReturnError(_shipping_limit(charged, left))
        conn.execute(update(rline_table).where(rline_table.c.id == line_id).values(unit_price=amount))
        _audit(conn, actor, "shipping_refund", line.return_id, "shipping", f"{line.unit_price:.2f}", f"{amount:.2f}")


def return_view(engine: Engine, return_id: int) -> ReturnView:
    with engine.connect() as conn:
        return _view(conn, return_id)


def _view(conn: Connection, return_id: int) -> ReturnView:
    ret = conn.execute(select(return_table, WebSale.order_number)
                       .outerjoin(WebSale, WebSale.id == return_table.c.sale_id)
                       .where(return_table.c.id == return_id)).first()
    if ret is None:
        raise ReturnError(_("that return no longer exists"))
    sale = conn.execute(select(WebSale.__table__).where(WebSale.id == ret.sale_id)).first()
    rows = conn.execute(
        select(rline_table, func.coalesce(WebSaleLine.title, Product.description).label("title"),
               func.coalesce(WebSaleLine.quantity, 1).label("sold"), WebSaleLine.unit_price.label("sold_price"),
               WebSaleLine.quantity.label("sold_quantity"), WebSaleLine.discount, WebSaleLine.tax_amount,
               WebSaleLine.tax_rate.label("sold_rate"), GiftCard.number.label("card_number"),
               GiftCard.balance.label("card_left"))
        .outerjoin(WebSaleLine, WebSaleLine.id == rline_table.c.sale_line_id)
        .outerjoin(GiftCard, GiftCard.sale_line_id == rline_table.c.sale_line_id)
        .join(Product, Product.id == rline_table.c.product_id)
        .where(rline_table.c.return_id == return_id).order_by(rline_table.c.is_shipping, rline_table.c.id)
    ).all()
    shipping_before = _shipping_refunded(conn, sale.id, return_id) if sale is not None else Decimal("0.00")
    lines = []
    for r in rows:
        before = _returned_elsewhere(conn, r.sale_line_id, return_id) if r.sale_line_id else 0
        if r.is_shipping and sale is not None:
            charged = Charged(sale.shipping_charged, _shipping_tax_charged(sale), sale.shipping_charged,
                              shipping_before)
        elif r.sale_line_id:
            net, tax = _line_charged(r.sold_price, r.sold_quantity, r.discount, r.tax_amount, r.sold_rate)
            charged = Charged(net, tax, r.sold_quantity, before)
        else:
            charged = None
        refunded = (r.refunded_net, r.refunded_tax) if r.refunded_net is not None else None
        lines.append(ReturnLineView(r.id, r.sale_line_id, r.title, r.quantity, r.unit_price, r.tax_rate,
                                    r.charged_tax_rate, r.restock, r.is_shipping, r.sold, before, charged, refunded,
                                    r.card_number, r.card_left if r.card_number else None))
    left = (sale.shipping_charged - shipping_before) if sale is not None else Decimal("0.00")
    return ReturnView(ret.id, ret.version, ret.sale_id, ret.order_number, ret.state, lines, left)


def abandon_return(engine: Engine, return_id: int, actor: Actor) -> bool:
    """Leave a draft unposted: it refunds nothing and reserves nothing. False when it was not a draft."""
    with engine.begin() as conn:
        left = conn.execute(update(return_table).where(return_table.c.id == return_id, return_table.c.state == "draft")
                            .values(state="abandoned", version=return_table.c.version + 1)).rowcount
        if left:
            _audit(conn, actor, "abandon_return", return_id, "state", "draft", "abandoned")
    return bool(left)


def complete_return(engine: Engine, return_id: int, actor: Actor, seen_version: int) -> Decimal:
    """Post the return: units back on hand where restocked, the refund to the original payment's
    type (and so its account). Returns the amount refunded (negative). The amounts are worked
    out inside the posting transaction, with the sale locked, against the returns completed
    before it, so two returns posted at once can never refund one unit or one cent twice."""
    require(actor, "return.post")
    with engine.begin() as conn:
        sale_id = conn.execute(select(return_table.c.sale_id).where(return_table.c.id == return_id)).scalar()
        # One return of a sale is posted at a time (PostgreSQL row lock; SQLite has one writer anyway).
        sale = conn.execute(select(WebSale.__table__).where(WebSale.id == sale_id).with_for_update()).first()
        claimed = conn.execute(update(return_table).where(
            return_table.c.id == return_id, return_table.c.version == seen_version, return_table.c.state == "draft")
            .values(version=return_table.c.version + 1)).rowcount
        if claimed != 1:
            raise ReturnError(_("this return changed or was completed a moment ago; look at it again"))
        view = _view(conn, return_id)
        lines = [line for line in view.lines if line.quantity]
        if not lines:
            raise ReturnError(_("nothing is being returned yet"))
        overtaken = _overtaken(view)
        if overtaken:
            raise DraftOvertaken(overtaken)
        for line in lines:
            if line.gift_card and line.quantity < 0 and not line.card_left:
                raise ReturnError(_("gift card {number} has nothing left on it: it was spent, so the customer has had "
                                    "its value and this line cannot be refunded. Set its quantity back to 0").format(
                                        number=line.gift_card))
        _net, _tax, total = view.totals
        refunded_before = conn.execute(
            select(func.coalesce(func.sum(return_table.c.refund_total), 0))
            .where(return_table.c.sale_id == sale_id, return_table.c.state == "completed")).scalar()
        if -(refunded_before + total) > refund_limit():
            # The limit is on all a sale's refunds: several small returns add up to the same money.
            require(actor, "return.over_limit")
        if sale.captured_amount + refunded_before + total < 0:
            raise ReturnError(_('this would refund more than the {captured_amount} captured on the sale ({value} already refunded)').format(captured_amount=money(sale.captured_amount), value=money(-refunded_before)))
        cards = {card.sale_line_id: card for card in cards_of_sale(conn, sale_id)}
        for line in lines:
            if line.gift_card and line.quantity < 0:
                # Taken back from the card in the same transaction as the refund: both or neither.
                try:
                    take_back(conn, cards[line.sale_line_id], -line.amounts[2], actor, f"return {return_id}")
                except SaleError as exc:
                    raise ReturnError(str(exc)) from None
        conn.execute(update(return_table).where(return_table.c.id == return_id)
                     .values(state="completed", completed_at=utcnow(), refund_total=total))
        conn.execute(update(rline_table).where(rline_table.c.id == bindparam("line"))
                     .values(refunded_net=bindparam("net"), refunded_tax=bindparam("tax")),
                     [{"line": line.id, "net": line.amounts[0], "tax": line.amounts[1]} for line in view.lines])
        ret = conn.execute(select(return_table).where(return_table.c.id == return_id)).one()
        location = ret.location_id or conn.execute(select(Location.id).order_by(Location.id).limit(1)).scalar()
        restocked = conn.execute(
            select(rline_table.c.product_id, func.sum(-rline_table.c.quantity))
            .join(Product, Product.id == rline_table.c.product_id)
            .where(rline_table.c.return_id == return_id, rline_table.c.restock.is_(True),
                   Product.non_inventory.is_(False), Product.gift_card_placeholder.is_(False),
                   rline_table.c.quantity < 0)
            .group_by(rline_table.c.product_id)).all()
        for product_id, units in restocked:
            if not conn.execute(update(Stock.__table__).where(Stock.product_id == product_id, Stock.location_id == location)
                                .values(on_hand=Stock.on_hand + units, version=Stock.version + 1)).rowcount:
                conn.execute(insert(Stock.__table__).values(product_id=product_id, location_id=location, on_hand=units,
                                                            committed=0, version=1, updated_at=utcnow()))
        if ret.payment_type_id is None:
            raise ReturnError(_("the sale has no recorded payment to refund to"))
        conn.execute(insert(Payment.__table__).values(
            sale_id=ret.sale_id, payment_type_id=ret.payment_type_id, amount=total,
            reference=f"return {return_id}", captured_elsewhere=False, received_at=utcnow(), received_by=str(actor)))
        _audit(conn, actor, "complete_return", return_id, "refund_total", None, f"{total:.2f}")
    return total


def refund_on_website(engine: Engine, return_id: int, actor: Actor, secrets_path=None) -> str | None:
    """For a channel with `refund_on_website`, create the posted return's refund on the website
    too. The return's idempotency key travels with the refund, so running this again (after a
    lost answer, say) never refunds twice. None when the channel does not ask for it."""
    from core.connectors.base import ConnectorError
    from core.config import ChannelConfig
    from core.connectors.registry import connector_for
    from core.models import SalesChannel

    with engine.connect() as conn:
        ret = conn.execute(select(return_table).where(return_table.c.id == return_id)).one()
        sale = conn.execute(select(WebSale.__table__).where(WebSale.id == ret.sale_id)).one()
        channel = conn.execute(select(SalesChannel.__table__).where(SalesChannel.id == sale.channel_id)).one()
    config = ChannelConfig.from_row(channel)
    if not config.refund_on_website:
        return None
    if ret.state != "completed":
        raise ReturnError(_("post the return first"))
    connector = connector_for(config, secrets_path)
    try:
        reference = connector.refund(sale.external_id, -ret.refund_total, ret.idempotency_key)
    except ConnectorError as exc:
        with engine.begin() as conn:
            _audit(conn, actor, "website_refund_failed", return_id, "website_refund", None, None, str(exc))
        raise ReturnError(_('refunded here, but the website refused: {exc}').format(exc=exc)) from None
    finally:
        connector.close()
    with engine.begin() as conn:
        _audit(conn, actor, "website_refund", return_id, "website_refund", None, reference)
    return reference
