"""A yes/no question before something that cannot be undone from here."""

from __future__ import annotations

from core.i18n import _

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen

from tui.actions import bindings, hint
from tui.widgets.line import Line


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = bindings("confirm")

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Line(self.question)
            yield Line(hint(("confirm.yes", _("yes")), ("confirm.no", _("no"))), id="confirm-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
