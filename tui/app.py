"""The Textual application: holds the database and opens the home screen.

The database stack (SQLAlchemy, SQLModel, migrations) costs more to import than Textual itself,
so the app paints first and opens the database from a worker thread: staff see the screen at
once and the figures a moment later.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

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
    BINDINGS = [
        # No letter quits from every screen: someone typing a name must never drop their session.
        # ctrl+q leaves at once from anywhere; `q` on the home screen asks first.
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave Tandem", priority=True, show=False),
        Binding("ctrl+p", "command_palette", "Commands", id="commands", show=False),
        Binding("f1,question_mark", "help", "Help", id="help", tooltip="Questions and answers for this screen"),
    ]

    def __init__(self, database: str | Engine, demo: bool = False, settings=None):
        super().__init__()
        self.settings = settings
        self._database = database
        self._engine: Engine | None = None if isinstance(database, str) else database
        self._engine_lock = threading.Lock()
        self.demo = demo
        self.sub_title = "demo shop" if demo else ""

    def get_default_screen(self) -> HomeScreen:
        return HomeScreen()

    def action_help(self, topic: str | None = None, context: str | None = None) -> None:
        from core.faq import default_language
        from tui.screens.faq import FaqScreen

        if isinstance(self.screen, FaqScreen):
            return
        context = context or getattr(self.screen, "HELP_CONTEXT", "home")
        language = default_language(self.settings.language if self.settings else None)
        self.push_screen(FaqScreen(context, language, topic))

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
