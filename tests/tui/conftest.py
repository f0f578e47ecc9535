import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from core.db import open_database
from core.demo import create_demo_database
from core.models import SyncRun


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
