"""A titled box holding one figure and a line of detail (the home screen's cards)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from tui.widgets.line import Line


class StatCard(Vertical):
    """A titled box holding one figure and a line of detail."""

    def __init__(self, title: str, *, id: str):
        super().__init__(id=id, classes="card")
        self.border_title = title

    def compose(self) -> ComposeResult:
        yield Line("…", classes="figure")
        yield Line("", classes="detail")

    def show(self, figure: str, detail: str = "", warn: bool = False) -> None:
        self.query_one(".figure", Line).update(figure)
        self.query_one(".detail", Line).update(detail)
        self.set_class(warn, "warn")
