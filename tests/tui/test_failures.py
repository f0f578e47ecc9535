"""A database that is busy or gone is said in words on the screen; the app keeps running."""

import pytest
from sqlalchemy.exc import OperationalError

from core.db import DatabaseError, describe_failure
from tui.app import TandemApp
from tui.screens.resolver import ResolverScreen

from tests.tui.pilot_helpers import press_and_settle


def operational(message: str) -> OperationalError:
    return OperationalError("UPDATE weblisting ...", {}, Exception(message))


@pytest.mark.parametrize(("error", "words"), [
    (operational("database is locked"), "busy with another change"),
    (operational("deadlock detected"), "busy with another change"),
    (operational("connection refused"), "could not be reached"),
    (DatabaseError("cannot open the database: disk I/O error"), "cannot open the database: disk I/O error."),
    (ValueError("odd"), "nothing was saved (ValueError: odd)"),
])
def test_each_failure_has_words_for_a_person(error, words):
    text = describe_failure(error)
    assert words in text and "nothing was saved" in text or isinstance(error, DatabaseError)
    assert "UPDATE" not in text, "no SQL on the screen"


async def test_a_locked_database_during_a_link_is_told_and_nothing_breaks(demo_engine, monkeypatch):
    import core.resolver

    def locked(*args, **kwargs):
        raise operational("database is locked")

    monkeypatch.setattr(core.resolver, "link_listing", locked)
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "m")
        assert isinstance(app.screen, ResolverScreen)
        listing = app.screen.item.listing_id
        await press_and_settle(app, pilot, "1")
        messages = [n.message for n in app._notifications]
        assert any("busy with another change" in m and "nothing was saved" in m for m in messages), messages
        assert not any("locked" in m for m in messages)
        assert isinstance(app.screen, ResolverScreen) and app.screen.item.listing_id == listing
        assert app.is_running
