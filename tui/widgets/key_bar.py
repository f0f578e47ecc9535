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
    the catalogue's ids, since they are made once per screen class). Keys that do not fit are left
    out whole, and a "…" says so (every key is still in ^p and in F1's list): Textual's footer
    would cut the last one mid-word."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description)
                widget.tooltip = _(widget.tooltip) if isinstance(widget.tooltip, str) else widget.tooltip
            yield widget
        yield Line("…", classes="more-keys")
        self.call_after_refresh(self.fit_keys)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_keys)

    def fit_keys(self) -> None:
        keys = list(self.query(FooterKey))
        more = self.query(".more-keys")
        if not keys or not more or not self.size.width:
            return
        widths = [shown.get_content_width(self.size, self.app.size) + shown.styles.gutter.width for shown in keys]
        room, used = self.size.width, 0
        fits = sum(widths) <= room
        if not fits:
            room -= 2  # the "…" and its space
        for shown, width in zip(keys, widths):
            used += width
            shown.display = fits or used <= room
        more.first().display = not fits


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
    KeyBar .more-keys {
        width: 2;
        color: $footer-description-foreground;
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
