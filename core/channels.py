"""Sales channels (web stores) as rows, made from the settings file; their credentials never live
in the database."""

from __future__ import annotations

import json

from sqlalchemy import Connection, Engine, delete, insert, select, update

from core.i18n import _
from core.audit import current_actor, record
from core.config import ChannelConfig
from core.dbtypes import utcnow
from core.locations import location_table
from core.models import ChannelLocation, Platform, SalesChannel
from core.settings import ConfigError

channel_table = SalesChannel.__table__


def add_channel(conn: Connection, name: str, platform: Platform, base_url: str,
                location_id: int | None = None) -> int:
    return conn.execute(insert(channel_table).values(
        name=name, platform=platform.value, base_url=base_url, location_id=location_id,
        created_at=utcnow(),
    )).inserted_primary_key[0]


def list_channels(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(channel_table.c.id, channel_table.c.name)
                                                   .order_by(channel_table.c.id))]


def apply_channel_settings(engine: Engine, channels: dict[str, dict], *, retire_missing: bool = True) -> list[str]:
    """Channels declared in the settings file become (or update) channel rows. The settings are the
    truth: a channel no longer in them stops syncing (its row, sales and history stay), and one put
    back syncs again. Returns the names of the channels this call set aside, so it is said once
    (the console passes `retire_missing=False` and leaves that, and the saying, to the sync).
    The demo shop's channel is not from the settings and is left alone."""
    table = SalesChannel.__table__
    with engine.begin() as conn:
        for name, spec in channels.items():
            sold = {location: _location_id(conn, name, location) for location in spec.get("locations", {})}
            primary = spec.get("location") or next(iter(spec.get("locations", {})), None)
            location_id = sold.get(primary) or (_location_id(conn, name, primary) if primary else None)
            config = ChannelConfig.from_settings(name, spec)
            if sold and spec["platform"] != "woocommerce":
                config = config.model_copy(update={"store_location_id": spec["locations"][primary]})
            values = {"platform": spec["platform"], "base_url": spec["url"], "location_id": location_id,
                      "safety_buffer": spec.get("safety_buffer", 0), "settings_json": config.stored(), "active": True}
            updated = conn.execute(update(table).where(table.c.name == name).values(values)).rowcount
            if not updated:
                conn.execute(insert(table).values(name=name, created_at=utcnow(), **values))
            channel_id = conn.execute(select(table.c.id).where(table.c.name == name)).scalar_one()
            _map_locations(conn, channel_id, {sold[location]: store for location, store in
                                              spec.get("locations", {}).items()})
        if not retire_missing:
            return []
        removed = conn.execute(select(table.c.name).where(
            table.c.active.is_(True), table.c.platform != "demo", table.c.name.not_in(list(channels) or [""]))
            .order_by(table.c.id)).scalars().all()
        if removed:
            conn.execute(update(table).where(table.c.name.in_(removed)).values(active=False))
        for name in removed:
            record(conn, current_actor(), "channel_retired", "saleschannel", name, "active", True, False,
                   _("no longer in the settings file: it stops syncing; its sales and history are kept"))
    return list(removed)


def _location_id(conn, channel: str, location: str) -> int:
    row = conn.execute(select(location_table.c.id, location_table.c.active)
                       .where(location_table.c.name == location)).one_or_none()
    if row is None:
        raise ConfigError(_('channel {channel}: no shop location named {location} (add it with: tandem --add-location {location})').format(channel=repr(channel), location=repr(location)))
    if not row.active:
        raise ConfigError(_('channel {channel}: the location {location} is retired; a web store cannot sell it').format(channel=repr(channel), location=repr(location)))
    return row.id


def _map_locations(conn, channel_id: int, stores: dict[int, str]) -> None:
    """The channel's shop locations become exactly those of the settings (none: its one location)."""
    current = dict(conn.execute(select(ChannelLocation.location_id, ChannelLocation.store_location)
                                .where(ChannelLocation.channel_id == channel_id)).all())
    if current == stores:
        return
    table = ChannelLocation.__table__
    conn.execute(delete(table).where(table.c.channel_id == channel_id))
    if stores:
        conn.execute(insert(table), [{"channel_id": channel_id, "location_id": location, "store_location": store}
                                     for location, store in stores.items()])
    record(conn, current_actor(), "channel_locations", "saleschannel", str(channel_id), "locations",
           json.dumps(sorted(current.values())), json.dumps(sorted(stores.values())),
           _("the shop locations this web store sells changed"))
