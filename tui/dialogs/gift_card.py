"""Issue a gift card: the number of the card handed over, for the line's amount."""

from __future__ import annotations

from core.i18n import _, money

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from tui.widgets.text_box import TextBox
from tui.actions import bindings
from tui.plain import styled
from tui.widgets.line import Line


class GiftCardScreen(ModalScreen):
    BINDINGS = bindings("gift-card")

    def __init__(self, amount: Decimal):
        super().__init__()
        self.amount = amount

    def compose(self) -> ComposeResult:
        with Vertical(id="gift-card"):
            yield Line(styled(_("[b]Issue a gift card for {amount}[/b]"), amount=money(self.amount)))
            yield TextBox(placeholder=_("Scan or type the card number"), id="gift-card-number")
            yield Line(_("Enter issue · Esc cancel"), id="gift-card-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
