"""Record one signed supplier document: the date it was signed, its end date if it has one (a
retailer contract), where the signed copy is kept, and the brand it is for when the web store
has several suppliers."""

from __future__ import annotations

from core.i18n import _

from datetime import date

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from tui.widgets.text_box import TextBox
from tui.actions import bindings
from tui.plain import styled
from tui.widgets.line import Line


class DocumentScreen(ModalScreen):
    BINDINGS = bindings("document")

    def __init__(self, title: str, signed: date, ends: date | None = None, reference: str | None = None,
                 brand: str = ""):
        super().__init__()
        self.title_text, self.signed, self.ends, self.reference = title, signed, ends, reference
        self.brand = brand

    def compose(self) -> ComposeResult:
        with Vertical(id="document"):
            yield Line(styled("[b]{title}[/b]", title=self.title_text))
            yield Line(_("Signed on"), classes="document-label")
            yield TextBox(value=self.signed.isoformat(), placeholder=_("YYYY-MM-DD"), id="signed", select_on_focus=True)
            yield Line(_("Valid until (empty: no end date)"), classes="document-label")
            yield TextBox(value=self.ends.isoformat() if self.ends else "", placeholder=_("YYYY-MM-DD"), id="ends")
            yield Line(_("Where the signed copy is kept (optional)"), classes="document-label")
            yield TextBox(value=self.reference or "", placeholder=_("a file or folder name"), id="reference")
            yield Line(_("For the brand (empty: every brand this web store sells)"), classes="document-label")
            yield TextBox(value=self.brand, placeholder=_("a brand, when suppliers sign separately"), id="brand")
            yield Line(_("Tab next field · Enter save · Esc cancel"), id="document-hint")

    def on_mount(self) -> None:
        self.query_one("#signed", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter saves from any field, as the hint says; Tab is the way to the next one.
        try:
            signed = date.fromisoformat(self.query_one("#signed", Input).value.strip())
            ends_text = self.query_one("#ends", Input).value.strip()
            ends = date.fromisoformat(ends_text) if ends_text else None
        except ValueError:
            self.notify(_("Dates are written YYYY-MM-DD, like 2026-03-31."), severity="warning")
            return
        self.dismiss((signed, ends, self.query_one("#reference", Input).value.strip() or None,
                      self.query_one("#brand", Input).value.strip()))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
