import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.db import open_database
from core.demo import create_demo_database
from core.models import AuditEntry, Payment, SyncRun, WebSale


PINNED_SYNC_TIME = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    url = f"sqlite:///{path}"
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
    return path


@pytest.fixture
def demo_engine(demo_file, tmp_path):
    """A private copy of the demo shop, so a test may change it."""
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, copy)
    engine = open_database(f"sqlite:///{copy}")
    yield engine
    engine.dispose()
