"""Sales channels (web stores) as rows; their credentials never live in the database."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from core.dbtypes import utcnow
from core.models import Platform, SalesChannel

channel_table = SalesChannel.__table__


def add_channel(conn: Connection, name: str, platform: Platform, base_url: str,
                location_id: int | None = None) -> int:
    return conn.execute(insert(channel_table).values(
        name=name, platform=platform.value, base_url=base_url, location_id=location_id,
        created_at=utcnow(),
    )).inserted_primary_key[0]


def channel_id_by_name(conn: Connection, name: str) -> int | None:
    return conn.execute(select(channel_table.c.id).where(channel_table.c.name == name)).scalar()


def list_channels(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(channel_table.c.id, channel_table.c.name)
                                                   .order_by(channel_table.c.id))]
