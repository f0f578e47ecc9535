"""Payment types and the accounting account each one posts to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.roles import require
from core.i18n import N_, _
from core.audit import Actor
from core.audit import record as audit
from core.models import PaymentType


# The names and accounts every shop starts with (schema 0003 writes them in English): shown in the
# console's language while the shop has not renamed them; a name the shop typed is shown as typed.
STARTING_WORDS = frozenset({
    N_("Online card"), N_("Online merchant account"), N_("PayPal"), N_("In-store card"),
    N_("Card terminal merchant account"), N_("Cash"), N_("Cash drawer"), N_("Gift card"),
    N_("Gift card liability"),
})


def shown_words(name: str) -> str:
    """A payment type's name or account as staff read it."""
    return _(name) if name in STARTING_WORDS else name


class PaymentTypeError(Exception):
    pass


@dataclass(frozen=True)
class PaymentTypeView:
    id: int
    name: str
    account: str
    card_present: bool
    online: bool
    version: int


def list_payment_types(engine: Engine) -> list[PaymentTypeView]:
    with engine.connect() as conn:
        return [PaymentTypeView(*row) for row in conn.execute(
            select(PaymentType.id, PaymentType.name, PaymentType.account, PaymentType.card_present, PaymentType.online,
                   PaymentType.version).where(PaymentType.active.is_(True)).order_by(PaymentType.id))]


def update_payment_type(engine: Engine, type_id: int, actor: Actor, seen_version: int, *, account: str | None = None,
                        card_present: bool | None = None) -> None:
    require(actor, "payment_type.edit")
    values = {}
    if account is not None:
        if not account.strip() or len(account) > 200:
            raise PaymentTypeError(_("an account name is 1 to 200 characters"))
        values["account"] = account.strip()
    if card_present is not None:
        values["card_present"] = card_present
    with engine.begin() as conn:
        old = conn.execute(select(PaymentType.__table__).where(PaymentType.id == type_id)).first()
        if old is None:
            raise PaymentTypeError(_("that payment type no longer exists"))
        if old.online and values.get("card_present"):
            raise PaymentTypeError(_("an online payment is never card-present"))
        changed = conn.execute(update(PaymentType.__table__).where(
            PaymentType.id == type_id, PaymentType.version == seen_version)
            .values(version=PaymentType.version + 1, **values)).rowcount
        if changed != 1:
            raise PaymentTypeError(_("someone else changed this payment type a moment ago"))
        for name, new in values.items():
            audit(conn, actor, "payment_type", "paymenttype", type_id, name, getattr(old, name), new)


def add_payment_type(engine: Engine, name: str, account: str, actor: Actor, *, card_present: bool = False,
                     online: bool = False) -> int:
    require(actor, "payment_type.edit")
    if not name.strip() or not account.strip():
        raise PaymentTypeError(_("a payment type needs a name and an account"))
    try:
        with engine.begin() as conn:
            new = conn.execute(insert(PaymentType.__table__).values(
                name=name.strip(), account=account.strip(), card_present=card_present and not online, online=online,
                active=True, version=1)).inserted_primary_key[0]
            audit(conn, actor, "add_payment_type", "paymenttype", new, new=f"{name.strip()} -> {account.strip()}")
            return new
    except IntegrityError:
        raise PaymentTypeError(_('a payment type named {value} already exists').format(value=repr(name.strip()))) from None
