"""What `tandem --watch` is doing, kept in the database so any terminal, any machine and
`tandem --status` can read it: whether a watcher runs (its heartbeat), and per web store the last
read, the last order and how long it took to arrive, the last webhook, the last availability sent,
and the error it is backing off from.

The heartbeat comes from its own thread every few seconds, so a long round (a full sync of a big
catalog) does not make a living watcher look dead; a heartbeat older than `STALE_AFTER` means the
process is gone (killed, or its machine lost the database)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from core.dbtypes import utcnow
from core.i18n import _, ngettext, number
from core.models import SalesChannel, WatchedChannel, WatcherState

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=30)
watcher_table, channel_table = WatcherState.__table__, WatchedChannel.__table__


# --- written by the watcher ---------------------------------------------------------------

def watch_started(engine: Engine, listening: str | None = None) -> None:
    values = {"host": socket.gethostname()[:255], "pid": os.getpid(), "started_at": utcnow(),
              "heartbeat_at": utcnow(), "stopped_at": None, "listening": listening, "rounds": 0, "orders": 0}
    with engine.begin() as conn:
        if not conn.execute(update(watcher_table).where(watcher_table.c.id == 1).values(**values)).rowcount:
            conn.execute(insert(watcher_table).values(id=1, **values))


def watch_heartbeat(engine: Engine, rounds: int, orders: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(watcher_table).where(watcher_table.c.id == 1, watcher_table.c.pid == os.getpid())
                     .values(heartbeat_at=utcnow(), rounds=rounds, orders=orders))


def watch_stopped(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(watcher_table).where(watcher_table.c.id == 1, watcher_table.c.pid == os.getpid())
                     .values(stopped_at=utcnow(), heartbeat_at=utcnow()))


def channel_seen(engine: Engine, channel_id: int, **values) -> None:
    """Record what the watcher saw of one store (read_at, order_at, lag_seconds, webhook_at,
    exported_at, error, error_at, retry_at)."""
    with engine.begin() as conn:
        if not conn.execute(update(channel_table).where(channel_table.c.channel_id == channel_id)
                            .values(**values)).rowcount:
            conn.execute(insert(channel_table).values(channel_id=channel_id, **values))


# --- read by the console and tandem --status ----------------------------------------------

@dataclass(frozen=True)
class ChannelWatch:
    name: str
    read_at: datetime | None
    order_at: datetime | None
    lag_seconds: float | None
    webhook_at: datetime | None
    exported_at: datetime | None
    error: str | None
    error_at: datetime | None
    retry_at: datetime | None


@dataclass(frozen=True)
class WatchStatus:
    state: str  # "never" (no watcher ever ran), "running", "stopped" (cleanly), "gone" (no heartbeat)
    host: str | None = None
    pid: int | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    stopped_at: datetime | None = None
    listening: str | None = None
    rounds: int = 0
    orders: int = 0
    channels: tuple[ChannelWatch, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.state == "running" and not any(channel.error for channel in self.channels)


def watch_status(engine: Engine, now: datetime | None = None) -> WatchStatus:
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(select(watcher_table).where(watcher_table.c.id == 1)).first()
        if row is None:
            return WatchStatus("never")
        channels = tuple(ChannelWatch(*values) for values in conn.execute(
            select(SalesChannel.name, channel_table.c.read_at, channel_table.c.order_at, channel_table.c.lag_seconds,
                   channel_table.c.webhook_at, channel_table.c.exported_at, channel_table.c.error,
                   channel_table.c.error_at, channel_table.c.retry_at)
            .join(SalesChannel, SalesChannel.id == channel_table.c.channel_id)
            .where(SalesChannel.active.is_(True)).order_by(SalesChannel.id)))
    state = "stopped" if row.stopped_at else ("running" if now - row.heartbeat_at <= STALE_AFTER else "gone")
    return WatchStatus(state, row.host, row.pid, row.started_at, row.heartbeat_at, row.stopped_at, row.listening,
                       row.rounds, row.orders, channels)


def ago(moment: datetime, now: datetime) -> str:
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 90:
        return _("{count} s ago").format(count=number(seconds))
    if seconds < 90 * 60:
        return _("{count} min ago").format(count=number(round(seconds / 60)))
    if seconds < 36 * 3600:
        return _("{count} h ago").format(count=number(round(seconds / 3600)))
    return _("{count} days ago").format(count=number(round(seconds / 86400)))


def headline(status: WatchStatus, now: datetime, short: bool = False) -> str:
    """Is the live sync on, and since when; `short` for the end of the home screen's stores line."""
    if status.state == "never":
        return _("live sync off") if short else _("Live sync: off (start it with tandem --watch)")
    if status.state == "stopped":
        return (_("live sync stopped {when}") if short else _("Live sync: stopped {when}")).format(
            when=ago(status.stopped_at, now))
    if status.state == "gone":
        return (_("live sync last heard from {when}") if short
                else _("Live sync: the watcher on {host} was last heard from {when}: restart tandem --watch")).format(
            host=status.host, when=ago(status.heartbeat_at, now))
    from core.shoptime import shown

    line = ngettext("Live sync on {host} since {time}: {count} new order",
                    "Live sync on {host} since {time}: {count} new orders", status.orders).format(
        host=status.host, time=shown(status.started_at, "%H:%M"), count=number(status.orders))
    if status.listening:
        line += " · " + (_("webhooks") if short else _("webhooks on {address}").format(address=status.listening))
    return line


