"""The help panel from the keyboard: F1 on each screen opens its entries; search; language."""

import pytest

from core import faq
from tui.app import TandemApp
from tui.screens.faq import FaqScreen

from tests.tui.pilot_helpers import press_and_settle, settle

SCREEN_KEYS = {"home": [], "inbox": ["s"], "sale": ["s", "enter"], "resolver": ["m"], "returns": ["t"],
               "accounts": ["a"], "catalog": ["c"], "rules": ["w"]}


@pytest.mark.parametrize("screen", SCREEN_KEYS)
async def test_f1_opens_the_help_on_the_entries_for_this_screen(demo_engine, screen):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, *SCREEN_KEYS[screen])
        await press_and_settle(app, pilot, "f1")
        assert isinstance(app.screen, FaqScreen) and app.screen.context == screen
        mine = [entry.topic for entry in faq.for_screen(screen)]
        assert app.screen.topics[: len(mine)] == mine
        await press_and_settle(app, pilot, "escape")
        assert not isinstance(app.screen, FaqScreen)


async def test_search_as_you_type_and_switch_language(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "question_mark")
        await pilot.press(*"ecommerce")
        await settle(app, pilot)
        assert "how_it_works" in app.screen.topics
        await press_and_settle(app, pilot, "f2")
        assert app.screen.language == "fr"
        assert "intégration e-commerce" in str(app.screen.query_one("#faq-answer").render())
        for _ in "ecommerce":
            await pilot.press("backspace")
        await pilot.press(*"remboursement")
        await settle(app, pilot)
        # The entry on refund tax rates says "rembourser": a word of the same family.
        assert app.screen.topics == ["return_tax_rate", "refund_shipping", "manager_approval"]


async def test_the_why_panel_links_to_its_help_entry(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "m", "w", "h")
        assert isinstance(app.screen, FaqScreen)
        assert "ambiguous" in str(app.screen.query_one("#faq-answer").render())


def test_help_snapshot_80x24_english(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "f1")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


def test_help_snapshot_80x24_french(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "f1", "f2")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_long_answer_scrolls_from_the_keyboard_at_80x24(sqlite_demo_engine, language):
    app = TandemApp(sqlite_demo_engine, hears_changes=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "f1")
        if language == "fr":
            await press_and_settle(app, pilot, "f2")
        screen = app.screen
        box = screen.answer_box()
        # The longest answer: it cannot fit at 80x24.
        longest = max(screen.entries, key=lambda entry: len(entry.text(language)[1]))
        while screen.query_one("#faq-questions").highlighted != screen.topics.index(longest.topic):
            await pilot.press("down")
        await settle(app, pilot)
        assert box.max_scroll_y > 0, "the longest answer is taller than the panel"
        await press_and_settle(app, pilot, "pagedown")
        assert box.scroll_y > 0, "PgDn scrolls the answer, from the search box"
        await press_and_settle(app, pilot, "pageup")
        assert box.scroll_y == 0
        while not box.has_focus:
            await press_and_settle(app, pilot, "tab")
        await press_and_settle(app, pilot, "end")
        assert box.scroll_y == box.max_scroll_y, "End goes to the answer's last line"
        await press_and_settle(app, pilot, "up")
        assert box.scroll_y == box.max_scroll_y - 1
        await press_and_settle(app, pilot, "home")
        assert box.scroll_y == 0
        await press_and_settle(app, pilot, "escape")
        assert not isinstance(app.screen, FaqScreen)
