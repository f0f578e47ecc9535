"""The bottom line of every screen: the screen's keys on the left (Textual's footer), and on the
right, always, how to get help and how to leave — however many keys the screen has."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from tui.actions import key


class KeyBar(Horizontal):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
    }
    KeyBar Footer {
        dock: none;
        width: 1fr;
    }
    KeyBar #always {
        width: auto;
        padding: 0 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    """

    def compose(self) -> ComposeResult:
        yield Footer(show_command_palette=False)
        yield Static(f"[b]{key('help')}[/b] help [b]{key('commands')}[/b] keys [b]{key('quit')}[/b] quit",
                     id="always")
