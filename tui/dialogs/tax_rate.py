"""Change a return line's tax rate: the new rate and a short reason (both required)."""

from __future__ import annotations

from core.i18n import _, rate

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from tui.widgets.text_box import TextBox
from tui.actions import bindings
from tui.plain import styled, sentence
from tui.widgets.line import Line


class TaxRateScreen(ModalScreen):
    BINDINGS = bindings("tax-rate")

    def __init__(self, title: str, charged: Decimal, current: Decimal):
        super().__init__()
        self.title_text, self.charged, self.current = title, charged, current

    def compose(self) -> ComposeResult:
        with Vertical(id="tax-rate"):
            yield Line(styled(_("[b]Tax rate for {line}[/b]"), line=self.title_text) + "\n"
                       + _("Charged on the sale: {rate} %").format(rate=rate(self.charged)))
            yield TextBox(value=rate(self.current), placeholder=_("Rate in percent, e.g. {example}").format(
                example=rate(Decimal("8.25"))), id="rate", select_on_focus=True)
            yield TextBox(placeholder=_("Why it changes (required)"), id="reason")
            yield Line("", id="tax-rate-problem")
            yield Line(_("Tab next field · Enter save · Esc cancel"), id="tax-rate-hint")

    def on_mount(self) -> None:
        self.query_one("#rate", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from core.returns import ReturnError, checked_tax_change

        rate_box, reason_box = self.query_one("#rate", Input), self.query_one("#reason", Input)
        if event.input is rate_box and not reason_box.value.strip():
            reason_box.focus()
            return
        try:
            new_rate, reason = checked_tax_change(rate_box.value, reason_box.value)
        except ReturnError as exc:
            # Said here, with everything typed kept, on the field to correct.
            self.query_one("#tax-rate-problem", Line).update(styled("[b]{problem}.[/b]", problem=sentence(exc)))
            (reason_box if getattr(exc, "field", None) == "reason" else rate_box).focus()
            return
        self.dismiss((new_rate, reason))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
