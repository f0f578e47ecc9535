"""Change a return line's tax rate: the new rate and a short reason (both required)."""

from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.actions import bindings


class TaxRateScreen(ModalScreen):
    BINDINGS = bindings("tax-rate")

    def __init__(self, title: str, charged: Decimal, current: Decimal):
        super().__init__()
        self.title_text, self.charged, self.current = title, charged, current

    def compose(self) -> ComposeResult:
        with Vertical(id="tax-rate"):
            yield Static(f"[b]Tax rate for {self.title_text}[/b]\nCharged on the sale: {self.charged.normalize():f} %")
            yield Input(value=f"{self.current.normalize():f}", placeholder="Rate in percent, e.g. 8.25", id="rate",
                        select_on_focus=True)
            yield Input(placeholder="Why it changes (required)", id="reason")
            yield Static("", id="tax-rate-problem")
            yield Static("Tab next field · Enter save · Esc cancel", id="tax-rate-hint")

    def on_mount(self) -> None:
        self.query_one("#rate", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from core.returns import ReturnError, checked_tax_change

        rate_box, reason_box = self.query_one("#rate", Input), self.query_one("#reason", Input)
        if event.input is rate_box and not reason_box.value.strip():
            reason_box.focus()
            return
        try:
            rate, reason = checked_tax_change(rate_box.value, reason_box.value)
        except ReturnError as exc:
            # Said here, with everything typed kept, on the field to correct.
            self.query_one("#tax-rate-problem", Static).update(f"[b]{str(exc).capitalize()}.[/b]")
            (reason_box if "why" in str(exc) else rate_box).focus()
            return
        self.dismiss((rate, reason))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
