"""Ask for one line of text."""

from __future__ import annotations

from core.i18n import _

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from tui.widgets.text_box import TextBox
from tui.actions import bindings
from tui.plain import styled
from tui.widgets.line import Line


class PromptScreen(ModalScreen):
    BINDINGS = bindings("prompt")

    def __init__(self, question: str, value: str = ""):
        super().__init__()
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Line(styled("[b]{question}[/b]", question=self.question))
            yield TextBox(value=self.value, id="prompt-input")
            yield Line(_("Enter save · Esc cancel"), id="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
