"""Pickup checks: the card matches, the holder signs, a government photo ID is seen."""

from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Static

from tui.actions import bindings, hint, key


class PickupScreen(ModalScreen):
    BINDINGS = bindings("pickup")

    def __init__(self, order_number: str, amount: Decimal):
        super().__init__()
        self.order_number, self.amount = order_number, amount

    def compose(self) -> ComposeResult:
        with Vertical(id="pickup"):
            yield Static(f"[b]Pickup of {self.order_number}[/b] — {self.amount:,.2f} will be captured", id="pickup-title")
            yield Checkbox("1  The card shown matches the card used online", id="card")
            yield Checkbox("2  The card holder signed", id="signature")
            yield Checkbox("3  Government photo ID seen, name matches", id="photo-id")
            yield Static(" ".join(key(f"pickup.{check}") for check in ("card", "signature", "photo-id")) + " tick · "
                         + hint(("pickup.confirm", "complete"), ("pickup.cancel", "cancel")), id="pickup-hint")

    def action_toggle(self, name: str) -> None:
        box = self.query_one(f"#{name}", Checkbox)
        box.value = not box.value

    def action_confirm(self) -> None:
        from core.pickup import PickupChecks

        checks = PickupChecks(card_matches=self.query_one("#card", Checkbox).value,
                              signature=self.query_one("#signature", Checkbox).value,
                              photo_id=self.query_one("#photo-id", Checkbox).value)
        if checks.missing:
            self.notify("Tick all three checks first: " + "; ".join(checks.missing) + ".", severity="warning")
            return
        self.dismiss(checks)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
