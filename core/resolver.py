"""What a person does with a web listing the rules could not match: link it to a shop product,
say it is not sold online, or take a decision back. Every change is audited and checked against
what the person saw, so two staff resolving the same listing cannot overwrite each other."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.audit import Actor
from core.dbtypes import utcnow
from core.matching import match_channel, match_sale_lines
from core.models import (
    AuditEntry, LineStock, MatchMethod, MatchState, Product, ProductLink, SaleState, WebListing, WebSale,
    WebSaleLine,
)

link_table, listing_table = ProductLink.__table__, WebListing.__table__


class ResolveError(Exception):
    """The change was refused; the message says why in words for staff."""


class AlreadyResolvedError(ResolveError):
    pass


@dataclass(frozen=True)
class _Listing:
    id: int
    channel_id: int
    version: int
    title: str
    gtin14: str | None
    part_number_key: str | None


def _listing(conn: Connection, listing_id: int) -> _Listing:
    row = conn.execute(
        select(WebListing.id, WebListing.channel_id, WebListing.version, WebListing.title,
               WebListing.gtin14, WebListing.part_number_key).where(WebListing.id == listing_id)
    ).first()
    if row is None:
        raise ResolveError("that web listing no longer exists")
    return _Listing(*row)


def _manual_link(conn: Connection, listing_id: int):
    return conn.execute(
        select(ProductLink.product_id, ProductLink.linked_by, ProductLink.linked_at)
        .where(ProductLink.listing_id == listing_id, ProductLink.manual.is_(True))
    ).first()


def _check_unchanged(conn: Connection, listing: _Listing, seen_version: int) -> None:
    manual = _manual_link(conn, listing.id)
    if manual is not None:
        when = manual.linked_at.astimezone().strftime("%d %b %H:%M")
        raise AlreadyResolvedError(f"{manual.linked_by} already resolved this listing ({when})")
    if listing.version != seen_version:
        raise AlreadyResolvedError("this listing changed since it was shown; look at it again")


def _claim(conn: Connection, listing: _Listing, seen_version: int, state: MatchState) -> None:
    """Move the listing to its new state only if nobody else did first."""
    claimed = conn.execute(
        update(listing_table)
        .where(listing_table.c.id == listing.id, listing_table.c.version == seen_version)
        .values(match_state=state.value, version=listing_table.c.version + 1)
    ).rowcount
    if claimed != 1:
        raise AlreadyResolvedError("someone else resolved this listing a moment ago")


def _product_keys(conn: Connection, product_id: int) -> tuple[str, str | None, str | None]:
    row = conn.execute(select(Product.sku, Product.gtin14, Product.part_number_key)
                       .where(Product.id == product_id)).first()
    if row is None:
        raise ResolveError("that product no longer exists")
    return row.sku, row.gtin14, row.part_number_key


def _audit(conn: Connection, actor: Actor, action: str, listing: _Listing, old: str | None,
           new: str | None) -> None:
    conn.execute(insert(AuditEntry.__table__).values(
        at=utcnow(), actor=actor.user, client=actor.client, action=action, entity="weblisting",
        entity_id=str(listing.id), field="product", old_value=old, new_value=new,
        note=listing.title,
    ))


def _refresh_sales(conn: Connection, channel_id: int) -> None:
    """Sale lines waiting on a listing take its product; sales with every line matched become ready."""
    match_sale_lines(conn, channel_id)
    waiting = select(WebSaleLine.sale_id).where(WebSaleLine.product_id.is_(None))
    conn.execute(
        update(WebSale.__table__)
        .where(WebSale.channel_id == channel_id, WebSale.state == SaleState.WAITING_MATCH.value,
               WebSale.id.not_in(waiting))
        .values(state=SaleState.READY.value, version=WebSale.version + 1)
    )


def _decide(engine: Engine, listing_id: int, product_id: int | None, actor: Actor, seen_version: int) -> None:
    with engine.begin() as conn:
        listing = _listing(conn, listing_id)
        _check_unchanged(conn, listing, seen_version)
        keys = [(listing.gtin14, listing.part_number_key)]
        if product_id is not None:
            sku, gtin, part = _product_keys(conn, product_id)
            taken = conn.execute(
                select(WebListing.title).join(ProductLink, ProductLink.listing_id == WebListing.id)
                .where(ProductLink.channel_id == listing.channel_id, ProductLink.product_id == product_id,
                       ProductLink.manual.is_(True))
            ).scalar()
            if taken is not None:
                raise ResolveError(f"{sku} is already linked by hand to the listing “{taken}”; unlink it first")
            keys.append((gtin, part))
            # Automatic links of this product elsewhere in the channel give way to the person.
            conn.execute(delete(link_table).where(
                link_table.c.channel_id == listing.channel_id, link_table.c.product_id == product_id,
                link_table.c.manual.is_(False)))
        old = conn.execute(
            select(Product.sku).join(ProductLink, ProductLink.product_id == Product.id)
            .where(ProductLink.listing_id == listing.id)
        ).scalar()
        conn.execute(delete(link_table).where(link_table.c.listing_id == listing.id))
        state = MatchState.MATCHED if product_id is not None else MatchState.NOT_SOLD_ONLINE
        _claim(conn, listing, seen_version, state)
        try:
            with conn.begin_nested():
                conn.execute(insert(link_table).values(
                    channel_id=listing.channel_id, listing_id=listing.id, product_id=product_id,
                    method=MatchMethod.MANUAL.value, manual=True, linked_by=str(actor), linked_at=utcnow(),
                ))
        except IntegrityError:
            raise AlreadyResolvedError("someone else resolved this listing a moment ago") from None
        match_channel(conn, listing.channel_id, extra_keys=keys)
        _refresh_sales(conn, listing.channel_id)
        _audit(conn, actor, "link" if product_id else "not_sold_online", listing, old,
               sku if product_id is not None else "not sold online")


def link_listing(engine: Engine, listing_id: int, product_id: int, actor: Actor, seen_version: int) -> None:
    """Link a web listing to a shop product by hand. `seen_version` is the listing's version as shown."""
    _decide(engine, listing_id, product_id, actor, seen_version)


def mark_not_sold_online(engine: Engine, listing_id: int, actor: Actor, seen_version: int) -> None:
    """Record that a web listing has no counterpart in the shop; it leaves the resolver's queue."""
    _decide(engine, listing_id, None, actor, seen_version)


def unlink_listing(engine: Engine, listing_id: int, actor: Actor) -> None:
    """Take a manual decision back: the listing goes through the rules again."""
    with engine.begin() as conn:
        listing = _listing(conn, listing_id)
        manual = _manual_link(conn, listing_id)
        if manual is None:
            raise ResolveError("this listing has no manual link to undo")
        keys = [(listing.gtin14, listing.part_number_key)]
        old = "not sold online"
        if manual.product_id is not None:
            sku, gtin, part = _product_keys(conn, manual.product_id)
            keys.append((gtin, part))
            old = sku
            # Lines of open sales that only had this product through the link wait again.
            conn.execute(update(WebSaleLine.__table__).where(
                WebSaleLine.listing_id == listing_id, WebSaleLine.product_id == manual.product_id,
                WebSaleLine.stock_state == LineStock.NONE.value,
            ).values(product_id=None))
        conn.execute(delete(link_table).where(link_table.c.listing_id == listing_id))
        conn.execute(update(listing_table).where(listing_table.c.id == listing_id).values(
            match_state=MatchState.UNMATCHED.value, version=listing_table.c.version + 1))
        match_channel(conn, listing.channel_id, extra_keys=keys)
        _audit(conn, actor, "unlink", listing, old, None)
