"""`tandem --watch`: the sync as a service.

It holds the sync lock for as long as it runs (on PostgreSQL a second watcher waits for it, and
takes over once the first one's connection is gone). Every few seconds it reads each web store's
orders changed since its cursor — one cheap page when nothing happened — imports them as the
nightly sync does (orders and cursor in one transaction), and, when anything changed availability
(those orders, or anything done at the counter: a pickup, a return, an import, each of which adds
rows to the change sequence, core.changes), sends every web store what changed — `export_changes`
plans just the products changed since the store's position. The
daily full export, the listings read and the holds that fell due come from the whole sync
(`tandem --sync`'s), which the watcher runs itself as it starts and every `FULL_SYNC_SECONDS`:
while it holds the lock, a cron `tandem --sync` would only find the lock taken.

With webhooks, a delivery only marks its store (core.sync.wakeups): a round woken by marks reads
the stores marked, once each, and the regular poll, on its own schedule, reads them all.

What it does is kept in the database (core.watch_status) for the console and `tandem --status`.

A stop (SIGTERM) is taken between two steps: the step under way finishes and commits first.
A store out of reach is backed off on its own; the database out of reach (or the PostgreSQL session
holding the lock dropped, which each round checks) makes it start again, lock first, once it answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from core.changes import ChangeListener, StoreChangeFilter, current_position, forget_read_changes
from core.i18n import _, number
from core.connectors.http import RetryPolicy
from core.connectors.registry import connector_for_row
from core.models import SalesChannel
from core.sync.export import export_changes, run_export
from core.db import describe_failure
from core.dbtypes import utcnow
from core.secrets import redact, webhook_secret
from core.sync.listen import WebhookListener
from core.sync.runner import ORDERS_CURSOR, SyncOptions, _cursor, _save_cursor, import_orders, sync_holding_lock
from core.sync.runner import _failure
from core.sync.wakeups import WakeUps
from core.synclock import LockLost, SyncBusy, sync_lock
from core.watch_status import (
    HEARTBEAT_SECONDS, channel_seen, take_sync_requests, watch_heartbeat, watch_started, watch_stopped,
)

POLL_SECONDS = 2.0
CHANGE_CHECK_SECONDS = 0.5  # SQLite: how often data_version is looked at (PostgreSQL is told)
LOCK_RETRY_SECONDS = 1.0
FIRST_BACKOFF, LONGEST_BACKOFF = 5.0, 300.0  # a store out of reach is asked again after 5 s, 10 s, ... 5 min
# A store that fails a request is retried for 15 s at most, then backed off (the nightly sync's
# policy would hold every other store up to two minutes).
WATCH_RETRIES = RetryPolicy(attempts=3, total_seconds=15.0, initial_wait=0.5, max_wait=5.0)
FULL_SYNC_SECONDS = 15 * 60  # the safety net: listings, holds due, the daily export


@dataclass
class WatchState:
    rounds: int = 0
    orders: int = 0
    exports: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # channel name -> last error
    backoff: dict[str, float] = field(default_factory=dict)  # channel name -> seconds before asking again
    retry_at: dict[str, float] = field(default_factory=dict)
    webhook_reads: int = 0  # stores read before their poll was due, because a webhook marked them


def watch(engine: Engine, stop: threading.Event, *, connectors: dict | None = None, secrets_path=None,
          poll_seconds: float = POLL_SECONDS, log=lambda message: None, state: WatchState | None = None,
          listen: tuple[str, int] | None = None, on_listening=lambda port: None,
          full_sync_seconds: float | None = FULL_SYNC_SECONDS, webhook_secrets: dict | None = None,
          wake_ups: WakeUps | None = None) -> WatchState:
    """Until `stop` is set. With `listen` (host, port), webhooks wake it at once; their secrets come
    from the secrets file, or `webhook_secrets` (name -> (platform, secret), the demo's). `wake_ups`
    sets how many early reads webhooks may cause (WakeUps' defaults otherwise)."""
    state = state or WatchState()
    database_wait, waiting = FIRST_BACKOFF / 2, False
    while not stop.is_set():
        try:
            with sync_lock(engine) as held:
                database_wait, waiting = FIRST_BACKOFF / 2, False
                _watch_holding_the_lock(engine, stop, connectors or {}, secrets_path, poll_seconds, log, state,
                                        listen, on_listening, full_sync_seconds, webhook_secrets, held,
                                        wake_ups or WakeUps())
                return state
        except SyncBusy:
            if not waiting:
                log(_("another watcher or sync holds the sync lock: waiting to take over when it ends"))
                waiting = True
            stop.wait(LOCK_RETRY_SECONDS)  # another watcher (or a sync) holds it: wait to take over
        except LockLost as lost:
            log(_("{reason}: taking it again (or waiting for the watcher that took it)").format(reason=lost))
        except SQLAlchemyError as exc:
            # The database out of reach (a PostgreSQL server restarting, the network to it down):
            # what was committed stays; start again, lock first, once it answers.
            database_wait = min(database_wait * 2, LONGEST_BACKOFF)
            log(_("the database: {error} (trying again in {seconds} s)").format(
                error=describe_failure(exc), seconds=number(database_wait)))
            stop.wait(database_wait)
    return state


def _watch_holding_the_lock(engine, stop, connectors, secrets_path, poll_seconds, log, state, listen,
                            on_listening, full_sync_seconds, webhook_secrets, held, wake_ups: WakeUps) -> None:
    with engine.connect() as conn:
        channels = conn.execute(select(SalesChannel.__table__).where(SalesChannel.active.is_(True))
                                .order_by(SalesChannel.id)).all()
    made = {channel.name: connectors.get(channel.name) or connector_for_row(channel, secrets_path, WATCH_RETRIES)
            for channel in channels}
    wake = wake_ups.wake
    threading.Thread(target=lambda: (stop.wait(), wake.set()), daemon=True).start()

    def webhook_taken(name, delivery) -> None:
        wake_ups.mark(name, utcnow())

    listener = None
    if listen:
        secrets = webhook_secrets or {
            channel.name: (channel.platform, webhook_secret(secrets_path, channel.name) if secrets_path else None)
            for channel in channels}
        listener = WebhookListener(listen[0], listen[1], secrets, webhook_taken).start()
        on_listening(listener.port)
    watch_started(engine, f"{listen[0]}:{listener.port}" if listener else None)
    # A change committed at a counter or by an import wakes a round at once (it exports just that),
    # instead of waiting for the next poll of the stores; an audit line or a sync run does not.
    # (On PostgreSQL a row committed late, below one already checked, waits for the next poll.)
    for_stores = StoreChangeFilter(engine)
    changes = ChangeListener(engine, lambda: for_stores.any_for_stores() and wake.set(),
                             interval=CHANGE_CHECK_SECONDS).start()
    beating = threading.Event()
    heart = threading.Thread(target=_heartbeat, args=(engine, beating, state, log), daemon=True)
    heart.start()
    full_sync_at = poll_at = time.monotonic()  # the first round starts with the whole sync
    try:
        while not stop.is_set():
            started = time.monotonic()
            wake.clear()  # a webhook during this round wakes the next one at once
            marks = wake_ups.take()
            polling = started >= poll_at
            if polling:
                poll_at = started + poll_seconds
            held.check()  # the lock still ours: else another watcher may be doing this very work
            for channel in channels:
                if channel.name in marks.heard_at:
                    channel_seen(engine, channel.id, webhook_at=marks.heard_at[channel.name])
            synced = set()
            if full_sync_seconds is not None and started >= full_sync_at:
                synced = _full_sync(engine, channels, made, secrets_path, log, state)
                full_sync_at = time.monotonic() + full_sync_seconds
                forget_read_changes(engine)
            asked = take_sync_requests(engine)  # a person pressed "sync" at a console: the whole sync now
            if asked:
                synced |= _full_sync(engine, [channel for channel in channels
                                              if channel.id in asked and channel.name not in synced],
                                     made, secrets_path, log, state)
            for channel in channels:
                if stop.is_set():
                    break
                if channel.name in synced:
                    continue  # its orders were just read by the whole sync
                if not polling and channel.name not in marks.read_now:
                    continue  # woken for another store: this one waits for its poll
                if state.retry_at.get(channel.name, 0) > time.monotonic():
                    continue  # backing off a store out of reach; the others go on
                try:
                    if not polling:
                        state.webhook_reads += 1
                    new = _read_orders(engine, channel, made[channel.name])
                    state.orders += new
                    if new:
                        watch_heartbeat(engine, state.rounds, state.orders)  # the count shown at once
                    if state.errors.pop(channel.name, None):
                        log(_("{name}: answering again").format(name=channel.name))
                    state.backoff.pop(channel.name, None)
                except SQLAlchemyError:
                    raise  # the database's trouble, not the store's: `watch` starts again once it answers
                except Exception as exc:  # noqa: BLE001 - a store out of reach must not stop the others
                    _backing_off(engine, channel, exc, state, log)
            # What changed since each store's position (an order's units, the counter's work, a
            # catalog import): just those products planned and sent. The position moves only with
            # the marks, so a round cut short plans the same again.
            for channel in channels:
                if stop.is_set():
                    break
                if state.retry_at.get(channel.name, 0) > time.monotonic():
                    continue  # its position waits: the round that reaches it again sends what it missed
                try:
                    if channel.name in synced:
                        report, _plan = run_export(engine, channel.id, made[channel.name],
                                                   position=_position_now(engine))
                    else:
                        report, _changes = export_changes(engine, channel.id, made[channel.name])
                    state.exports += 1
                    if report.quantities_sent or report.prices_sent:
                        channel_seen(engine, channel.id, exported_at=utcnow())
                except SQLAlchemyError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    _backing_off(engine, channel, exc, state, log)
            state.rounds += 1
            wake.wait(max(poll_at - time.monotonic(), 0))
    finally:
        changes.stop()
        beating.set()
        heart.join(timeout=HEARTBEAT_SECONDS * 2)
        if listener is not None:
            listener.stop()
        try:
            watch_stopped(engine)
        except Exception:  # noqa: BLE001 - the database may be what failed; the heartbeat then goes stale
            pass
        for name, connector in made.items():
            if name not in connectors:
                connector.close()


def _position_now(engine: Engine):
    with engine.connect() as conn:
        return current_position(conn)


def _read_orders(engine: Engine, channel, connector) -> int:
    """The store's orders changed since the cursor, stored; how many were new."""
    cursor = _cursor(engine, channel.id, ORDERS_CURSOR)
    count = 0
    for orders, next_cursor in connector.orders_since(cursor):
        with engine.begin() as conn:
            stored = import_orders(conn, channel.id, orders)
            if next_cursor and next_cursor != cursor:
                _save_cursor(conn, channel.id, ORDERS_CURSOR, next_cursor)
        count += stored.new
        if stored.new or stored.updated:
            now = utcnow()
            latest = max(order.updated_at for order in orders)
            channel_seen(engine, channel.id, order_at=now, lag_seconds=max((now - latest).total_seconds(), 0.0))
    channel_seen(engine, channel.id, read_at=utcnow(), error=None, error_at=None, retry_at=None)
    return count


def _backing_off(engine: Engine, channel, exc: Exception | str, state: WatchState, log) -> None:
    error = exc if isinstance(exc, str) else redact(_failure(exc))
    wait = min(state.backoff.get(channel.name, FIRST_BACKOFF / 2) * 2, LONGEST_BACKOFF)
    state.errors[channel.name], state.backoff[channel.name] = error, wait
    state.retry_at[channel.name] = time.monotonic() + wait
    log(_("{name}: {error} (asked again in {seconds} s)").format(name=channel.name, error=error,
                                                                 seconds=number(wait)))
    try:
        channel_seen(engine, channel.id, error=error, error_at=utcnow(),
                     retry_at=utcnow() + timedelta(seconds=wait))
    except Exception:  # noqa: BLE001 - a database out of reach is said by the next round's failure
        pass


def _full_sync(engine, channels, made, secrets_path, log, state: WatchState) -> set[str]:
    """The whole sync, as cron's: listings, orders, holds that fell due, the export when due.
    Returns the names of the stores it synced."""
    synced = set()
    for channel in channels:
        if state.retry_at.get(channel.name, 0) > time.monotonic():
            continue
        report = sync_holding_lock(engine, options=SyncOptions(), secrets_path=secrets_path,
                                   connectors={channel.name: made[channel.name]}, log=log, only=channel.name)
        for result in report.channels:
            if result.status != "ok":
                _backing_off(engine, channel, result.error or result.status, state, log)
                continue
            synced.add(channel.name)
            state.errors.pop(channel.name, None)
            state.backoff.pop(channel.name, None)
            state.orders += result.orders_imported
            seen = {"read_at": utcnow(), "error": None, "error_at": None, "retry_at": None}
            if result.orders_imported or result.orders_updated:
                seen["order_at"] = utcnow()
            if result.export_ran:
                seen["exported_at"] = utcnow()
            channel_seen(engine, channel.id, **seen)
    return synced


def _heartbeat(engine: Engine, beating: threading.Event, state: WatchState, log) -> None:
    while not beating.wait(HEARTBEAT_SECONDS):
        try:
            watch_heartbeat(engine, state.rounds, state.orders)
        except Exception as exc:  # noqa: BLE001 - said once a round fails on the same database
            log(_("cannot write the watcher's heartbeat: {error}").format(error=exc))
