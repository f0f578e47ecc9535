from textual.widgets import DataTable, Input

from tui.app import TandemApp
from tui.screens.catalog import CatalogScreen
from tui.screens.home import HomeScreen

from tests.tui.pilot_helpers import press_and_settle, settle


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


def first_sku(app) -> str:
    table = app.screen.query_one("#products", DataTable)
    return str(table.get_row_at(0)[0])


async def test_c_opens_the_catalog_and_escape_comes_home(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "c")
        assert isinstance(app.screen, CatalogScreen)
        assert status(app) == "1–15 of 3,015 · PgDn next page"
        await pilot.press(*"zz")
        await press_and_settle(app, pilot, "escape")
        assert isinstance(app.screen, CatalogScreen) and app.screen.query_one("#search").value == "", \
            "the first esc clears what was typed"
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_pages_move_forward_and_back(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "c")
        top = first_sku(app)
        assert status(app) == "1–15 of 3,015 · PgDn next page", "a page is what the table shows at 80×24"
        await press_and_settle(app, pilot, "pagedown")
        assert status(app) == "16–30 of 3,015 · PgDn next page · PgUp previous"
        assert first_sku(app) > top
        await press_and_settle(app, pilot, "pageup")
        assert first_sku(app) == top


async def test_typing_searches_and_the_detail_follows_the_cursor(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "c")
        assert app.screen.query_one("#search", Input).has_focus, "focused when the catalog opens: a scan needs no key"
        await pilot.press(*"helmet road", "n")  # n is text while the search box has focus
        await settle(app, pilot, 0.3)
        assert app.screen.query_one("#search", Input).value == "helmet roadn"
        assert status(app) == "no product matches"
        await pilot.press("backspace")
        await settle(app, pilot, 0.3)
        assert status(app).endswith("of 114 · PgDn next page")
        await pilot.press("enter", "down", "down")
        await settle(app, pilot)
        table = app.screen.query_one("#products", DataTable)
        third = str(table.get_row_at(2)[0])
        assert f"Part {table.get_row_at(2)[4]}" in str(app.screen.query_one("#detail").render())
        assert third.startswith("NW")


def test_catalog_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def open_catalog(pilot):
        await press_and_settle(pilot.app, pilot, "c")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=open_catalog)


async def test_the_search_cursor_stays_lit(sqlite_demo_engine):
    """No blink: over SSH a blink is two repaints a second for nothing, and pictures of the screen
    must not depend on the moment they are taken."""
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "c")
        box = app.screen.query_one("#search")
        assert box.has_focus and not box.cursor_blink
        for _ in range(3):
            await pilot.pause(0.3)
            assert box._cursor_visible
