"""Text from outside is data on every screen: never markup, never terminal control.

Every field a screen shows — a web store's customer names, e-mails, phones, order numbers, line
titles, capture errors; the POS catalog's SKUs, descriptions, brands and part numbers; the web
listings; the settings' store, location and payment-type names and accounts; supplier documents;
sync messages; what staff paste into a search box — is filled with hostile strings. Then every
screen and dialog is opened at 80×24 and at 120×36, pressed through and clicked where the hostile
text is drawn, and what the console would write to the terminal is read back. The test fails on:
- any action a string asks for (`[@click=app.pwned]`, `[@click=app.quit]`) run, or a click target
  made from one;
- any style that is not the console's own (a colour, a background or a link from a string);
- any control character in the bytes written, other than the console's own escape sequences;
- any crash.
"""

from __future__ import annotations

import re
from itertools import cycle
from pathlib import Path

import pytest
from sqlalchemy import text
from textual import events

import tui.app
from tui.app import TandemApp

from tests.tui.pilot_helpers import press_and_settle, settle

LONG = "Long " + "x" * 4995
HOSTILE = [
    "[@click=app.pwned]Q[/] Pwn",
    "[@click=app.quit]quit[/]",
    "[link=https://evil.example/]link[/link]",
    "[b #123456 on #654321]Styled",
    "[/] closes nothing",
    "[b unbalanced",
    "] [ \\ [/b] \\[b] $name ${name} {name} %s",
    "Clear\x1b[2J\x1b[HHome",
    "Clip\x1b]52;c;cHduZWQ=\x07board",
    "Title\x1b]0;pwned\x1b\\end",
    "C1\x9b31mred\x9d0;t\x9c",
    "Bell\x07Back\x08CR\rVT\x0bFF\x0cNUL\x00DEL\x7f",
    "Bidi \u202eevil\u202c \u2066iso\u2069",
    "Zero\u200bwidth\u200djoin\ufeff",
    LONG,
]
HOSTILE_COLOURS = {"#123456", "#654321"}

# What Textual itself writes for a screen: SGR styles, cursor moves to a row and column, and
# private modes (synchronised output). Anything else (a screen clear, OSC, a bare ESC) is a string's.
OWN_SEQUENCE = re.compile(r"\x1b\[(?:[0-9;]*m|[0-9]+;[0-9]+H|\?[0-9]+[hl])")
ANY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def poison(engine) -> None:
    """Hostile strings in every text field a screen shows, in turn, row by row."""
    fields = {
        "websale": ["customer_name", "customer_email", "customer_phone", "order_number", "capture_error",
                    "hold_reason", "billing_address", "shipping_address", "remote_status"],
        "websaleline": ["title", "product_code", "barcode_raw", "part_number"],
        "product": ["description", "brand", "part_number", "barcode_raw"],
        "weblisting": ["title", "product_code", "barcode_raw", "part_number"],
        "poscustomer": ["name", "email", "phone"],
        "paymenttype": ["account"],
        "supplierdocument": ["reference", "recorded_by"],
        "syncrun": ["message", "started_by"],
        "auditlog": ["actor", "client", "note", "new_value", "old_value"],
        "giftcard": ["issued_by"],
        "returnline": ["tax_rate_reason"],
    }
    # Names that must stay unique get their row's id after the hostile text.
    unique = {"product": ["sku"], "location": ["name"], "saleschannel": ["name"], "paymenttype": ["name"]}
    with engine.begin() as conn:
        for table in set(fields) | set(unique):
            ids = [row[0] for row in conn.execute(text(f"SELECT id FROM {table} ORDER BY id"))]
            strings = cycle(HOSTILE)
            for row_id in ids:
                values = {column: next(strings) for column in fields.get(table, [])}
                values |= {column: f"{next(strings)[:40]}#{row_id}" for column in unique.get(table, [])}
                if not values:
                    continue
                assignments = ", ".join(f"{column} = :{column}" for column in values)
                conn.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"), {**values, "id": row_id})


class WatchedApp(TandemApp):
    """The console, noting any action a string could ask for."""

    CSS_PATH = [str(Path(tui.app.__file__).parent / path) for path in TandemApp.CSS_PATH]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pwned: list[str] = []

    def action_pwned(self) -> None:
        self.pwned.append("app.pwned")

    async def action_quit(self) -> None:
        self.pwned.append("app.quit")  # nothing in these walks asks to quit; a string might


