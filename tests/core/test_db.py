import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import core.models  # noqa: F401
from core.db import MIGRATIONS_DIR, SCHEMA_HEAD, current_revision, make_engine, migrate, open_database


def test_schema_head_constant_is_the_newest_migration():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_migrations_go_up_from_empty_and_match_the_models(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == SCHEMA_HEAD
    with engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert differences == []
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrating_twice_is_harmless(engine):
    migrate(engine)
    assert current_revision(engine) == SCHEMA_HEAD


def test_sqlite_is_opened_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'shop.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_sqlite_parent_directory_is_created(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'a' / 'b' / 'shop.sqlite'}")
    assert (tmp_path / "a" / "b" / "shop.sqlite").exists()


def test_migrations_do_not_depend_on_application_code():
    """A migration must keep working after the models change, so it may not import them."""
    for path in Path(MIGRATIONS_DIR, "versions").glob("*.py"):
        source = path.read_text()
        assert not re.search(r"^\s*(from|import) (core|sqlmodel)\b", source, re.M), path.name


def test_an_impossible_database_folder_is_a_clear_error(tmp_path):
    import pytest

    from core.db import DatabaseError

    (tmp_path / "file").write_text("in the way")
    with pytest.raises(DatabaseError, match="cannot create the folder"):
        open_database(f"sqlite:///{tmp_path / 'file' / 'shop.sqlite'}")
