"""Copies of the database, and putting one back.

SQLite: `VACUUM INTO` writes a consistent copy from one read transaction, so it is safe while the
console, the watcher and a sync write (WAL readers never block writers, nor see half a
transaction); the copy is checked with `PRAGMA integrity_check` before it counts. PostgreSQL:
`pg_dump --format=custom`, restored with `pg_restore`. The secrets file is a separate file and
never goes into a copy.

A restore refuses while any Tandem process has the database open: each process holds a shared lock
on `<database>.in-use` for as long as it uses the file (`hold_in_use`), and a restore needs it
exclusively. The database it replaces is kept beside it, renamed, never deleted.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import subprocess
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url

from core.i18n import _

log = logging.getLogger(__name__)
STAMP = "%Y%m%dT%H%M%SZ"
PREFIX = "tandem-"  # the copies `tandem --backup` makes and prunes; a file named otherwise is never pruned


class BackupError(Exception):
    """The copy or the restore could not be made; nothing was changed. The message is for people."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    pruned: tuple[Path, ...] = ()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser()


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime(STAMP)


# --- the in-use lock --------------------------------------------------------------------------

def _in_use_file(database: Path) -> Path:
    return database.with_name(database.name + ".in-use")


def hold_in_use(engine, database: Path) -> None:
    """Hold a shared lock on the database's in-use file for as long as `engine` lives."""
    try:
        descriptor = os.open(_in_use_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # a read-only folder: nothing can restore over it either
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        from core.db import DatabaseError

        raise DatabaseError(_("this database is being restored from a backup; try again in a minute")) from None
    release = weakref.finalize(engine, os.close, descriptor)
    # Disposed is done with, too (a finalizer runs once, whichever comes first).
    event.listen(engine, "engine_disposed", lambda _engine: release())


def _take_exclusively(database: Path) -> int:
    descriptor = os.open(_in_use_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise BackupError(_("Tandem is using this database now (a console, the watcher or a sync): stop them first "
                            "(systemctl stop tandem-watch; staff leave the console), then restore")) from None
    return descriptor


# --- copies ------------------------------------------------------------------------------------

def check_copy(path: Path) -> str | None:
    """The schema revision of a good copy; raises BackupError for a file that is not one."""
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(_("{path} is not a SQLite database").format(path=path))
    except OSError as exc:
        raise BackupError(_("{path} cannot be read ({reason})").format(path=path, reason=exc.strerror)) from None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(_("{path} is damaged (integrity check: {verdict})").format(path=path, verdict=verdict))
        try:
            return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        except (sqlite3.DatabaseError, TypeError):
            raise BackupError(_("{path} is not a Tandem database").format(path=path)) from None
    except sqlite3.DatabaseError as exc:
        raise BackupError(_("{path} cannot be read as a database ({reason})").format(path=path, reason=exc)) from None
    finally:
        connection.close()


def copy_sqlite(database: Path, target: Path) -> int:
    """A checked copy of `database` at `target` (0600), written beside it first and renamed, so
    no half-written copy is ever found there. Returns its size."""
    if target.exists():
        raise BackupError(_("{path} exists already; name another file").format(path=target))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)  # VACUUM INTO fills an empty file; made first so it is private from the start
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        source.execute("VACUUM INTO ?", (str(partial),))
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(_("the copy of {path} failed: {reason}").format(path=database, reason=exc)) from None
    finally:
        source.close()
    try:
        check_copy(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target.stat().st_size


def libpq_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump takes it (no driver name, no password) and the environment carrying the
    password, so it never shows in the process list."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def dump_postgres(url: str, target: Path) -> int:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(_("pg_dump is not installed here (the PostgreSQL client tools): install them, or run "
                            "the README's pg_dump line where they are"))
    if target.exists():
        raise BackupError(_("{path} exists already; name another file").format(path=target))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    address, env = libpq_url(url)
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={address}"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise BackupError(_("pg_dump failed: {reason}").format(reason=reason[:300]))
    os.replace(partial, target)
    return target.stat().st_size


