"""POS customers for web sales (SPEC §12): a web sale takes a POS customer by itself only when sure
(the one POS customer with its email, or the one a person linked for that email before), never
changing the POS customer's data; staff find, link or create one from the sale."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from core.roles import require
from core.i18n import _
from core.audit import Actor
from core.audit import record as audit
from core.dbtypes import utcnow
from core.models import (
    PosCustomer,
    Stock,
    WebSale,
    WebSaleLine,
)
from core.sales import SaleError, _claim, _sale

sale_table, line_table, stock_table = WebSale.__table__, WebSaleLine.__table__, Stock.__table__


def suggest_customers(engine: Engine, sale_id: int) -> list[tuple[int, str, str | None, str | None]]:
    """POS customers with the web customer's email or phone; only ever suggested."""
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
        conditions = []
        if sale.customer_email:
            conditions.append(func.lower(PosCustomer.email) == sale.customer_email.lower())
        if sale.customer_phone:
            conditions.append(PosCustomer.phone == sale.customer_phone)
        if not conditions:
            return []
        return [tuple(row) for row in conn.execute(
            select(PosCustomer.id, PosCustomer.name, PosCustomer.email, PosCustomer.phone)
            .where(or_(*conditions)).order_by(PosCustomer.id).limit(9))]


def link_customer(engine: Engine, sale_id: int, customer_id: int, actor: Actor, seen_version: int) -> None:
    require(actor, "sale.customer")
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if conn.execute(select(PosCustomer.id).where(PosCustomer.id == customer_id)).scalar() is None:
            raise SaleError(_("that customer no longer exists"))
        _claim(conn, sale_id, seen_version, pos_customer_id=customer_id, customer_link="person")
        audit(conn, actor, "link_customer", "websale", sale_id, "pos_customer", sale.pos_customer_id, customer_id)


def link_known_customers(conn: Connection, sale_ids: list[int]) -> int:
    """Give new web sales their POS customer where the rules are sure, set-based: the web customer a
    person linked before (same email, the latest such link), else the one POS customer with the
    sale's email. Nothing is ever written to the POS customer; anything less sure is left to staff."""
    if not sale_ids:
        return 0
    pos = PosCustomer.__table__
    earlier = sale_table.alias("earlier")
    same_email = func.lower(earlier.c.customer_email) == func.lower(sale_table.c.customer_email)
    linked_before = (select(earlier.c.pos_customer_id)
                     .where(same_email, earlier.c.customer_link == "person", earlier.c.pos_customer_id.is_not(None),
                            earlier.c.id != sale_table.c.id)
                     .order_by(earlier.c.id.desc()).limit(1).scalar_subquery())
    unlinked = and_(sale_table.c.id.in_(sale_ids), sale_table.c.pos_customer_id.is_(None),
                    sale_table.c.customer_email.is_not(None))
    count = conn.execute(update(sale_table).where(unlinked, linked_before.is_not(None))
                         .values(pos_customer_id=linked_before, customer_link="earlier")).rowcount
    by_email = func.lower(pos.c.email) == func.lower(sale_table.c.customer_email)
    only_one = select(func.count()).select_from(pos).where(by_email).scalar_subquery() == 1
    the_one = select(func.min(pos.c.id)).where(by_email).scalar_subquery()
    return count + conn.execute(update(sale_table).where(unlinked, only_one)
                                .values(pos_customer_id=the_one, customer_link="email")).rowcount


def search_customers(engine: Engine, text: str, limit: int = 20) -> list[tuple[int, str, str | None, str | None]]:
    """POS customers with a word of the name, the email, or the phone's digits starting with
    each typed word (for the link dialog); by name."""
    from core.search import customer_condition

    condition = customer_condition(text)
    if condition is None:
        return []
    pos = PosCustomer.__table__
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(pos.c.id, pos.c.name, pos.c.email, pos.c.phone)
            .where(condition).order_by(pos.c.name, pos.c.id).limit(limit))]


def add_customer(conn: Connection, **values) -> int:
    """A new POS customer, findable by name, email and phone at once."""
    from core.search import index_customers

    customer = conn.execute(insert(PosCustomer.__table__).values(
        **values, created_at=utcnow(), version=1)).inserted_primary_key[0]
    index_customers(conn, [customer])
    return customer


def create_customer_from_sale(engine: Engine, sale_id: int, actor: Actor, seen_version: int) -> int:
    require(actor, "sale.customer")
    with engine.begin() as conn:
        sale = _sale(conn, sale_id)
        if not sale.customer_name:
            raise SaleError(_("the web sale has no customer name to start from"))
        customer = add_customer(conn, name=sale.customer_name, email=sale.customer_email,
                                phone=sale.customer_phone, address=sale.billing_address)
        _claim(conn, sale_id, seen_version, pos_customer_id=customer, customer_link="person")
        audit(conn, actor, "create_customer", "poscustomer", customer, None, None, sale.customer_name,
               f"from web sale {sale.order_number}")
    return customer
