"""Copies of a database file, made and checked: the low-level half of backups, used by
`core.backup` and by `core.db` (which copies a database before upgrading its schema).

SQLite: `VACUUM INTO` writes a consistent copy from one read transaction, so it is safe while the
console, the watcher and a sync write (WAL readers never block writers, nor see half a
transaction); the copy is checked with `PRAGMA integrity_check` before it counts. PostgreSQL:
`pg_dump --format=custom`, the password passed in the environment, never on the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from core.i18n import _

STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(Exception):
    """The copy or the restore could not be made; nothing was changed. The message is for people."""


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser()


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime(STAMP)


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