def default_name(settings, now: datetime | None = None) -> Path:
    extension = ".sqlite" if sqlite_path(settings.database_url) else ".dump"
    return (settings.backup_folder or settings.data_dir / "backups") / f"{PREFIX}{stamp(now)}{extension}"


def prune(folder: Path, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Delete the copies `tandem --backup` made in `folder` more than `keep_days` days ago (by the
    time in their names; other files are left alone). The newest copy is always kept."""
    now = now or datetime.now(UTC)
    copies = []
    for path in folder.glob(f"{PREFIX}*"):
        try:
            made = datetime.strptime(path.stem.removeprefix(PREFIX), STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue
        if path.suffix in (".sqlite", ".dump"):
            copies.append((made, path))
    copies.sort()
    gone = [path for made, path in copies[:-1] if now - made > timedelta(days=keep_days)]
    for path in gone:
        path.unlink(missing_ok=True)
        log.info("backup %s deleted: older than %d days", path.name, keep_days)
    return gone


def backup(settings, target: Path | None = None, now: datetime | None = None) -> BackupResult:
    """`tandem --backup [FILE]`: a checked copy of the database; without FILE, a dated copy in the
    backup folder, and copies older than `[backup] keep_days` deleted from it."""
    database = sqlite_path(settings.database_url)
    path = target or default_name(settings, now)
    if database is not None:
        if not database.exists():
            raise BackupError(_("{path} does not exist: there is nothing to back up yet").format(path=database))
        size = copy_sqlite(database, path)
    elif make_url(settings.database_url).get_backend_name() == "postgresql":
        size = dump_postgres(settings.database_url, path)
    else:
        raise BackupError(_("this database cannot be backed up by Tandem; use the database's own tools"))
    log.info("backup written: %s (%d bytes)", path, size)
    pruned = tuple(prune(path.parent, settings.backup_keep_days, now)) if target is None else ()
    return BackupResult(path, size, pruned)


def restore(settings, source: Path, now: datetime | None = None) -> Path:
    """`tandem --restore FILE`: put a copy back in place of the SQLite database. Refuses while any
    Tandem process uses it; the database replaced is kept beside it (returned)."""
    from core.db import SCHEMA_HEAD, known_revisions

    database = sqlite_path(settings.database_url)
    if database is None:
        raise BackupError(_("only a SQLite database is restored by Tandem; for PostgreSQL use pg_restore "
                            "(the README's line)"))
    revision = check_copy(source)
    if revision not in known_revisions():
        raise BackupError(_("{path} was made by a newer Tandem (schema {revision}; this one knows up to {head}): "
                            "install that Tandem first").format(path=source, revision=revision, head=SCHEMA_HEAD))
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    held = _take_exclusively(database)
    try:
        from core.synclock import SyncBusy, sync_lock_file

        with sync_lock_file(database):
            kept = None
            if database.exists():
                # Everything the old database committed goes into its main file first, so the copy
                # kept is whole on its own.
                connection = sqlite3.connect(database, timeout=30)
                try:
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    connection.close()
                kept = database.with_name(f"{database.name}.replaced-{stamp(now)}")
                os.replace(database, kept)
                for suffix in ("-wal", "-shm"):
                    database.with_name(database.name + suffix).unlink(missing_ok=True)
            partial = database.with_name(database.name + ".restoring")
            partial.unlink(missing_ok=True)
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            with open(source, "rb") as reading, open(partial, "wb") as writing:
                shutil.copyfileobj(reading, writing)
                writing.flush()
                os.fsync(writing.fileno())
            os.replace(partial, database)
    except SyncBusy:
        raise BackupError(_("a sync is running on this database: stop it first")) from None
    finally:
        os.close(held)
    log.warning("database restored from %s; the one it replaced is kept as %s", source, kept)
    return kept
