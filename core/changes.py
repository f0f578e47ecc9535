"""How an open console and the watcher notice what was committed elsewhere — another terminal's
decision, a sync, a catalog import — at a cost that grows with the changes, not with the history.

Every write that changes what a screen or a web store shows adds a numbered row to `change`, by
the database's own triggers, in the transaction of the change (migration 0012). So:

- "did anything change?" is one index lookup (`latest_change`), and on SQLite first not even
  that: `PRAGMA data_version` on a kept connection moves only when another connection committed;
- on PostgreSQL nothing polls: the commit NOTIFYs `tandem_changes` and `ChangeListener` waits on
  its socket, re-reading after a reconnect (a notification may have been missed meanwhile);
- the watcher reads the rows after its position (`store_changes_after`) and exports just those
  products; audit lines, sync runs and sales that moved no stock wake nothing there.

PostgreSQL numbers a row when it is inserted, not when it commits: a long transaction's row may
become visible after a higher one was read. A position therefore remembers the transactions that
were still open when it was read, and the next read takes their rows too (`ChangePosition`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from select import select as readable_within
from typing import Callable

from sqlalchemy import Connection, Engine, func, insert, or_, select, text, update

from core.dbtypes import utcnow
from core.models import CLOSED_SALE_STATES, Change, SaleState, SyncCursor, WebSale

log = logging.getLogger(__name__)

# What a change row says changed. The first four can move what a web store is sent.
STORE_KINDS = ("stock", "product", "link", "channel")
SCREEN_KINDS = ("catalog", "listing", "sale", "audit", "run")
KINDS = STORE_KINDS + SCREEN_KINDS
NOTIFY_CHANNEL = "tandem_changes"
IDLE_CHECK_SECONDS = 60.0  # PostgreSQL: how long a listener sleeps on its socket with nothing heard
CHANGES_CURSOR = "changes_exported"  # a store's position in the change sequence (SyncCursor)
PENDING_KEPT = 40  # open transactions a position remembers; more, and it does not move that round

# A sale held for its supplier's release time waits for the clock, not for a person.
NEEDS_SOMEONE = tuple(state.value for state in SaleState
                      if state.value not in CLOSED_SALE_STATES and state != SaleState.HELD)

change_table = Change.__table__


@dataclass(frozen=True)
class NewSale:
    id: int
    order_number: str
    state: str


def latest_change(conn: Connection) -> int:
    """The newest change's number: one look at the end of the primary key."""
    return conn.execute(select(func.coalesce(func.max(change_table.c.id), 0))).scalar_one()


# --- the watcher's position ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePosition:
    """Every change up to `last` was read, except rows of the transactions in `pending` (open at
    the time of the read, PostgreSQL only), which the next read takes whatever their number."""

    last: int
    pending: tuple[int, ...] = ()

    def encode(self) -> str:
        return f"{self.last}" + (":" + ",".join(map(str, self.pending)) if self.pending else "")

    @classmethod
    def decode(cls, value: str | None) -> ChangePosition | None:
        if not value:
            return None
        last, _, pending = value.partition(":")
        return cls(int(last), tuple(int(xid) for xid in pending.split(",") if xid))


@dataclass
class StoreChanges:
    """What the changes after a position ask of one web store: the products to plan again, or the
    whole catalog (its settings or locations changed), and the position once they are sent."""

    products: set[int] = field(default_factory=set)
    whole_catalog: bool = False
    rows: int = 0  # change rows read, to show that the cost follows the changes
    position: ChangePosition = ChangePosition(0)

    @property
    def anything(self) -> bool:
        return self.whole_catalog or bool(self.products)


def current_position(conn: Connection) -> ChangePosition:
    """Where a reader starting now stands: after every committed change, with the transactions
    still open (PostgreSQL) to be read later."""
    return ChangePosition(latest_change(conn), _open_transactions(conn))


def _open_transactions(conn: Connection) -> tuple[int, ...]:
    if conn.dialect.name != "postgresql":
        return ()  # one writer at a time: numbers are taken in commit order
    return tuple(sorted(conn.execute(text(
        "SELECT pg_snapshot_xip(pg_current_snapshot())::text::bigint")).scalars()))


