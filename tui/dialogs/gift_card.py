"""Issue a gift card: the number of the card handed over, for the line's amount."""

from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.actions import bindings


class GiftCardScreen(ModalScreen):
    BINDINGS = bindings("gift-card")

    def __init__(self, amount: Decimal):
        super().__init__()
        self.amount = amount

    def compose(self) -> ComposeResult:
        with Vertical(id="gift-card"):
            yield Static(f"[b]Issue a gift card for {self.amount:,.2f}[/b]")
            yield Input(placeholder="Scan or type the card number", id="gift-card-number")
            yield Static("Enter issue · Esc cancel", id="gift-card-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
