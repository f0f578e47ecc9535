"""`tandem --backup` and `tandem --restore`: dated copies kept so many days, and a copy put back.

The copies themselves are `core.copies`' (consistent while Tandem writes, checked). The secrets
file is a separate file and never goes into a copy. A restore refuses while any Tandem process
has the database open (`core.db`'s in-use lock); the database it replaces is kept beside it,
renamed, never deleted.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from core.copies import STAMP, BackupError, check_copy, copy_sqlite, dump_postgres, sqlite_path, stamp
from core.db import SCHEMA_HEAD, InUse, known_revisions, take_exclusively
from core.i18n import _
from core.synclock import SyncBusy, sync_lock_file

__all__ = ["BackupError", "BackupResult", "backup", "check_copy", "prune", "restore"]
log = logging.getLogger(__name__)
PREFIX = "tandem-"  # the copies `tandem --backup` makes and prunes; a file named otherwise is never pruned


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    pruned: tuple[Path, ...] = ()


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
    from core.audit import current_actor
    from core.roles import require

    actor = current_actor()
    require(actor, "database.restore")
    database = sqlite_path(settings.database_url)
    if database is None:
        raise BackupError(_("only a SQLite database is restored by Tandem; for PostgreSQL use pg_restore "
                            "(the README's line)"))
    revision = check_copy(source)
    if revision not in known_revisions():
        raise BackupError(_("{path} was made by a newer Tandem (schema {revision}; this one knows up to {head}): "
                            "install that Tandem first").format(path=source, revision=revision, head=SCHEMA_HEAD))
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        held = take_exclusively(database)
    except InUse:
        raise BackupError(_("Tandem is using this database now (a console, the watcher or a sync): stop them first "
                            "(systemctl stop tandem-watch; staff leave the console), then restore")) from None
    try:
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
    log.warning("database restored from %s by %s; the one it replaced is kept as %s", source, actor, kept)
    from core.audit import record
    from core.db import open_database

    # Said in the database put back, whose own history stops at the copy.
    engine = open_database(settings.database_url)
    try:
        with engine.begin() as conn:
            record(conn, actor, "database_restored", "database", database.name, "file", kept, source,
                   _("put back from a copy; the database it replaced is kept beside it"))
    finally:
        engine.dispose()
    return kept
