"""Nothing on a screen is cut without a sign: every word, column and key either fits or ends with
"…", at 80×24 and 120×36, in English and French (`pytest -k ellipsis`)."""

import pytest
from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable, Input, Static
from textual.widgets._footer import FooterKey

from core.i18n import set_language
from tui.app import TandemApp
from tui.screens.home import HomeScreen
from tui.widgets.key_bar import TranslatedFooter

from tests.tui.pilot_helpers import press_and_settle

ELLIPSIS = "…"
SCREENS = {
    "home": [], "inbox": ["s"], "sale": ["s", "enter"], "customer": ["s", "enter", "l"],
    "cancel": ["s", "enter", "x"], "resolver": ["m"], "resolver-why": ["m", "w"], "catalog": ["c"],
    "returns": ["t"], "accounts": ["a"], "help": ["f1"], "locations": ["l"], "new-location": ["l", "a"],
    "supplier": ["f"], "supplier-document": ["f", "n"], "syncs": ["h"], "staff": ["p"],
}
SIZES = [(80, 24), (120, 36)]


def plain(renderable) -> str:
    if isinstance(renderable, (Text, Content)):
        return renderable.plain
    return renderable if isinstance(renderable, str) else ""


def cut_words(widget: Static) -> str | None:
    """The text of a word widget that needs more lines than it is given, and does not say so."""
    text = plain(widget.visual if hasattr(widget, "visual") else widget.render())
    if not text.strip() or widget.content_size.width <= 0 or widget.content_size.height <= 0:
        return None
    needed = widget.get_content_height(widget.parent.content_size if widget.parent else widget.size,
                                       widget.app.size, widget.content_size.width)
    if needed > widget.content_size.height:
        return text
    # Unwrapped lines wider than the widget must end with … (text-overflow: ellipsis), not be clipped.
    widest = max(Text(line).cell_len for line in text.splitlines())
    if widget.styles.text_wrap == "nowrap" and widest > widget.content_size.width \
            and widget.styles.text_overflow != "ellipsis":
        return text
    return None


def cut_cells(table: DataTable) -> list[str]:
    cut = []
    for row_index in range(min(table.row_count, table.size.height)):
        for column_index, column in enumerate(table.ordered_columns):
            cell = plain(table.get_cell_at((row_index, column_index)))
            if cell and Text(cell).cell_len > column.width and ELLIPSIS not in cell:
                cut.append(cell)
    for column in table.ordered_columns:
        label = plain(column.label)
        if Text(label).cell_len > column.width and ELLIPSIS not in label:
            cut.append(label)
    return cut


def cut_keys(footer: TranslatedFooter) -> list[str]:
    right = footer.content_region.right
    keys = list(footer.query(FooterKey))
    cut = [f"{key.key_display} {key.description}" for key in keys
           if key.display and key.region.width and key.region.right > right]
    if any(not key.display for key in keys) and not footer.query_one(".more-keys").display:
        cut.append("keys left out without …")
    return cut


def cut_placeholder(box: Input) -> str | None:
    """A search box's hint is cut by the box without a sign: it must fit whole."""
    hint = plain(box.placeholder)
    if not box.value and hint and Text(hint).cell_len > box.content_size.width:
        return hint
    return None


def everything_cut(screen) -> list[str]:
    cut = []
    for box in screen.query(Input).results():
        if box.display and box.region.width and cut_placeholder(box):
            cut.append(f"{box.id}: {box.placeholder!r}")
    for widget in screen.query(Static).results():
        if widget.display and widget.region.width and not isinstance(widget, FooterKey):
            text = cut_words(widget)
            if text:
                cut.append(f"{widget.id or type(widget).__name__}: {text!r}")
    for table in screen.query(DataTable).results():
        if table.display and table.region.width:
            cut += [f"{table.id}: {cell!r}" for cell in cut_cells(table)]
    for footer in screen.query(TranslatedFooter).results():
        cut += [f"footer: {key!r}" for key in cut_keys(footer)]
    return cut


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
@pytest.mark.parametrize("language", ["en", "fr"])
async def test_ellipsis_or_whole_on_every_screen(sqlite_demo_engine, language, size):
    problems = {}
    set_language(language)
    try:
        app = TandemApp(sqlite_demo_engine, hears_changes=False)
        async with app.run_test(size=size) as pilot:
            for name, keys in SCREENS.items():  # one console, each screen and back home
                await press_and_settle(app, pilot, *keys)
                cut = everything_cut(app.screen)
                if cut:
                    problems[name] = cut
                while not isinstance(app.screen, HomeScreen):
                    await press_and_settle(app, pilot, "escape")
    finally:
        set_language("en")
    assert problems == {}, "cut without …: " + "\n".join(f"{name}: {cut}" for name, cut in problems.items())
