"""The Textual application: holds the database engine and opens the home screen."""

from __future__ import annotations

from sqlalchemy import Engine
from textual.app import App
from textual.binding import Binding

from core.settings import Settings
from tui.screens.home import HomeScreen


class TandemApp(App):
    # One stylesheet per screen, all loaded here so screens stay plain Python.
    CSS_PATH = ["styles/app.tcss", "styles/home.tcss"]
    TITLE = "Tandem"
    # Animations cost bandwidth over SSH and distract at the counter.
    ANIMATION_LEVEL = "none"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave Tandem"),
        Binding("ctrl+p", "command_palette", "Commands", id="commands", show=False),
    ]

    def __init__(self, engine: Engine, settings: Settings | None = None, demo: bool = False):
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.demo = demo
        self.sub_title = "demo shop" if demo else ""

    def get_default_screen(self) -> HomeScreen:
        return HomeScreen()
