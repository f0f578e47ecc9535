"""Issue a gift card: the number of the card handed over, for the line's amount."""

from __future__ import annotations

from core.i18n import _, money

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.widgets.text_box import TextBox
from tui.actions import bindings


class GiftCardScreen(ModalScreen):
    BINDINGS = bindings("gift-card")

    def __init__(self, amount: Decimal):
        super().__init__()
        self.amount = amount

    def compose(self) -> ComposeResult:
        with Vertical(id="gift-card"):
            yield Static(_("[b]Issue a gift card for {amount}[/b]").format(amount=money(self.amount)))
            yield TextBox(placeholder=_("Scan or type the card number"), id="gift-card-number")
            yield Static(_("Enter issue · Esc cancel"), id="gift-card-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
