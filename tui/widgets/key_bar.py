"""The bottom line of every screen: the screen's keys on the left (Textual's footer), and on the
right, always, how to get help and how to leave — however many keys the screen has."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from core.i18n import _
from tui.actions import key
from tui.plain import styled
from tui.widgets.line import Line


class TranslatedFooter(Footer):
    """Textual's footer with each key's word in the console's language (bindings hold the English,
    the catalogue's ids, since they are made once per screen class)."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description)
                widget.tooltip = _(widget.tooltip) if isinstance(widget.tooltip, str) else widget.tooltip
            yield widget


class KeyBar(Horizontal):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
    }
    KeyBar TranslatedFooter {
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
        yield TranslatedFooter(show_command_palette=False)
        yield Line(styled(_("[b]{help}[/b] help [b]{keys}[/b] keys [b]{quit}[/b] quit"),
            help=key("help"), keys=key("commands"), quit=key("quit")), id="always")
