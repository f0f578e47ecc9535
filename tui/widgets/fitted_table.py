"""A table whose columns follow the terminal's width: fixed columns keep their size, the extra
width goes to the names, and a name too long for its column keeps the part that tells it apart
from its neighbours (a variant, a size, a colour) instead of a prefix they all share."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.text import Text
from textual import events

from core.i18n import _
from tui.plain import cleaned, visible
from tui.widgets.plain_table import PlainTable

ELLIPSIS = "…"


def _safe(cell):
    if isinstance(cell, Text):
        return cleaned(cell)
    return visible(cell)


def _plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def translated(label: str | Text) -> str | Text:
    """A column's heading in the console's language (headings are defined once, in English)."""
    if isinstance(label, Text):
        return Text(_(label.plain), justify=label.justify, style=label.style)
    return _(label)


@dataclass(frozen=True)
class Col:
    label: str | Text
    width: int  # what it needs at 80 columns
    grow: int = 0  # its share of any width beyond that
    fit: bool = False  # a name: cut keeping the part that differs
    whole: bool = False  # never cut (a status, a date): as wide as its widest value; names give way


def _differs_at(values: list[str]) -> list[int]:
    """For each value, where it starts to differ from the value most like it (0 if alone)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    at = [0] * len(values)

    def common(a: str, b: str) -> int:
        n = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            n += 1
        return n

    for before, after in zip(order, order[1:], strict=False):
        shared = common(values[before], values[after])
        at[before] = max(at[before], shared)
        at[after] = max(at[after], shared)
    return at


def shorten(text: str, width: int, differs_at: int = 0) -> str:
    """`text` in `width` cells: its start, then from where it differs (or its end)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width <= 3:
        return text[: width - 1] + ELLIPSIS
    head = max(1, min(width // 3, 12))
    tail = width - head - 1
    start = len(text) - tail
    if head <= differs_at < start:
        # What tells it apart lies before the end: show it, and cut the end instead.
        start = max(head, differs_at - 2)
        return text[:head] + ELLIPSIS + text[start:start + tail - 1] + ELLIPSIS
    return text[:head] + ELLIPSIS + text[start:]


def _shared_start(values: list[str]) -> int:
    """How many leading characters, whole words, every value shares (a brand, a product line)."""
    if len(values) < 2:
        return 0
    first, last = min(values), max(values)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first.rfind(" ", 0, n + 1) + 1 if n < len(first) or n < len(last) else 0


def fit_column(values: list[str], width: int) -> list[str]:
    """The values of one column in `width` cells. A value too long first drops, whole words at a
    time, as much as it must of the start every value shares ("…" stands for it); then, still
    too long, it keeps its start and its end, where sizes and colours are."""
    shared = _shared_start(values)
    fitted = []
    for value, at in zip(values, _differs_at(values), strict=True):
        if len(value) > width and shared > 3:
            need = len(value) - width + 1
            cut = next((i + 1 for i in range(need - 1, shared) if value[i] == " "), shared)
            fitted.append(shorten(ELLIPSIS + value[cut:], width, len(value)))
        else:
            fitted.append(shorten(value, width, at))
    return fitted


def _cut_end(cell, width: int):
    if isinstance(cell, str) and len(cell) > width:
        return cell[: width - 1] + ELLIPSIS
    if isinstance(cell, Text) and cell.cell_len > width:
        cell = cell.copy()
        cell.truncate(width, overflow="ellipsis")
    return cell


def column_widths(columns: list[Col], available: int) -> list[int]:
    widths = [column.width for column in columns]
    spare = available - sum(widths)
    growing = sum(column.grow for column in columns)
    if spare > 0 and growing:
        shares = [spare * column.grow // growing for column in columns]
        shares[max(range(len(columns)), key=lambda i: columns[i].grow)] += spare - sum(shares)
        widths = [w + s for w, s in zip(widths, shares, strict=True)]
    elif spare < 0:
        # Narrower than planned: the names give way first, never below 8.
        for i in sorted(range(len(columns)), key=lambda i: -columns[i].grow):
            if spare >= 0:
                break
            if columns[i].grow:
                give = min(-spare, widths[i] - 8)
                widths[i] -= max(give, 0)
                spare += max(give, 0)
    return widths


class FittedTable(PlainTable):
    """A DataTable given its rows as plain values; it lays them out for its width, again on resize."""

    DEFAULT_CSS = """
    FittedTable {
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, columns: list[Col], **kwargs):
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self.specs = columns
        self.rows_data: list[tuple[str, list]] = []
        self._laid_out_for = -1

    def _available(self) -> int:
        width = self.size.width or (self.app.size.width - 2)
        padding = 2 * self.cell_padding * len(self.specs)
        return width - padding - 1  # a vertical scrollbar's width, shown or not, so nothing jumps

    def set_rows(self, rows: list[tuple[str, list]]) -> None:
        """Rows as (key, cells); the cursor stays on the same key when it is still there. A str cell
        is outside text, shown as written (never read as markup), control characters as symbols."""
        kept = self.cursor_key(), self.cursor_row
        self.rows_data = [(key, [_safe(cell) for cell in cells]) for key, cells in rows]
        self._lay_out(kept)

    def cursor_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self.rows_data):
            return self.rows_data[self.cursor_row][0]
        return None

    def _lay_out(self, kept: tuple[str | None, int] | None = None) -> None:
        kept_key, kept_row = kept or (self.cursor_key(), self.cursor_row)
        specs = [replace(spec, width=max(spec.width, *(cell_len(_plain(cells[index])) for _key, cells in self.rows_data),
                                         cell_len(_plain(translated(spec.label)))))
                 if spec.whole else spec for index, spec in enumerate(self.specs)]
        widths = column_widths(specs, self._available())
        self._laid_out_for = self.size.width
        self.clear(columns=True)
        for spec, width in zip(self.specs, widths, strict=True):
            self.add_column(translated(spec.label), width=width)
        columns = list(zip(*(cells for _key, cells in self.rows_data), strict=True)) if self.rows_data else []
        for index, (spec, width) in enumerate(zip(self.specs, widths, strict=True)):
            if spec.fit and columns:
                plain = [str(cell) if not isinstance(cell, Text) else cell.plain for cell in columns[index]]
                columns[index] = tuple(fit_column(plain, width))
            elif columns:
                # Cut at the end, and say so with "…" rather than a silent cut.
                columns[index] = tuple(_cut_end(cell, width) for cell in columns[index])
        for row_index, (key, _cells) in enumerate(self.rows_data):
            self.add_row(*(column[row_index] for column in columns), key=key)
        if self.rows_data:
            keys = [key for key, _cells in self.rows_data]
            row = keys.index(kept_key) if kept_key in keys else min(max(kept_row, 0), len(keys) - 1)
            self.move_cursor(row=row, animate=False)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            # After the resize is done: rows rebuilt during it are not painted.
            self.call_after_refresh(self._lay_out, None)
