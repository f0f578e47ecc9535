"""The Textual application: holds the database and opens the home screen.

The database stack (SQLAlchemy, SQLModel, migrations) costs more to import than Textual itself,
so the app paints first and opens the database from a worker thread: staff see the screen at
once and the figures a moment later.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.app import App

from tui.actions import bindings, rebind, screen_of
from tui.commands import ScreenActions
from tui.screens.home import HomeScreen

if TYPE_CHECKING:
    from sqlalchemy import Engine


class TandemApp(App):
    # One stylesheet per screen, all loaded here so screens stay plain Python.
    CSS_PATH = [
        "styles/app.tcss", "styles/home.tcss", "styles/catalog.tcss", "styles/resolver.tcss", "styles/sales.tcss",
        "styles/setup.tcss",
    ]
    TITLE = "Tandem"
    # Animations cost bandwidth over SSH and distract at the counter.
    ANIMATION_LEVEL = "none"
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {ScreenActions}

    def __init__(self, database: str | Engine, demo: bool = False, settings=None):
        super().__init__()
        self.settings = settings
        self._database = database
        self._engine: Engine | None = None if isinstance(database, str) else database
        self._engine_lock = threading.Lock()
        self.demo = demo
        self.sub_title = "demo shop" if demo else ""
        # A shop's own keys (`[keys]` in the settings), by the registry's ids: the hints follow them.
        self._keymap = dict(settings.keys) if settings is not None and getattr(settings, "keys", None) else {}
        self._unknown_keys = rebind(self._keymap)

    def on_mount(self) -> None:
        if self._keymap:
            unknown = self._unknown_keys
            self.set_keymap({action_id: keys for action_id, keys in self._keymap.items() if action_id not in unknown})
            if unknown:
                self.notify("The settings rebind keys Tandem does not have: " + ", ".join(unknown),
                            title="Keys", severity="warning", timeout=15)

    def get_default_screen(self) -> HomeScreen:
        return HomeScreen()

    def action_help(self, topic: str | None = None, context: str | None = None) -> None:
        from core.faq import default_language
        from tui.screens.faq import FaqScreen

        if isinstance(self.screen, FaqScreen):
            return
        context = context or getattr(self.screen, "HELP_CONTEXT", "home")
        language = default_language(self.settings.language if self.settings else None)
        self.push_screen(FaqScreen(context, language, topic, keys_for=screen_of(self.screen)))

    def engine(self) -> Engine:
        """The open, migrated database; the first call opens it. Call from worker threads."""
        with self._engine_lock:
            if self._engine is None:
                from core.db import open_database

                if self.demo:
                    from core.demo import create_demo_database

                    create_demo_database(self._database)
                self._engine = open_database(self._database)
            return self._engine
