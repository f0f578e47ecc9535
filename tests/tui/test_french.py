"""Tandem in French: every screen and dialog, walked from the keyboard at 80×24, shows only words
of the French catalogue (or the shop's own data: names, products, order numbers); the help quotes
only labels the screens show; the language switches live from any screen and is remembered.

A word on screen that is neither French from the catalogue nor the shop's data fails the test with
the screen it was on — an English word left in the code, a text not marked for the catalogue, a
Textual word the console did not translate."""

from __future__ import annotations

import io
import re
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from rich.console import Console
from sqlalchemy import MetaData, String, Text, select

from core.audit import Actor
from core.db import open_database
from core.i18n import LOCALE_DIR, set_language
from core.models import WebSale
from core.pickup import PickupChecks, complete_sale
from tui.app import TandemApp

from tests.tui.conftest import build_pinned_demo
from tests.tui.pilot_helpers import press_and_settle, settle

WORD = re.compile(r"[^\W\d_]{2,}")
ROOT = Path(__file__).resolve().parents[2]
ANNA = Actor("anna", "192.0.2.1")


def words(text: str) -> set[str]:
    return {word.casefold() for word in WORD.findall(text)}


def catalogue_texts(language: str) -> list[str]:
    """Every text of the catalogue in `language` (French: the translations; English: the ids)."""
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "tandem.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    texts = []
    for message in catalog:
        if not message.id:
            continue
        values = message.string if language == "fr" else message.id
        texts += list(values) if isinstance(values, tuple) else [values]
    return texts


FRENCH = set().union(*(words(text) for text in catalogue_texts("fr")))
# The keys as screens write them (^p, F1, PgSuiv…) and the product's own name.
KEYS = {"tandem", "pgsuiv", "pgpréc", "échap", "entrée", "ctrl"}
# The command line's options, which are never translated (--check, --demo, --import-catalog).
OPTIONS = set().union(*(words(option) for option in __import__("cli").build_parser()._option_string_actions))
# Time zone abbreviations a release time carries ("03:00 EST"), and the person the audit names.
ZONES = {"utc", "est", "edt", "cst", "cdt", "pst", "pdt"}


def shop_words(engine) -> set[str]:
    """The shop's own data, which is never translated: every text column of every table."""
    found: set[str] = set()
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [column for column in table.columns if isinstance(column.type, (String, Text))]
            if table.name in ("auditentry", "syncrun", "searchterm", "alembic_version") or not columns:
                continue
            for row in conn.execute(select(*columns)):
                for value in row:
                    if isinstance(value, str):
                        found |= words(value)
    return found