def store_changes_after(conn: Connection, channel_id: int, position: ChangePosition) -> StoreChanges:
    """The changes a store may need since `position`, read in one snapshot with the new position.
    Call it in a transaction of its own on PostgreSQL (REPEATABLE READ, see `read_store_changes`)."""
    now = current_position(conn)
    after = change_table.c.id > position.last
    if position.pending:
        after = or_(after, change_table.c.xid.in_(position.pending))
    changes = StoreChanges(position=ChangePosition(max(now.last, position.last), now.pending))
    if len(now.pending) > PENDING_KEPT:
        changes.position = position  # too many open at once to remember: read the same again next round
    for kind, product_id, channel in conn.execute(
            select(change_table.c.kind, change_table.c.product_id, change_table.c.channel_id).where(after)):
        changes.rows += 1
        if kind == "channel" and channel in (None, channel_id):
            changes.whole_catalog = True
        elif kind in ("stock", "product", "link") and product_id is not None:
            changes.products.add(product_id)
    return changes


class StoreChangeFilter:
    """For the watcher's listener: whether the changes heard include any a store is sent (stock,
    prices, links, a store's settings). Audit lines, sync runs and sales that moved no stock then
    wake no round; the round's own read, from each store's position, decides what is sent."""

    def __init__(self, engine: Engine):
        self._engine = engine
        with engine.connect() as conn:
            self._checked = latest_change(conn)

    def any_for_stores(self) -> bool:
        with self._engine.connect() as conn:
            kinds = conn.execute(select(change_table.c.id, change_table.c.kind)
                                 .where(change_table.c.id > self._checked)).all()
        if kinds:
            self._checked = max(number for number, _kind in kinds)
        return any(kind in STORE_KINDS for _number, kind in kinds)


def read_store_changes(engine: Engine, channel_id: int, position: ChangePosition) -> StoreChanges:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return store_changes_after(conn, channel_id, position)


def saved_position(conn: Connection, channel_id: int) -> ChangePosition | None:
    return ChangePosition.decode(conn.execute(select(SyncCursor.value).where(
        SyncCursor.channel_id == channel_id, SyncCursor.name == CHANGES_CURSOR)).scalar())


def save_position(conn: Connection, channel_id: int, position: ChangePosition) -> None:
    """In the transaction of the export's last marks: the position never runs ahead of them."""
    table = SyncCursor.__table__
    values = {"value": position.encode(), "updated_at": utcnow()}
    if not conn.execute(update(table).where(table.c.channel_id == channel_id, table.c.name == CHANGES_CURSOR)
                        .values(values)).rowcount:
        conn.execute(insert(table).values(channel_id=channel_id, name=CHANGES_CURSOR, **values))


def forget_read_changes(engine: Engine, kept: int = 100_000) -> int:
    """Rows every web store's position has passed, beyond the last `kept`: the table stays small
    over years. A store without a position yet keeps everything until it has one."""
    from core.models import SalesChannel

    with engine.begin() as conn:
        stores = conn.execute(select(SalesChannel.id).where(SalesChannel.active.is_(True))).scalars().all()
        values = dict(conn.execute(select(SyncCursor.channel_id, SyncCursor.value)
                                   .where(SyncCursor.name == CHANGES_CURSOR)).all())
        positions = [ChangePosition.decode(values.get(store)) for store in stores]
        if any(position is None for position in positions):
            return 0
        below = min([position.last for position in positions] + [latest_change(conn) - kept])
        forgotten = change_table.c.id <= below
        # Rows of transactions a position still waits for stay whatever their number (PostgreSQL:
        # the snapshot lists every database's open transactions, most of them not this one's).
        waited_for = sorted({xid for position in positions for xid in position.pending})
        if waited_for:
            forgotten = forgotten & (change_table.c.xid.is_(None) | change_table.c.xid.not_in(waited_for))
        return conn.execute(change_table.delete().where(forgotten)).rowcount or 0


# --- noticing a commit elsewhere -------------------------------------------------------------------


class _SqliteWatch:
    """`PRAGMA data_version` on a connection of its own moves only when another connection
    committed; only then is the newest change read (and most commits elsewhere — a heartbeat, a
    store's read time — add no change row, so nothing is refreshed for them)."""

    def __init__(self, engine: Engine):
        self._connection = sqlite3.connect(engine.url.database, timeout=5, check_same_thread=False)
        self._version = self._data_version()
        self._latest = self._read_latest()

    def _data_version(self) -> int:
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def _read_latest(self) -> int:
        return self._connection.execute("SELECT coalesce(max(id), 0) FROM change").fetchone()[0]

    def wait(self, stop: threading.Event, interval: float) -> bool:
        if stop.wait(interval):
            return False
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
        latest = self._read_latest()
        if latest == self._latest:
            return False
        self._latest = latest
        return True

    def close(self) -> None:
        self._connection.close()


