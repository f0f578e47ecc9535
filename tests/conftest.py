"""Shared fixtures. Database tests run on SQLite, and also on PostgreSQL when
TANDEM_TEST_POSTGRES_URL points at a server (`.ci/run` starts one)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from sqlalchemy import MetaData, create_engine, select, text

from core.db import open_database

# No test may pass or fail by the host's time zone: every process of the suite runs in UTC (the
# shop's own zone is a setting, and the tests that need one set it).
os.environ["TZ"] = "UTC"
time.tzset()

POSTGRES_URL = os.environ.get("TANDEM_TEST_POSTGRES_URL")
# Without a server the PostgreSQL cases are reported as skipped, with the reason, so a SQLite-only
# run never passes for the whole suite.
NO_POSTGRES = "TANDEM_TEST_POSTGRES_URL is not set: PostgreSQL cases need a server (.ci/run starts one)"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=[
    pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)])]


@pytest.fixture(autouse=True, scope="session")
def _quick_pin_hashes():
    """PINs hashed with argon2id's cheapest parameters: the staff tests set and check hundreds of
    PINs, and the production cost (a third of a second each, by design against guessing) would
    be most of their time. tests/core/test_staff_approval.py checks the production parameters."""
    from argon2 import PasswordHasher

    from core import staff

    production = staff._hasher
    staff._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    staff._hasher = production


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user's settings or data."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))  # the log
    for name in ("JOURNAL_STREAM", "INVOCATION_ID"):  # as if run by systemd: the log would go to stderr
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TANDEM_DATABASE_URL", raising=False)
    monkeypatch.delenv("TANDEM_CONFIG", raising=False)
    # Nor by the host's locale: the suite speaks English unless a test asks for French (and the
    # processes it starts inherit the same).
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    from core.i18n import set_language
    from core.shoptime import set_shop_zone

    set_shop_zone(None)
    set_language("en")
    yield
    set_shop_zone(None)
    set_language("en")
    # Nor by who the test acted as: the next one starts as the machine's own account again.
    from core.audit import set_session_actor
    from core.roles import set_refund_limit

    set_session_actor(None)
    set_refund_limit(None)
    # Nor by a log a command run in this process set up.
    from core.logs import stop_logging

    stop_logging()


def _on_postgres_server(statement: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")  # CREATE/DROP DATABASE refuse transactions
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def new_postgres_database(template_url: str | None = None) -> str:
    """A fresh database on the test server, or a clone of `template_url`'s; returns its URL."""
    name = f"tandem_test_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template_url.rsplit("/", 1)[1]}"' if template_url else ""
    _on_postgres_server(f'CREATE DATABASE "{name}"{clone}')
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


def drop_postgres_database(url: str) -> None:
    _on_postgres_server(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tandem.sqlite'}"
        return
    url = new_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table, for 'nothing was written' and 'nothing changed' checks."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted(conn.execute(select(table)).all(), key=repr)
            for name, table in sorted(metadata.tables.items())
        }


# The longest tests start first, so the workers finish together instead of one running the
# crash test alone at the end (xdist hands tests out in collection order).
LONG_FIRST = ("tests/test_crash_recovery.py", "tests/test_install.py", "tests/test_ssh_staff.py", "tests/core/test_shop_state_machine.py", "tests/test_concurrency.py",
              "tests/core/test_hostile_input.py", "tests/core/test_sync_faults.py", "tests/tui/test_french.py",
              "tests/tui/test_hostile_text.py", "tests/test_terminal.py")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


def pytest_xdist_auto_num_workers(config):
    """Twice the cores (at most 8): many tests spend their time waiting on a subprocess, a store on
    loopback or a timeout, and a second worker per core fills that time (13.6 min against 15.9 min
    with one per core, on two cores)."""
    return min(2 * (os.cpu_count() or 1), 8)
