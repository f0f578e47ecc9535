"""Shop locations (a store, a warehouse) and which one a command means."""

from __future__ import annotations

import shlex

from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from core.roles import require
from core.i18n import _
from core.audit import Actor
from core.audit import record as audit
from core.dbtypes import utcnow
from core.models import ChannelLocation, Location, SalesChannel, Stock

FIRST_LOCATION_NAME = "Shop"
location_table = Location.__table__


class UnknownLocationError(Exception):
    pass


class LocationError(Exception):
    """A change to the locations was refused; the message is for people."""


NAME_LENGTH = 100


def resolve_location(conn: Connection, name: str | None) -> int:
    """The id of the named location, or of the first one when no name is given.

    On a database with no location yet, the named (or a default) location is created, so a new
    shop can import its catalog at once. Otherwise a misspelt name is an error, never a new place.
    """
    rows = conn.execute(select(location_table.c.id, location_table.c.name, location_table.c.active)
                        .order_by(location_table.c.id)).all()
    if not rows:
        new_name = (name or FIRST_LOCATION_NAME).strip()
        return conn.execute(
            insert(location_table).values(name=new_name, created_at=utcnow(), active=True)
        ).inserted_primary_key[0]
    if name is None:
        return next((row.id for row in rows if row.active), rows[0].id)
    wanted = name.strip().casefold()
    for row in rows:
        if row.name.casefold() == wanted:
            if not row.active:
                raise UnknownLocationError(_('the location {name} is retired').format(name=repr(row.name)))
            return row.id
    known = ", ".join(row.name for row in rows if row.active)
    raise UnknownLocationError(_('no location named {name} (known: {known}); to open a new one: tandem --add-location {value}').format(name=repr(name), known=known, value=shlex.quote(name.strip())))


def _clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise LocationError(_('a location name is 1 to {NAME_LENGTH} characters of text').format(NAME_LENGTH=NAME_LENGTH))
    return name


def _find(conn: Connection, name: str):
    row = conn.execute(select(location_table).where(func.lower(location_table.c.name) == name.casefold())).first()
    if row is None:
        raise LocationError(_('no location named {name}').format(name=repr(name)))
    return row


def add_location(engine: Engine, name: str, actor: Actor) -> int:
    """Open a new location (a second shop, a warehouse); its stock comes from --import-catalog --location."""
    require(actor, "locations.change")
    name = _clean(name)
    with engine.begin() as conn:
        if conn.execute(select(location_table.c.id).where(func.lower(location_table.c.name) == name.casefold())).first():
            raise LocationError(_('there is already a location named {name}').format(name=repr(name)))
        location_id = conn.execute(insert(location_table).values(name=name, created_at=utcnow(), active=True)) \
            .inserted_primary_key[0]
        audit(conn, actor, "location_added", "location", location_id, "name", None, name)
    return location_id


def rename_location(engine: Engine, old: str, new: str, actor: Actor) -> None:
    require(actor, "locations.change")
    new = _clean(new)
    with engine.begin() as conn:
        row = _find(conn, old)
        clash = conn.execute(select(location_table.c.id).where(
            func.lower(location_table.c.name) == new.casefold(), location_table.c.id != row.id)).first()
        if clash:
            raise LocationError(_('there is already a location named {new}').format(new=repr(new)))
        conn.execute(update(location_table).where(location_table.c.id == row.id).values(name=new))
        audit(conn, actor, "location_renamed", "location", row.id, "name", row.name, new)


def retire_location(engine: Engine, name: str, actor: Actor) -> None:
    """Retire a location: it keeps its stock records and history, and nothing new goes to it.
    Refused while a web store sells its stock or receives supplier orders there."""
    require(actor, "locations.change")
    with engine.begin() as conn:
        row = _find(conn, name)
        if not row.active:
            raise LocationError(_('{name} is already retired').format(name=repr(row.name)))
        sold_by = conn.execute(select(SalesChannel.name).where(
            SalesChannel.active.is_(True),
            or_(SalesChannel.location_id == row.id, SalesChannel.supplier_location_id == row.id,
                SalesChannel.id.in_(select(ChannelLocation.channel_id).where(ChannelLocation.location_id == row.id))))
        ).scalars().all()
        if sold_by:
            raise LocationError(_('the web store {value} still uses {name}: change its location first').format(value=repr(sold_by[0]), name=repr(row.name)))
        others = conn.execute(select(func.count()).select_from(location_table).where(
            location_table.c.active.is_(True), location_table.c.id != row.id)).scalar_one()
        if not others:
            raise LocationError(_("the shop needs at least one location in use"))
        conn.execute(update(location_table).where(location_table.c.id == row.id).values(active=False))
        audit(conn, actor, "location_retired", "location", row.id, "active", True, False)


def restore_location(engine: Engine, name: str, actor: Actor) -> None:
    """Put a retired location back in use, with the stock records it kept (a retirement undone)."""
    require(actor, "locations.change")
    with engine.begin() as conn:
        row = _find(conn, name)
        if row.active:
            raise LocationError(_('{name} is already in use').format(name=repr(row.name)))
        conn.execute(update(location_table).where(location_table.c.id == row.id).values(active=True))
        audit(conn, actor, "location_restored", "location", row.id, "active", False, True)


def list_locations(engine: Engine) -> list[tuple[str, bool, int]]:
    """Each location: its name, whether it is in use, and how many units it has on hand."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(location_table.c.name, location_table.c.active, func.coalesce(func.sum(Stock.on_hand), 0))
            .outerjoin(Stock, Stock.location_id == location_table.c.id)
            .group_by(location_table.c.id, location_table.c.name, location_table.c.active)
            .order_by(location_table.c.id))]