ERROR_WIDTH = 48  # on the home screen's one line per store


def channel_line(channel: ChannelWatch, now: datetime, short: bool = False) -> str:
    """One store: "Web: read 2 s ago · last order 5 min ago, here 1.4 s after it changed · …";
    `short` keeps to one line of the home screen."""
    parts = [_("read {when}").format(when=ago(channel.read_at, now)) if channel.read_at else _("not read yet")]
    if channel.order_at:
        lag = ""
        if channel.lag_seconds is not None:
            lag = ", " + (_("{seconds} s to arrive") if short else _("here {seconds} s after it changed")).format(
                seconds=number(channel.lag_seconds, 1))
        parts.append(_("last order {when}").format(when=ago(channel.order_at, now)) + lag)
    if channel.webhook_at and not short:
        parts.append(_("last webhook {when}").format(when=ago(channel.webhook_at, now)))
    if channel.exported_at and not short:
        parts.append(_("stock sent {when}").format(when=ago(channel.exported_at, now)))
    if channel.error:
        error = channel.error if not short or len(channel.error) <= ERROR_WIDTH else channel.error[:ERROR_WIDTH - 1] + "…"
        again = (" " + _("(asked again in {count} s)").format(
            count=number(max(int((channel.retry_at - now).total_seconds()), 0)))) if channel.retry_at else ""
        parts = ([] if short else parts) + [_("error: {error}").format(error=error) + again]
    return _("{store}: {seen}").format(store=channel.name, seen=" · ".join(parts))


def why_busy(engine: Engine, refusal: Exception) -> str:
    """Why a sync could not start: a live watcher holds the lock for good, and says so."""
    status = watch_status(engine)
    if status.state == "running":
        return _("the live sync (tandem --watch on {host}) is keeping every store in step: it reads them every "
                 "few seconds and runs the whole sync every 15 minutes").format(host=status.host)
    return str(refusal)


# --- a person's sync while the watcher holds the lock ---------------------------------------------

SYNC_REQUESTED = "sync_requested"  # a SyncCursor row per store: the watcher runs its whole sync next


def request_sync(engine: Engine, only: str | None = None, actor=None) -> list[str]:
    """Ask the running watcher for the whole sync of every active store (or `only` one) at its next
    round, instead of refusing a person who pressed "sync": it holds the lock, so it does the work.
    Returns the stores asked for; the run shows in the sync history like any other."""
    from sqlalchemy import delete

    from core.audit import current_actor, record
    from core.models import SyncCursor
    from core.roles import require

    actor = actor or current_actor()
    require(actor, "sync.run")
    cursor = SyncCursor.__table__
    with engine.begin() as conn:
        query = select(SalesChannel.id, SalesChannel.name).where(SalesChannel.active.is_(True))
        if only:
            query = query.where(SalesChannel.name == only)
        stores = conn.execute(query.order_by(SalesChannel.id)).all()
        for channel_id, name in stores:
            conn.execute(delete(cursor).where(cursor.c.channel_id == channel_id, cursor.c.name == SYNC_REQUESTED))
            conn.execute(insert(cursor).values(channel_id=channel_id, name=SYNC_REQUESTED, value=actor.user,
                                               updated_at=utcnow()))
            record(conn, actor, "sync_requested", "saleschannel", channel_id, None, None, None)
    return [name for _id, name in stores]


def take_sync_requests(engine: Engine) -> set[int]:
    """The stores a person asked the watcher to sync, taken (each request is run once)."""
    from sqlalchemy import delete

    from core.models import SyncCursor

    cursor = SyncCursor.__table__
    asked_for = select(cursor.c.channel_id).where(cursor.c.name == SYNC_REQUESTED)
    with engine.connect() as conn:  # every round: a read, no write lock unless someone asked
        if not conn.execute(asked_for.limit(1)).first():
            return set()
    with engine.begin() as conn:
        asked = set(conn.execute(asked_for).scalars())
        conn.execute(delete(cursor).where(cursor.c.name == SYNC_REQUESTED, cursor.c.channel_id.in_(asked)))
    return asked
