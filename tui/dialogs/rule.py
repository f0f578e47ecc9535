"""A web-store rule, added or changed from the keyboard: what it does, for which products, the
amount; before Enter it says how many products it moves (core.rules.preview_rule)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Select

from tui.actions import bindings
from core.i18n import _
from tui.plain import styled
from tui.widgets.line import Line
from tui.widgets.text_box import TextBox


def kinds():
    return [(_("Keep units back"), "safety_stock"), (_("In store only"), "in_store_only"),
            (_("Web price"), "price"), (_("Price floor"), "price_floor")]


def scopes():
    return [(_("Every product"), "channel"), (_("A category"), "category"), (_("A brand"), "brand"),
            (_("A product (SKU)"), "product")]


def amount_hint(kind: str) -> str:
    return {"safety_stock": _("units held back, like 2"),
            "in_store_only": _("only above this price, like 3000 (empty: all)"),
            "price": _("-5% or -2.00 (empty: only the ending)"),
            "price_floor": _("an amount like 25.00, or a share of the list price like 90%")}[kind]


class RuleScreen(ModalScreen):
    """Dismisses with (channel name, Rule), or None."""

    BINDINGS = bindings("rule")

    class Previewed(Message):
        def __init__(self, text: str, rule):
            super().__init__()
            self.text, self.rule = text, rule

    def __init__(self, channels: list[str]):
        super().__init__()
        self.channels = channels
        self.rule = None

    def compose(self) -> ComposeResult:
        fields = (
            (_("Store"), Select([(name, name) for name in self.channels], value=self.channels[0], allow_blank=False,
                                id="rule-channel", compact=True)),
            (_("What"), Select(kinds(), value="safety_stock", allow_blank=False, id="rule-kind", compact=True)),
            (_("For"), Select(scopes(), value="brand", allow_blank=False, id="rule-scope", compact=True)),
            (_("Which"), TextBox(placeholder=_("which category, brand or SKU"), id="rule-target", compact=True)),
            (_("Amount"), TextBox(placeholder=amount_hint("safety_stock"), id="rule-amount", compact=True)),
            (_("Ending"), TextBox(placeholder=_("price ending, like .99 (empty: to the cent)"), id="rule-ending",
                                  compact=True)),
        )
        with Vertical(id="rule"):
            yield Line(styled("[b]{title}[/b]", title=_("A web-store rule")))
            for label, field in fields:
                with Horizontal(classes="rule-field", id=f"{field.id}-row"):
                    yield Line(label, classes="rule-label")
                    yield field
            yield Line("", id="rule-preview")
            yield Line(_("Tab next · Enter save · Esc cancel"), id="rule-hint")

    def on_mount(self) -> None:
        self.query_one("#rule-kind", Select).focus()
        self._fields_changed()

    def _values(self) -> tuple[str, str, str, str, str, str]:
        return (str(self.query_one("#rule-channel", Select).value), str(self.query_one("#rule-kind", Select).value),
                str(self.query_one("#rule-scope", Select).value), self.query_one("#rule-target", Input).value,
                self.query_one("#rule-amount", Input).value, self.query_one("#rule-ending", Input).value)

    @on(Select.Changed)
    @on(Input.Changed)
    def _fields_changed(self, event=None) -> None:
        _channel, kind, scope, *_rest = self._values()
        self.query_one("#rule-amount", Input).placeholder = amount_hint(kind)
        self.query_one("#rule-ending-row").display = kind == "price"
        self.query_one("#rule-target-row").display = scope != "channel"
        self.preview(*self._values())

    @work(thread=True, exclusive=True, exit_on_error=False, group="rule-preview")
    def preview(self, channel: str, kind: str, scope: str, target: str, amount: str, ending: str) -> None:
        from core.rules import RuleError, preview_rule, rule_from_form

        try:
            rule = rule_from_form(kind, scope, target, amount, ending)
            effect = preview_rule(self.app.engine(), channel, rule)
        except RuleError as exc:
            # Nothing typed yet is not a mistake: the fields' hints say what goes in them.
            self.post_message(self.Previewed(str(exc) if (target or amount or ending) else "", None))
            return
        self.post_message(self.Previewed(rule.name + " — " + effect.said(rule), rule))

    @on(Previewed)
    def _previewed(self, event: Previewed) -> None:
        self.rule = event.rule
        self.query_one("#rule-preview", Line).update(event.text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        from core.rules import RuleError, rule_from_form

        channel, *fields = self._values()
        try:
            self.dismiss((channel, rule_from_form(*fields)))
        except RuleError as exc:
            self.query_one("#rule-preview", Line).update(str(exc))

    def action_cancel(self) -> None:
        self.dismiss(None)
