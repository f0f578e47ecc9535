"""The console's base table: every cell is outside text shown as written.

Textual's DataTable reads a str cell as markup; a product title or a location name holding
brackets would be styled, or run an action when clicked. Here a str cell becomes a Rich Text
(never read as markup) with its control characters as visible symbols; a Text cell keeps its
style, its control characters shown the same way."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.plain import cleaned, visible


def safe_cell(cell) -> Text:
    if isinstance(cell, Text):
        return cleaned(cell)
    return Text(visible(cell))


class PlainTable(DataTable):
    def add_row(self, *cells, height: int | None = 1, key=None, label=None):
        return super().add_row(*(safe_cell(cell) for cell in cells), height=height, key=key,
                               label=None if label is None else safe_cell(label))
