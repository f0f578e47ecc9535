"""The typing model staff cannot trip: in a search box every letter is text, never a command; `/`
goes into a screen's search and always starts a fresh one; esc comes out."""

import string

import pytest
from textual.widgets import Input

from tui.app import TandemApp

from tests.tui.pilot_helpers import settle

# Each screen with a search box, and the home screen's key that opens it.
SEARCHABLE = {"inbox": "s", "catalog": "c", "resolver": "m", "returns": "t", "help": "f1"}


def focused_box(app) -> Input | None:
    return app.focused if isinstance(app.focused, Input) else None


async def into_search(app, pilot) -> Input:
    if focused_box(app) is None:
        await pilot.press("slash")
        await settle(app, pilot)
    box = focused_box(app)
    assert box is not None, f"{type(app.screen).__name__}: / does not go into a search box"
    return box


@pytest.mark.parametrize("screen", SEARCHABLE)
async def test_every_letter_typed_in_a_search_box_is_text_and_runs_no_command(sqlite_demo_engine, screen):
    app = TandemApp(sqlite_demo_engine, hears_changes=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(SEARCHABLE[screen])
        await settle(app, pilot)
        opened = app.screen
        box = await into_search(app, pilot)
        ran = []
        run_action = app.run_action

        async def spy(action, *args, **kwargs):
            ran.append(action)
            return await run_action(action, *args, **kwargs)

        app.run_action = spy
        for letter in string.ascii_lowercase:
            await pilot.press(letter)
        await settle(app, pilot)
        assert ran == [], f"{screen}: letters ran commands"
        assert app.screen is opened, f"{screen}: a letter left the screen"
        assert box.value == string.ascii_lowercase


async def test_slash_starts_a_fresh_search_and_esc_comes_out(sqlite_demo_engine):
    app = TandemApp(sqlite_demo_engine, hears_changes=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        box = await into_search(app, pilot)
        for letter in "okafor":
            await pilot.press(letter)
        await pilot.press("enter")  # the cursor goes to what was found
        await settle(app, pilot)
        assert focused_box(app) is None
        await pilot.press("slash")
        await settle(app, pilot)
        assert focused_box(app) is box and box.value == "", "/ starts again, it does not add to the last search"
        await pilot.press("l", "i")
        await pilot.press("escape")
        await settle(app, pilot)
        assert focused_box(app) is None and box.value == "", "esc leaves the search and clears it"