def terminal_output(app) -> str:
    """What the console writes to the terminal for the screen as it stands."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def check_screen(app, where: str) -> None:
    written = terminal_output(app)
    assert "\x1b]8;" not in written, f"{where}: a hyperlink was written"
    rest = OWN_SEQUENCE.sub("", written)
    leftover = ANY_CONTROL.search(rest)
    assert not leftover, (f"{where}: a control character written to the terminal: "
                          f"{rest[max(leftover.start() - 30, 0):leftover.end() + 30]!r}")
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is None:
                continue
            colours = {str(c.triplet.hex) for c in (style.color, style.bgcolor) if c is not None and c.triplet}
            assert not colours & HOSTILE_COLOURS, f"{where}: a string's colour was applied to {segment.text!r}"
            assert not style.link, f"{where}: a string's link on {segment.text!r}"
            click = (style.meta or {}).get("@click")
            assert not click or "pwned" not in str(click) and "quit" not in str(click), (
                f"{where}: a click target made from a string: {click!r}")
    assert not app.pwned, f"{where}: a string ran {app.pwned}"
    assert app.is_running, f"{where}: the console stopped"


async def click_hostile_text(app, pilot, where: str) -> None:
    """Click where a string asked for a click, as a customer hopes staff will."""
    lines = app.screen._compositor.render_strips()
    for y, strip in enumerate(lines):
        row = strip.text
        for marker in ("Q[/] Pwn", "quit[/]", "link[/link]", "Styled"):
            x = row.find(marker)
            if x >= 0 and not app.screen.is_modal:
                await pilot.click(offset=(x, y))
                await settle(app, pilot)
                check_screen(app, f"{where}, clicked on {marker!r}")
                return


async def visit(app, pilot, where: str, *keys: str) -> None:
    await press_and_settle(app, pilot, *keys)
    await settle(app, pilot, 0.05)
    check_screen(app, where)


async def paste(app, pilot, value: str) -> None:
    focused = app.screen.focused
    assert focused is not None
    focused.post_message(events.Paste(value))
    await settle(app, pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_hostile_text_is_shown_as_plain_text_on_every_screen(sqlite_demo_engine, size):
    from tui.screens.home import HomeScreen
    from tui.screens.inbox import InboxScreen
    from tui.screens.sale import SaleScreen

    poison(sqlite_demo_engine)
    app = WatchedApp(sqlite_demo_engine, demo=True, refresh_seconds=0.2)
    async with app.run_test(size=size) as pilot:
        await visit(app, pilot, "home")
        assert isinstance(app.screen, HomeScreen)

        # The inbox, its filters, a pasted search and the sales found.
        await visit(app, pilot, "inbox", "s")
        assert isinstance(app.screen, InboxScreen)
        await click_hostile_text(app, pilot, "inbox")
        await visit(app, pilot, "inbox filtered", "escape")
        if not isinstance(app.screen, InboxScreen):
            await visit(app, pilot, "inbox again", "s")
        await visit(app, pilot, "inbox by status", "f")
        await visit(app, pilot, "inbox by store", "c")
        await visit(app, pilot, "inbox history", "h")
        await visit(app, pilot, "inbox open", "h")
        await press_and_settle(app, pilot, "slash")
        await paste(app, pilot, "[@click=app.pwned]Q[/]\x1b[2J\x1b]52;c;cHduZWQ=\x07")
        check_screen(app, "inbox with a pasted search")
        await visit(app, pilot, "inbox search cleared", "escape")

        # Each of the first sales, its dialogs and its lines.
        seen_sale = False
        for row in range(3):
            if not isinstance(app.screen, InboxScreen):
                await visit(app, pilot, "inbox", "s")
            await press_and_settle(app, pilot, "escape") if app.screen.query("Input:focus") else None
            if not isinstance(app.screen, InboxScreen):
                await visit(app, pilot, "inbox", "s")
            table = app.screen.query_one("DataTable")
            table.focus()
            table.move_cursor(row=row)
            await visit(app, pilot, f"sale {row}", "enter")
            if not isinstance(app.screen, SaleScreen):
                continue
            seen_sale = True
            await click_hostile_text(app, pilot, f"sale {row}")
            for dialog_key in ("p", "l", "x", "g", "m"):
                before = app.screen
                await visit(app, pilot, f"sale {row}, key {dialog_key}", dialog_key)
                if app.screen is not before:
                    await visit(app, pilot, f"sale {row}, after key {dialog_key}", "escape")
                if not isinstance(app.screen, SaleScreen):
                    break
            while not isinstance(app.screen, (InboxScreen, HomeScreen)):
                await press_and_settle(app, pilot, "escape")
        assert seen_sale, "a sale with hostile text was opened"
        while not isinstance(app.screen, HomeScreen):
            await press_and_settle(app, pilot, "escape")

        # Every other screen from the home menu, pressed through.
        for menu_key, inner_keys in (("t", ("down", "enter", "t", "escape", "escape")),
                                     ("a", ("b", "f", "down")),
                                     ("m", ("w", "escape", "down", "slash")),
                                     ("c", ("down", "enter", "slash")),
                                     ("l", ("down",)),
                                     ("f", ("down", "n", "escape")),
                                     ("h", ("down",)),
                                     ("f1", ("down", "down", "up"))):
            await visit(app, pilot, f"menu {menu_key}", menu_key)
            await click_hostile_text(app, pilot, f"menu {menu_key}")
            for key in inner_keys:
                await visit(app, pilot, f"menu {menu_key}, key {key}", key)
            focused = app.screen.focused
            if focused is not None and focused.__class__.__name__ in ("SearchBox", "TextBox"):
                await paste(app, pilot, "Pasted\x1b[2J[b #123456]x\u202ey")
                check_screen(app, f"menu {menu_key} with a pasted search")
            while not isinstance(app.screen, HomeScreen):
                await press_and_settle(app, pilot, "escape")

        # A new web sale arriving with a hostile order number and name: the notice shows them plain.
        with sqlite_demo_engine.begin() as conn:
            columns = [row[1] for row in conn.execute(text("PRAGMA table_info(websale)")) if row[1] != "id"]
            copied = ", ".join(columns)
            chosen = ", ".join({"external_id": "'hostile-new'", "order_number": ":number",
                                "customer_name": ":name", "version": "1"}.get(c, c) for c in columns)
            conn.execute(text(f"INSERT INTO websale ({copied}) SELECT {chosen} FROM websale ORDER BY id LIMIT 1"),
                         {"number": "[@click=app.pwned]N[/]\x1b[2J", "name": "[b #123456]New"})
            conn.execute(text("UPDATE websale SET version = version + 1 WHERE id = (SELECT min(id) FROM websale)"))
        for _ in range(600):  # as soon as the notice is up; the bound only ends a broken run
            await pilot.pause(0.1)
            if any("N[/]" in notice.message for notice in app._notifications):
                break
        await settle(app, pilot)
        assert any("N[/]" in notice.message for notice in app._notifications), "the new sale was announced"
        check_screen(app, "home with the new-sale notice")
