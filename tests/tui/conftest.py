import shutil

import pytest

from core.db import open_database
from core.demo import create_demo_database


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    create_demo_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def demo_engine(demo_file, tmp_path):
    """A private copy of the demo shop, so a test may change it."""
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, copy)
    engine = open_database(f"sqlite:///{copy}")
    yield engine
    engine.dispose()
