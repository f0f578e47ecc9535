"""Opening the database and bringing its schema up to date.

Alembic owns the schema. Starting the app must stay fast, so the current revision is compared
with SCHEMA_HEAD first and Alembic is only imported when there is something to apply.
"""

from __future__ import annotations

from core.i18n import N_, _


import fcntl
import logging
import os
import weakref
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from core.logs import watch_commits

log = logging.getLogger(__name__)

# The newest migration in core/migrations/versions; a test keeps the two in step.
SCHEMA_HEAD = "0013"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message is meant for people."""


class SQLiteEngine(Engine):
    """`engine.begin()` is how Tandem writes, and on SQLite it takes the write lock at once
    (BEGIN IMMEDIATE): waiting for it then obeys the busy timeout. A transaction that starts by
    reading and writes later cannot wait: SQLite refuses the upgrade at once with "database is
    locked" whenever another writer got in between. Reads (`engine.connect()`) stay deferred, so
    the console keeps reading while an import writes."""

    @contextmanager
    def begin(self):
        with self.connect() as conn:
            conn.execution_options(tandem_writes=True)
            with conn.begin():
                yield conn


def _sqlite_begin(conn) -> None:
    # pysqlite's own BEGIN is switched off (isolation_level None); the transaction is begun here.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("tandem_writes") else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record):
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Temporary tables and sorts (matching a million listings, ordering an export) go to a file,
    # not to memory: a 1,000,000-product sync then peaks at a fraction of the RAM, at the same speed.
    cursor.execute("PRAGMA temp_store=FILE")
    cursor.close()


def _create_private(database: Path) -> None:
    """The SQLite file holds customers' names, emails and phones: a folder Tandem creates is 0700
    and a database file it creates is 0600, whatever the umask. SQLite gives its -wal and -shm
    files the database file's permissions."""
    folder = database.parent
    try:
        missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
        for parent in reversed(missing):
            parent.mkdir(mode=0o700, exist_ok=True)
            os.chmod(parent, 0o700)  # mkdir's mode is cut by the umask; this is not
    except OSError as exc:
        raise DatabaseError(_('cannot create the folder {folder} ({strerror})').format(folder=folder, strerror=exc.strerror)) from None
    try:
        descriptor = os.open(database, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except (NotADirectoryError, FileNotFoundError) as exc:
        raise DatabaseError(_('cannot create the folder {folder} ({strerror})').format(folder=folder, strerror=exc.strerror)) from None
    except OSError as exc:
        raise DatabaseError(_('cannot create the database file {database} ({strerror})').format(database=database, strerror=exc.strerror)) from None
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


# --- the in-use lock: a restore waits for nobody to have the database open ----------------------

class InUse(Exception):
    """Some Tandem process has this SQLite database open."""


def _in_use_file(database: Path) -> Path:
    return database.with_name(database.name + ".in-use")


def hold_in_use(engine: Engine, database: Path) -> None:
    """Hold a shared lock on `<database>.in-use` while `engine` lives (or until it is disposed):
    `tandem --restore` needs that lock alone, so it never replaces a file someone has open."""
    try:
        descriptor = os.open(_in_use_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # a read-only folder: nothing can restore over it either
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise DatabaseError(_("this database is being restored from a backup; try again in a minute")) from None
    release = weakref.finalize(engine, os.close, descriptor)
    # Disposed is done with, too (a finalizer runs once, whichever comes first).
    event.listen(engine, "engine_disposed", lambda _engine: release())


def take_exclusively(database: Path) -> int:
    """The in-use lock alone, or InUse; returns the descriptor to close when done."""
    descriptor = os.open(_in_use_file(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise InUse(str(database)) from None
    return descriptor


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(_('not a database URL: {url}').format(url=repr(url))) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _create_private(Path(parsed.database).expanduser())
        engine = create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        engine.__class__ = SQLiteEngine
        watch_commits(engine)
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            hold_in_use(engine, Path(parsed.database).expanduser())
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            engine = create_engine(parsed, pool_pre_ping=True)
            watch_commits(engine)
            return engine
        except ModuleNotFoundError as exc:
            # PostgreSQL support is an extra: a shop on the SQLite file never installs its driver.
            raise DatabaseError(_("this database is PostgreSQL, and the Tandem installed here was installed without "
                                  "its PostgreSQL driver ({module}): install tandem[postgres] (the installer: "
                                  "TANDEM_EXTRAS=postgres)").format(module=exc.name)) from None
    raise DatabaseError(
        _('unsupported database {value}: use sqlite:/// or postgresql+psycopg://').format(value=repr(parsed.get_backend_name()))
    )


BUSY_WORDS = ("database is locked", "database is busy", "deadlock detected", "lock timeout",
              "could not serialize", "canceling statement due to lock timeout")


# (words in the driver's message, what to tell a person); the first that matches wins.
KNOWN_FAILURES = (
    (BUSY_WORDS, N_("The database was busy with another change (a sync or an import) for too long; nothing was "
                 "saved. Try again in a moment.")),
    (("readonly database", "read-only", "read only"),
     N_("The database cannot be written (the file or its folder is read-only); nothing was saved. "
     "Give the user running Tandem write access to both.")),
    (("disk is full", "no space left", "disk full"),
     N_("The disk holding the database is full; nothing was saved. Free some space and try again.")),
    (("file is not a database", "disk image is malformed", "not a database"),
     N_("The database file is damaged or is not a Tandem database; nothing was saved. Restore it from a backup "
     "(or point --db at the right file).")),
    (("expression tree is too large", "too many terms", "stack depth limit"),
     N_("That request was too large for the database; nothing was saved. Make it shorter.")),
)


def known_failure(exc: DBAPIError) -> str | None:
    reason = str(exc.orig).lower()
    return next((_(message) for words, message in KNOWN_FAILURES if any(word in reason for word in words)), None)


def describe_failure(exc: BaseException) -> str:
    """Words for a person when an operation failed for a reason of the database, not of theirs.
    Every operation is one transaction, so in each case nothing was saved."""
    if isinstance(exc, DatabaseError):
        return f"{exc}."
    if isinstance(exc, DBAPIError):
        if known := known_failure(exc):
            return known
        if isinstance(exc, OperationalError):
            return _("The database could not be reached; nothing was saved. Check the connection and try again.")
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        return _('The database refused the change ({value}); nothing was saved.').format(value=first_line[:200])
    return f"That did not work and nothing was saved ({type(exc).__name__}: {exc})."


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def known_revisions() -> set[str]:
    return {path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")}


def migrate(engine: Engine) -> None:
    """Apply every migration not yet applied. Safe to call at every start."""
    try:
        revision = current_revision(engine)
        if revision == SCHEMA_HEAD:
            return
        if revision is not None and revision not in known_revisions():
            raise DatabaseError(
                _('this database was last used by a newer Tandem (schema {revision}; this one knows up to {SCHEMA_HEAD}): install the newer Tandem, or open a backup made before the upgrade').format(revision=revision, SCHEMA_HEAD=SCHEMA_HEAD))
        if revision is not None:
            _copy_before_upgrade(engine, revision)
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Two terminals starting at once on a new database must not both create tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            if revision is not None and revision < "0008":
                # Words to find the sales and customers stored before there was a search table
                # (migrations do not import the application, so this step is here, same transaction).
                from core.search import index_all

                index_all(conn)
    except DBAPIError as exc:
        if known := known_failure(exc):
            raise DatabaseError(known.rstrip(".")) from None
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise DatabaseError(_('cannot open the database: {value}').format(value=reason[:200])) from None


def _copy_before_upgrade(engine: Engine, revision: str) -> None:
    """A database last used by an older Tandem is copied before its schema changes: beside the
    SQLite file, or with pg_dump into the data folder's backups. Without pg_dump, PostgreSQL is not
    upgraded until someone says a copy exists (TANDEM_UPGRADE_BACKED_UP=1)."""
    import sys

    from core import copies
    from core.settings import default_data_dir

    url = engine.url.render_as_string(hide_password=False)
    database = copies.sqlite_path(url)
    if database is not None:
        target = database.with_name(f"{database.name}.before-upgrade-{revision}-{copies.stamp()}")
    elif engine.dialect.name == "postgresql":
        if os.environ.get("TANDEM_UPGRADE_BACKED_UP") == "1":
            return
        import shutil

        if shutil.which("pg_dump") is None:
            raise DatabaseError(_("this database is at schema {revision} and this Tandem needs {head}. Copy it "
                                  "first: pg_dump --format=custom --file tandem-before-upgrade.dump \"{url}\"; then "
                                  "run Tandem again with TANDEM_UPGRADE_BACKED_UP=1 to upgrade it").format(
                revision=revision, head=SCHEMA_HEAD, url=copies.libpq_url(url)[0]))
        target = default_data_dir() / "backups" / f"before-upgrade-{revision}-{copies.stamp()}.dump"
    else:
        return
    try:
        if database is not None:
            copies.copy_sqlite(database, target)
        else:
            copies.dump_postgres(url, target)
    except copies.BackupError as exc:
        raise DatabaseError(_("this database needs an upgrade (schema {revision} to {head}), and the copy taken "
                              "first failed, so nothing was changed: {reason}").format(
            revision=revision, head=SCHEMA_HEAD, reason=exc)) from None
    message = _("the database was made by an older Tandem (schema {revision}); it is upgraded to {head} now, and "
                "the copy from before is {path}").format(revision=revision, head=SCHEMA_HEAD, path=target)
    log.warning("%s", message)
    print(f"tandem: {message}", file=sys.stderr)


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def remember_database_password(url: str) -> None:
    """The database password is a secret like the stores' credentials: never printed."""
    from core.secrets import remember

    try:
        password = make_url(url).password
    except ArgumentError:
        return
    if password:
        remember(str(password))


def redacted_url(url: str) -> str:
    """The URL with any password hidden, for printing."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


# INSERT ... SELECT reports -1 rows on PostgreSQL unless asked to keep the driver's count.
COUNT_ROWS = {"preserve_rowcount": True}


def insert_ignoring_duplicates(conn, table, rows: list[dict], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on the unique `keys`: the database, not a prior check,
    keeps a row from being stored twice, even by two processes at once."""
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), rows)
