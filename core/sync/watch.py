"""`tandem --watch`: the sync as a service (work in progress on this branch).

It holds the sync lock for as long as it runs (on PostgreSQL a second watcher waits for it, and
takes over once the first one's connection is gone). Every few seconds it reads each web store's
orders changed since its cursor — one cheap page when nothing happened — imports them as the
nightly sync does (orders and cursor in one transaction), and, when anything changed availability
(those orders, or anything done at the counter: a pickup, a return, an import, which `change_mark`
sees), sends every web store the quantities that changed — `run_export` sends only those. The
daily full export and the listings read stay with `tandem --sync`.

A stop (SIGTERM) is taken between two steps: the step under way finishes and commits first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from core.changes import change_mark
from core.connectors.registry import connector_for_row
from core.models import SalesChannel
from core.sync.export import run_export
from core.sync.runner import ORDERS_CURSOR, _cursor, _save_cursor, import_orders
from core.secrets import webhook_secret
from core.sync.listen import WebhookListener
from core.synclock import SyncBusy, sync_lock

POLL_SECONDS = 2.0
LOCK_RETRY_SECONDS = 1.0
FIRST_BACKOFF, LONGEST_BACKOFF = 5.0, 300.0  # a store out of reach is asked again after 5 s, 10 s, ... 5 min


@dataclass
class WatchState:
    rounds: int = 0
    orders: int = 0
    exports: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # channel name -> last error
    backoff: dict[str, float] = field(default_factory=dict)  # channel name -> seconds before asking again
    retry_at: dict[str, float] = field(default_factory=dict)


def watch(engine: Engine, stop: threading.Event, *, connectors: dict | None = None, secrets_path=None,
          poll_seconds: float = POLL_SECONDS, log=lambda message: None, state: WatchState | None = None,
          listen: tuple[str, int] | None = None, on_listening=lambda port: None) -> WatchState:
    """Until `stop` is set. With `listen` (host, port), webhooks wake it at once."""
    state = state or WatchState()
    while not stop.is_set():
        try:
            with sync_lock(engine):
                _watch_holding_the_lock(engine, stop, connectors or {}, secrets_path, poll_seconds, log, state,
                                        listen, on_listening)
                return state
        except SyncBusy:
            stop.wait(LOCK_RETRY_SECONDS)  # another watcher (or a sync) holds it: wait to take over
    return state


def _watch_holding_the_lock(engine, stop, connectors, secrets_path, poll_seconds, log, state, listen,
                            on_listening) -> None:
    with engine.connect() as conn:
        channels = conn.execute(select(SalesChannel.__table__).where(SalesChannel.active.is_(True))
                                .order_by(SalesChannel.id)).all()
    made = {channel.name: connectors.get(channel.name) or connector_for_row(channel, secrets_path)
            for channel in channels}
    wake = threading.Event()
    threading.Thread(target=lambda: (stop.wait(), wake.set()), daemon=True).start()
    listener = None
    if listen:
        listener = WebhookListener(listen[0], listen[1], {
            channel.name: (channel.platform, webhook_secret(secrets_path, channel.name) if secrets_path else None)
            for channel in channels}, lambda name, delivery: wake.set()).start()
        on_listening(listener.port)
    mark = None
    try:
        while not stop.is_set():
            started = time.monotonic()
            wake.clear()  # a webhook during this round wakes the next one at once
            for channel in channels:
                if stop.is_set():
                    break
                if state.retry_at.get(channel.name, 0) > time.monotonic():
                    continue  # backing off a store out of reach; the others go on
                try:
                    state.orders += _read_orders(engine, channel, made[channel.name])
                    state.errors.pop(channel.name, None)
                    state.backoff.pop(channel.name, None)
                except Exception as exc:  # noqa: BLE001 - a store out of reach must not stop the others
                    state.errors[channel.name] = str(exc)
                    wait = min(state.backoff.get(channel.name, FIRST_BACKOFF / 2) * 2, LONGEST_BACKOFF)
                    state.backoff[channel.name] = wait
                    state.retry_at[channel.name] = time.monotonic() + wait
                    log(f"{channel.name}: {exc} (asked again in {wait:.0f} s)")
            now_mark = change_mark(engine)
            if now_mark != mark and not stop.is_set():
                for channel in channels:
                    try:
                        run_export(engine, channel.id, made[channel.name])
                        state.exports += 1
                    except Exception as exc:  # noqa: BLE001
                        state.errors[channel.name] = str(exc)
                        log(f"{channel.name}: {exc}")
                mark = change_mark(engine)
            state.rounds += 1
            wake.wait(max(poll_seconds - (time.monotonic() - started), 0))
    finally:
        if listener is not None:
            listener.stop()
        for name, connector in made.items():
            if name not in connectors:
                connector.close()


def _read_orders(engine: Engine, channel, connector) -> int:
    cursor = _cursor(engine, channel.id, ORDERS_CURSOR)
    count = 0
    for orders, next_cursor in connector.orders_since(cursor):
        with engine.begin() as conn:
            stored = import_orders(conn, channel.id, orders)
            if next_cursor and next_cursor != cursor:
                _save_cursor(conn, channel.id, ORDERS_CURSOR, next_cursor)
        count += stored.new
    return count
