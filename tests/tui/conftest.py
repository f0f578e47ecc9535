"""The demo shop for screen tests: built once per session with its clock pinned, and copied for
each test. Behaviour tests run on SQLite and on PostgreSQL (a database cloned from a template);
pictures of screens are taken on SQLite only, since the two draw the same rows."""

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.db import open_database
from core.demo import create_demo_database
from core.models import AuditEntry, Payment, SyncRun, WebSale

from tests.conftest import BACKENDS, drop_postgres_database, new_postgres_database

PINNED_SYNC_TIME = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def build_pinned_demo(url: str) -> None:
    create_demo_database(url)
    # Pictures of screens must not change with the clock: the demo's sync gets a fixed time.
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(update(SyncRun).values(started_at=PINNED_SYNC_TIME, finished_at=PINNED_SYNC_TIME))
        # The demo's orders are "the last day", relative to now; pin them too.
        for sale_id, in conn.execute(select(WebSale.id)).all():
            conn.execute(update(WebSale).where(WebSale.id == sale_id).values(
                ordered_at=PINNED_SYNC_TIME - timedelta(minutes=23 * sale_id)))
        conn.execute(update(WebSale).where(WebSale.held_until.is_not(None)).values(
            held_until=datetime(2030, 3, 4, 7, 30, tzinfo=UTC)))
        conn.execute(update(Payment).values(received_at=PINNED_SYNC_TIME))
        conn.execute(update(AuditEntry).values(at=PINNED_SYNC_TIME))
    engine.dispose()


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    build_pinned_demo(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def demo_template_postgres():
    """The demo shop in a PostgreSQL database that each test's database is cloned from."""
    url = new_postgres_database()
    build_pinned_demo(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(autouse=True)
def _fresh_demo_web_store():
    """The built-in demo web store lives as long as the process; each test gets its own, so a
    payment one test captured is not already captured in the next."""
    from core.demo_store.runtime import reset_demo_stores

    reset_demo_stores()


@pytest.fixture
def sqlite_demo_engine(demo_file, tmp_path):
    """A private copy of the demo shop, so a test may change it."""
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, copy)
    engine = open_database(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def demo_engine(request):
    """A private copy of the demo shop on each database Tandem runs on."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_demo_engine")
        return
    url = new_postgres_database(request.getfixturevalue("demo_template_postgres"))
    engine = open_database(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(url)
