"""Pickup checks: the card matches, the holder signs, a government photo ID is seen."""

from __future__ import annotations

from core.i18n import _, money

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen

from tui.actions import bindings, hint, key
from tui.widgets.tick_box import TickBox
from tui.plain import styled
from tui.widgets.line import Line


class PickupScreen(ModalScreen):
    BINDINGS = bindings("pickup")

    def __init__(self, order_number: str, amount: Decimal, captured_by_store: bool = True):
        """`captured_by_store`: the platform captures when asked (Shopify); otherwise (WooCommerce)
        its payment gateway captures on its side and the payment is only recorded here."""
        super().__init__()
        self.order_number, self.amount, self.captured_by_store = order_number, amount, captured_by_store

    def compose(self) -> ComposeResult:
        with Vertical(id="pickup"):
            yield Line(styled(_("[b]Pickup of {number}[/b] — {amount} will be captured") if self.captured_by_store
                              else _("[b]Pickup of {number}[/b] — {amount} is recorded as captured by the website's "
                                     "payment gateway"),
                              number=self.order_number, amount=money(self.amount)), id="pickup-title")
            # The boxes take no focus: 1, 2, 3 and Enter all reach the dialog, in the order typed
            # (a box with focus would keep Enter for itself, and a key it passes on arrives late).
            for number, check, words in ((1, "card", _("The card shown matches the card used online")),
                                         (2, "signature", _("The card holder signed")),
                                         (3, "photo-id", _("Government photo ID seen, name matches"))):
                box = TickBox(f"{number}  {words}", id=check)
                box.can_focus = False
                yield box
            yield Line(" ".join(key(f"pickup.{check}") for check in ("card", "signature", "photo-id")) + " " + _("tick") + " · "
                         + hint(("pickup.confirm", _("complete")), ("pickup.cancel", _("cancel"))), id="pickup-hint")

    def action_toggle(self, name: str) -> None:
        box = self.query_one(f"#{name}", TickBox)
        box.value = not box.value

    def action_confirm(self) -> None:
        from core.pickup import PickupChecks

        checks = PickupChecks(card_matches=self.query_one("#card", TickBox).value,
                              signature=self.query_one("#signature", TickBox).value,
                              photo_id=self.query_one("#photo-id", TickBox).value)
        if checks.missing:
            self.notify(_("Tick all three checks first: {missing}.").format(missing="; ".join(_(m) for m in checks.missing)),
                        severity="warning")
            return
        self.dismiss(checks)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
