"""One sync per database, and whether one is running now.

A PostgreSQL advisory lock (so it holds across machines), or on SQLite an exclusive lock on a file
beside the database. Both vanish with the process that held them, so a killed sync never leaves
the lock behind; its run row, though, stays "running" until `close_dead_runs` marks it.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager

from sqlalchemy import Engine, text, update
from sqlalchemy.engine import make_url

from core.i18n import _
from core.dbtypes import utcnow
from core.models import SyncRun

PG_SYNC_LOCK = 727002
INTERRUPTED = "interrupted"
INTERRUPTED_MESSAGE = (_("this sync stopped before it finished (the process was killed or the machine went down); "
                       "the next sync carried on from what it had saved"))


class SyncBusy(Exception):
    pass


class LockLost(Exception):
    """The database dropped the session that held the lock (so the lock with it)."""


class HeldLock:
    """What `sync_lock` gives its holder: a long holder (the watcher) checks, now and then, that the
    lock is still its own — on PostgreSQL a dropped session releases it, and another may take it."""

    def __init__(self, conn=None):
        self._conn = conn

    def check(self) -> None:
        if self._conn is None:
            return  # a lock file: the descriptor is this process's for as long as it lives
        held = self._conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND objsubid = 1 "
            "AND pid = pg_backend_pid() AND granted"), {"key": PG_SYNC_LOCK}).scalar()
        if not held:
            raise LockLost(_("this process no longer holds the sync lock"))


def _database_file(engine: Engine) -> str:
    return make_url(str(engine.url)).database or "memory"


@contextmanager
def sync_lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # Should the holder's machine vanish (power, network), the server drops its session and
            # so the lock after ~11 s of silence, instead of the system's two-hour TCP default:
            # a watcher waiting on another machine takes over within seconds.
            for setting, value in (("tcp_keepalives_idle", 5), ("tcp_keepalives_interval", 2),
                                   ("tcp_keepalives_count", 3)):
                conn.execute(text(f"SET {setting} = {value}"))
            if not conn.execute(text(f"SELECT pg_try_advisory_lock({PG_SYNC_LOCK})")).scalar():
                raise SyncBusy(_("another tandem --sync is running on this database"))
            try:
                yield HeldLock(conn)
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({PG_SYNC_LOCK})"))
        return
    with sync_lock_file(_database_file(engine)):
        yield HeldLock()


@contextmanager
def sync_lock_file(database):
    """The SQLite form of the lock: `<database>.sync-lock`, held exclusively."""
    descriptor = os.open(f"{database}.sync-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy(_("another tandem --sync is running on this database")) from None
        yield
    finally:
        os.close(descriptor)


def sync_running(engine: Engine) -> bool:
    """Whether some process holds the sync lock right now (this one included)."""
    try:
        with sync_lock(engine):
            return False
    except SyncBusy:
        return True


def close_dead_runs(engine: Engine) -> int:
    """Mark as interrupted every run row still "running". Call only while holding the sync lock:
    then no live sync can own such a row."""
    with engine.begin() as conn:
        return conn.execute(update(SyncRun.__table__).where(SyncRun.status == "running").values(
            status=INTERRUPTED, finished_at=utcnow(), message=INTERRUPTED_MESSAGE)).rowcount