def screen_text(app) -> str:
    """What the terminal shows, as text (the screen and, under a dialog, the screens behind it),
    then the notices on screen, which Textual draws in a layer of their own."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
                      color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text() + notices_text(app)


def notices_text(app) -> str:
    return "".join(f"\n{notice.title}\n{notice.message}" for notice in app._notifications)


def _cldr_words() -> set[str]:
    """Month and day names as the French formats write them (CLDR's, through Babel)."""
    from babel import Locale

    found: set[str] = set()
    for name in ("fr_CA", "fr_FR"):
        locale = Locale.parse(name)
        for width in ("abbreviated", "wide"):
            for names in (locale.months["format"][width], locale.days["format"][width]):
                found |= set().union(*(words(value) for value in names.values()))
    return found


DATES = _cldr_words()


def untranslated(text: str, allowed: set[str]) -> set[str]:
    """The words of `text` not in `allowed`. A word a column cut ("synchro…", "…gravel") only has
    to begin (or end) a word that is, and so does a word of the bottom line, whose key labels
    Textual shortens to fit (those labels are checked whole by `footer_labels`)."""
    wrong = set()
    lines = text.rstrip("\n").split("\n")
    for number, line in enumerate(lines):
        bottom = number == len(lines) - 1
        for found in WORD.finditer(line):
            word = found.group().casefold()
            if word in allowed:
                continue
            cut_after = found.end() < len(line) and line[found.end()] == "…"
            cut_before = found.start() > 0 and line[found.start() - 1] == "…"
            if (cut_after or bottom) and any(known.startswith(word) for known in allowed):
                continue
            if cut_before and any(known.endswith(word) for known in allowed):
                continue
            wrong.add(word)
    return wrong


TRANSLATED = set(catalogue_texts("fr"))


def footer_labels(app) -> list[str]:
    """The bottom line's key labels as the footer holds them, before any shortening."""
    from textual.widgets._footer import FooterKey

    return [key.description for key in app.screen.query(FooterKey) if key.description]


class FrenchWalk:
    """Looks at each screen as it is reached; the offending words, by screen, are asserted at the end."""

    def __init__(self, app, allowed: set[str]):
        self.app, self.allowed, self.problems, self.seen = app, allowed, {}, []

    def look(self, name: str, also: set[str] = frozenset()) -> str:
        text = screen_text(self.app)
        notices = notices_text(self.app)
        self.seen.append(name)
        # The screen (its bottom line last) and the notices over it, each checked as what it is.
        wrong = untranslated(text[:len(text) - len(notices)], self.allowed | also)
        wrong |= untranslated(notices + "\n", self.allowed | also)
        wrong |= {f"footer label {label!r}" for label in footer_labels(self.app) if label not in TRANSLATED}
        if wrong:
            self.problems[name] = (sorted(wrong), text)
        return text

    def verdict(self) -> str:
        summary = "; ".join(f"{name}: {wrong}" for name, (wrong, _text) in self.problems.items())
        return summary + "\n\n" + "\n\n".join(f"{name}: {wrong}\n{text}" for name, (wrong, text) in self.problems.items())


@pytest.fixture(scope="module")
def french_demo_file(tmp_path_factory):
    """The demo shop built by a sync speaking French (what it writes for people, it writes in the
    shop's language)."""
    path = tmp_path_factory.mktemp("demo-fr") / "demo.sqlite"
    set_language("fr")
    try:
        build_pinned_demo(f"sqlite:///{path}")
    finally:
        set_language("en")
    return path


@pytest.fixture
def french_shop(french_demo_file, tmp_path):
    copy = tmp_path / "demo.sqlite"
    shutil.copy(french_demo_file, copy)
    engine = open_database(f"sqlite:///{copy}")
    set_language("fr")
    yield engine
    engine.dispose()


def sale_id(engine, order_number: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(WebSale.id).where(WebSale.order_number == order_number)).scalar_one()


async def open_sale_by_number(app, pilot, number: str) -> None:
    await press_and_settle(app, pilot, "s", "slash", *number.lstrip("#"), "enter")
    await settle(app, pilot, 0.2)
    await press_and_settle(app, pilot, "enter")


def check_help_words() -> set[str]:
    """What the help panel shows besides the catalogue: its French questions and answers."""
    table = tomllib.loads((ROOT / "core" / "help" / "fr.toml").read_text(encoding="utf-8"))
    return set().union(*(words(item["question"] + " " + item["answer"]) for item in table.values()))


async def test_every_screen_and_dialog_speaks_french_only(french_shop):
    engine = french_shop
    # A completed sale to return: the demo's #1036 is one.
    with engine.connect() as conn:
        ready = conn.execute(select(WebSale).where(WebSale.order_number == "#1020")).one()
    complete_sale(engine, ready.id, ANNA, ready.version, checks=PickupChecks(True, True, True))
    import getpass

    allowed = FRENCH | KEYS | DATES | ZONES | words(getpass.getuser()) | shop_words(engine)
    app = TandemApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        walk = FrenchWalk(app, allowed)
        await settle(app, pilot, 0.3)
        walk.look("home")
        await press_and_settle(app, pilot, "ctrl+p")
        walk.look("command palette")
        await press_and_settle(app, pilot, "escape")
        await press_and_settle(app, pilot, "f1")
        walk.look("help", check_help_words())
        await pilot.press(*"rembours")
        await settle(app, pilot)
        walk.look("help search", check_help_words())
        await press_and_settle(app, pilot, "escape")

        await press_and_settle(app, pilot, "s")
        walk.look("inbox")
        await press_and_settle(app, pilot, "f")
        walk.look("inbox filtered")
        await press_and_settle(app, pilot, "f", "f", "f", "h")
        walk.look("inbox history")
        await press_and_settle(app, pilot, "h", "escape")

        await open_sale_by_number(app, pilot, "#1035")
        walk.look("sale ready for pickup")
        await press_and_settle(app, pilot, "p")
        walk.look("pickup dialog")
        await press_and_settle(app, pilot, "enter")
        walk.look("pickup refused without checks")
        await press_and_settle(app, pilot, "escape", "x")
        walk.look("cancel confirmation")
        await press_and_settle(app, pilot, "n", "l")
        walk.look("customer dialog")
        await press_and_settle(app, pilot, "escape", "escape", "escape")

        await open_sale_by_number(app, pilot, "#1019")
        await press_and_settle(app, pilot, "s")
        walk.look("shipped confirmation")
        await press_and_settle(app, pilot, "y")
        await settle(app, pilot, 0.3)
        walk.look("sale shipped and completed, with its notice")
        await press_and_settle(app, pilot, "escape", "escape", "escape")

        await open_sale_by_number(app, pilot, "#1100")
        walk.look("sale with a gift card")
        for _ in range(5):
            if app.screen.detail and app.screen._line() and app.screen._line().gift_card_placeholder:
                break
            await press_and_settle(app, pilot, "down")
        await press_and_settle(app, pilot, "g")
        walk.look("gift card dialog")
        await press_and_settle(app, pilot, "escape", "escape", "escape", "escape")

        await open_sale_by_number(app, pilot, "#1026")
        walk.look("sale held for the supplier")
        await press_and_settle(app, pilot, "escape", "escape", "escape")

        await open_sale_by_number(app, pilot, "#1027")
        walk.look("sale that needs a match")
        await press_and_settle(app, pilot, "escape", "escape", "escape")

        await press_and_settle(app, pilot, "m")
        await settle(app, pilot, 0.3)
        walk.look("resolver")
        await press_and_settle(app, pilot, "w")
        walk.look("why a listing needs a person")
        await press_and_settle(app, pilot, "escape", "s")
        await press_and_settle(app, pilot, "u")
        walk.look("resolver, nothing to undo")
        await press_and_settle(app, pilot, "1")
        await settle(app, pilot, 0.3)
        walk.look("resolver, a listing linked, with its notice")
        await press_and_settle(app, pilot, "u")
        await settle(app, pilot, 0.3)
        text = walk.look("resolver, the link undone, with its notice")
        assert "Défait" in text
        assert "Tandem — Associations" in text, "the resolver's own title"
        await press_and_settle(app, pilot, "slash")
        await pilot.press(*"casque")
        await settle(app, pilot, 0.3)
        walk.look("resolver search", {"casque"})
        await press_and_settle(app, pilot, "escape", "escape")

        await press_and_settle(app, pilot, "c")
        await settle(app, pilot, 0.3)
        walk.look("catalog")
        await press_and_settle(app, pilot, "escape", "escape")

        await press_and_settle(app, pilot, "t")
        walk.look("returns")
        await pilot.press(*"1020")
        await settle(app, pilot, 0.5)
        walk.look("returns, a sale found")
        await press_and_settle(app, pilot, "enter")
        await settle(app, pilot, 0.3)
        await press_and_settle(app, pilot, "enter")
        await settle(app, pilot, 0.3)
        walk.look("return draft")
        await press_and_settle(app, pilot, "plus")
        await press_and_settle(app, pilot, "t")
        walk.look("tax rate dialog")
        rate = app.screen.query_one("#rate")
        rate.value = "abc"
        await press_and_settle(app, pilot, "enter", "tab")
        await pilot.press(*"taxe")
        await press_and_settle(app, pilot, "enter")
        walk.look("tax rate dialog, what to correct")
        await press_and_settle(app, pilot, "escape", "c")
        walk.look("return confirmation")
        await press_and_settle(app, pilot, "n", "escape")
        await settle(app, pilot, 0.3)
        walk.look("return abandoned, with its notice")
        await press_and_settle(app, pilot, "escape")

        await press_and_settle(app, pilot, "a")
        walk.look("accounts")
        await press_and_settle(app, pilot, "e")
        walk.look("account prompt")
        await press_and_settle(app, pilot, "escape", "escape")

        await press_and_settle(app, pilot, "l")
        walk.look("locations")
        await press_and_settle(app, pilot, "a")
        walk.look("new location prompt")
        await press_and_settle(app, pilot, "escape", "d")
        walk.look("retire confirmation")
        await press_and_settle(app, pilot, "n", "escape")

        await press_and_settle(app, pilot, "f")
        walk.look("supplier fulfilment")
        await press_and_settle(app, pilot, "n")
        walk.look("document dialog")
        await press_and_settle(app, pilot, "escape", "escape")

        await press_and_settle(app, pilot, "h")
        walk.look("syncs")
        await press_and_settle(app, pilot, "escape", "y")
        await settle(app, pilot, 0.5)
        await app.workers.wait_for_complete()
        await settle(app, pilot, 0.3)
        walk.look("home after a sync, with its notice")
        await press_and_settle(app, pilot, "q")
        walk.look("quit confirmation")
        await press_and_settle(app, pilot, "n")

    assert len(walk.seen) >= 35
    assert not walk.problems, walk.verdict()


async def test_a_shop_not_set_up_yet_is_told_its_first_steps_in_french(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    set_language("fr")
    app = TandemApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, 0.3)
        text = screen_text(app)
    assert "Pour configurer ce magasin" in text
    assert not untranslated(text, FRENCH | KEYS | DATES | OPTIONS), text


def test_the_check_catches_an_english_word_left_on_a_french_screen():
    shown = "Ventes en ligne  ·  Sales inbox\n#1035  prête pour la cueillette  Jean Tremblay"
    assert untranslated(shown, FRENCH | {"jean", "tremblay"}) == {"sales", "inbox"}


async def test_the_language_switches_live_from_any_screen_and_is_remembered(sqlite_demo_engine, tmp_path):
    from core.settings import load_settings

    config = tmp_path / "settings.toml"
    config.write_text('# the shop\n[shop]\ntime_zone = "America/Toronto"  # where the counter is\n',
                      encoding="utf-8")
    settings = load_settings(config_path=str(config), db_url=str(sqlite_demo_engine.url))
    app = TandemApp(sqlite_demo_engine, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "s")
        await settle(app, pilot, 0.3)
        cursor_before = app.screen.query_one("#sales").cursor_row
        assert "Sales inbox" in screen_text(app)
        await press_and_settle(app, pilot, "f2")
        await settle(app, pilot, 0.3)
        text = screen_text(app)
        assert "Ventes en ligne" in text and "prête pour la cueillette" in text and "Sales inbox" not in text
        assert app.screen.query_one("#sales").cursor_row == cursor_before
        await press_and_settle(app, pilot, "escape")
        assert "Catalogue — chercher" in screen_text(app), "the screen under it speaks French too"
        await press_and_settle(app, pilot, "f2")
        assert "Catalog — search the products" in screen_text(app)
        await press_and_settle(app, pilot, "f2")
    written = config.read_text(encoding="utf-8")
    assert 'language = "fr"' in written
    assert "# the shop" in written and "# where the counter is" in written, "the rest of the file is kept"
    assert load_settings(config_path=str(config), db_url=str(sqlite_demo_engine.url)).language == "fr"


def help_labels(language: str) -> list[str]:
    """The screen labels the help quotes: "…" in English, « … » in French."""
    table = tomllib.loads((ROOT / "core" / "help" / f"{language}.toml").read_text(encoding="utf-8"))
    pattern = re.compile(r'"([^"]+)"') if language == "en" else re.compile(r"«\s*([^»]+?)\s*»")
    return [label for item in table.values() for label in pattern.findall(item["question"] + " " + item["answer"])]


def screen_labels(language: str) -> list[str]:
    """The catalogue's texts the console shows (those used by tui/ and by the statuses core gives
    it), each cut at its first placeholder."""
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "tandem.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    labels = []
    for message in catalog:
        places = {path for path, _line in message.locations}
        if not message.id or not any(path.startswith(("tui/", "core/sales.py", "core/inbox.py")) for path in places):
            continue
        values = message.string if language == "fr" else message.id
        for value in (values if isinstance(values, tuple) else (values,)):
            labels.append(value.split("{")[0].replace("[b]", "").replace("[/b]", "").strip().casefold())
    return labels


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_help_quotes_only_labels_a_screen_shows(language):
    quoted = help_labels(language)
    assert len(quoted) >= 5
    shown = screen_labels(language)
    missing = [label for label in quoted if not any(text.startswith(label.casefold()) for text in shown if text)]
    assert missing == [], f"help quotes labels no screen shows ({language}): {missing}"


def test_a_help_label_no_screen_shows_is_caught():
    assert not any(text.startswith("retenue jusqu'au") for text in screen_labels("fr"))
    assert any(text.startswith("retenue jusqu'à") for text in screen_labels("fr"))


def test_amounts_and_dates_follow_the_region():
    from datetime import datetime

    from core.i18n import money, moment, parse_decimal

    set_language("fr_CA")
    assert money(Decimal("1234.56")).replace("\u00a0", " ") == "1 234,56 $"
    assert parse_decimal("14,975") == Decimal("14.975") and parse_decimal("1 234,5") == Decimal("1234.5")
    assert moment(datetime(2026, 11, 29, 3, 42), "%a %d %b %H:%M") == "dim. 29 nov. 03:42"
    set_language("fr_FR", currency="EUR")
    assert money(Decimal("1234.56")).replace("\u202f", " ").replace("\u00a0", " ") == "1 234,56 €"
    set_language("en", currency="CAD")
    assert money(Decimal("1234.56")) == "$1,234.56"
    assert parse_decimal("1,234.50") == Decimal("1234.50")
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal("12,3,4")


async def test_yes_is_o_for_oui_in_french(sqlite_demo_engine):
    set_language("fr")
    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "q")
        assert "o oui · n non" in screen_text(app)
        await pilot.press("o")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def test_rows_arriving_while_the_language_switches_never_land_in_half_removed_widgets(sqlite_demo_engine):
    """A worker's result posted to a screen just as F2 rebuilds it (the home screen's overview
    reloads every few seconds) is shown before the rebuild or after it: the console never stops
    on widgets taken away under it."""
    from core.overview import shop_overview
    from core.sync_history import last_sync_per_channel
    from core.watch_status import watch_status
    from tui.screens.home import HomeScreen

    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot, 0.3)
        home = app.screen
        assert isinstance(home, HomeScreen)
        loaded = HomeScreen.OverviewLoaded(shop_overview(sqlite_demo_engine), last_sync_per_channel(sqlite_demo_engine),
                                           watch_status(sqlite_demo_engine))
        real_compose = home.compose

        def posting_while_rebuilt():
            # The old widgets are gone, the new ones not yet mounted: a worker's rows arrive now.
            home.post_message(loaded)
            return real_compose()

        home.compose = posting_while_rebuilt
        for _ in range(3):
            await app.action_switch_language()
            await settle(app, pilot, 0.2)
        del home.compose
        assert app.is_running and app.return_code is None
        assert "Dernière synchro" in screen_text(app) or "Last sync" in screen_text(app)
