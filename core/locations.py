"""Shop locations (a store, a warehouse) and which one a command means."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from core.dbtypes import utcnow
from core.models import Location

FIRST_LOCATION_NAME = "Shop"
location_table = Location.__table__


class UnknownLocationError(Exception):
    pass


def resolve_location(conn: Connection, name: str | None) -> int:
    """The id of the named location, or of the first one when no name is given.

    On a database with no location yet, the named (or a default) location is created, so a new
    shop can import its catalog at once. Otherwise a misspelt name is an error, never a new place.
    """
    rows = conn.execute(select(location_table.c.id, location_table.c.name).order_by(location_table.c.id)).all()
    if not rows:
        new_name = (name or FIRST_LOCATION_NAME).strip()
        return conn.execute(
            insert(location_table).values(name=new_name, created_at=utcnow())
        ).inserted_primary_key[0]
    if name is None:
        return rows[0].id
    wanted = name.strip().casefold()
    for row in rows:
        if row.name.casefold() == wanted:
            return row.id
    known = ", ".join(row.name for row in rows)
    raise UnknownLocationError(f"no location named {name!r} (known: {known})")