class _PostgresWatch:
    """LISTEN on a connection of its own; every notification is a transaction that added change
    rows (the trigger sends none otherwise). A lost connection is opened again, and reported as a
    change: what was committed meanwhile was not heard."""

    def __init__(self, engine: Engine):
        from core.copies import libpq_url

        self._url, self._password = libpq_url(engine.url.render_as_string(hide_password=False))[0], \
            engine.url.password
        self._connection = None
        self._connect()  # first: a server out of reach leaves nothing open behind (the listener retries)
        self._interrupt_r, self._interrupt_w = os.pipe()
        self._pipe_lock, self._pipe_open = threading.Lock(), True

    def _connect(self) -> None:
        import psycopg

        self._connection = psycopg.connect(self._url, password=self._password, autocommit=True,
                                           connect_timeout=5)
        self._connection.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, stop: threading.Event, interval: float) -> bool:
        import psycopg

        try:
            if self._connection is None:
                self._connect()
                return True
            # Asleep on the socket until the server sends something or `interrupt` is called: an
            # idle console costs neither the server nor its own core anything.
            readable, _, _ = readable_within([self._connection.fileno(), self._interrupt_r], [], [], IDLE_CHECK_SECONDS)
            if self._interrupt_r in readable or stop.is_set():
                return False
            heard = False
            for _notice in self._connection.notifies(timeout=0.01):  # one refresh for a burst of commits
                heard = True
            return heard
        except (psycopg.Error, OSError, ValueError) as exc:
            log.info("change notifications: connection lost (%s); listening again", type(exc).__name__)
            self._close_connection()
            stop.wait(min(interval * 4, 2.0))
            return False

    def interrupt(self) -> None:
        with self._pipe_lock:  # never a write to a closed descriptor's number, reused by then
            if self._pipe_open:
                os.write(self._interrupt_w, b"x")

    def _close_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        self._close_connection()
        with self._pipe_lock:
            if self._pipe_open:
                self._pipe_open = False
                os.close(self._interrupt_r)
                os.close(self._interrupt_w)


class _EngineWatch:
    """A database without a file of its own (SQLite in memory): the newest change through the engine."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._latest = self._read_latest()

    def _read_latest(self) -> int:
        with self._engine.connect() as conn:
            return latest_change(conn)

    def wait(self, stop: threading.Event, interval: float) -> bool:
        if stop.wait(interval):
            return False
        latest = self._read_latest()
        if latest == self._latest:
            return False
        self._latest = latest
        return True

    def close(self) -> None:
        pass


def change_watch(engine: Engine):
    if engine.dialect.name == "postgresql":
        return _PostgresWatch(engine)
    if engine.url.database and engine.url.database != ":memory:":
        return _SqliteWatch(engine)
    return _EngineWatch(engine)


class ChangeListener:
    """Calls `on_change` from a thread of its own after commits elsewhere that added change rows
    (a burst of them, once). What a console and the watcher run; `interval` is how often SQLite's
    data_version is looked at (PostgreSQL waits on its socket)."""

    def __init__(self, engine: Engine, on_change: Callable[[], None], interval: float = 0.5):
        self._engine, self._on_change, self._interval = engine, on_change, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch = None
        self.ready = threading.Event()

    def start(self) -> ChangeListener:
        self._thread = threading.Thread(target=self._run, name="tandem-changes", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: float = 0.0) -> None:
        self._stop.set()
        watch = self._watch
        if watch is not None and hasattr(watch, "interrupt"):
            watch.interrupt()
        if wait and self._thread is not None:
            self._thread.join(wait)

    def _run(self) -> None:
        watch, lost = None, False
        while not self._stop.is_set():
            try:
                if watch is None:
                    watch = self._watch = change_watch(self._engine)
                    self.ready.set()
                    if lost:  # what was committed while out of reach was not heard
                        lost = False
                        self._on_change()
                if watch.wait(self._stop, self._interval) and not self._stop.is_set():
                    self._on_change()
            except Exception as exc:  # noqa: BLE001 - a database out of reach: listen again shortly
                log.info("change listener: %s", exc)
                lost = True
                if watch is not None:
                    watch.close()
                    watch = self._watch = None
                self._stop.wait(min(5.0, self._interval * 10))
        if watch is not None:
            watch.close()


# --- new sales, for the console's notice ----------------------------------------------------------


def newest_sale_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(WebSale.id), 0))).scalar_one()


def arrived_since(engine: Engine, after_id: int) -> list[NewSale]:
    sale = WebSale.__table__
    with engine.connect() as conn:
        return [NewSale(*row) for row in conn.execute(
            select(sale.c.id, sale.c.order_number, sale.c.state)
            .where(sale.c.id > after_id, or_(sale.c.state.in_(NEEDS_SOMEONE), sale.c.hold_reason.is_not(None)))
            .order_by(sale.c.id))]
