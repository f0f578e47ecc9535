"""Catalog: search the shop's products as you type and see where the stock is."""

from __future__ import annotations

from core.i18n import N_, _, amount, money, number

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input

from tui.actions import bindings, hint
from tui.failures import ReportsFailures
from tui.search import start_fresh_search
from tui.widgets.search_box import SearchBox
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.widgets.line import Line

if TYPE_CHECKING:
    from core.catalog import ProductDetail, ProductPage

SEARCH_DELAY = 0.15  # seconds of quiet typing before the search runs
COLUMNS = [Col(N_("SKU"), 9), Col(N_("Product"), 31, grow=3, fit=True), Col(Text(N_("Price"), justify="right"), 8, whole=True),
           Col(Text(N_("Avail"), justify="right"), 5, whole=True), Col(N_("Part number"), 11, grow=1)]


def _barcode(row) -> str:
    if not row.barcode:
        return "—"
    return _("{barcode} (invalid)").format(barcode=row.barcode) if row.barcode_status == "invalid" else row.barcode


class CatalogScreen(ReportsFailures, Screen):
    HELP_CONTEXT = "catalog"  # which FAQ entries F1 opens on
    BINDINGS = bindings("catalog")

    class PageLoaded(Message):
        def __init__(self, page: ProductPage, text: str, page_starts: list[str | None]):
            super().__init__()
            self.page, self.text, self.page_starts = page, text, page_starts

    class DetailLoaded(Message):
        def __init__(self, detail: ProductDetail | None):
            super().__init__()
            self.detail = detail

    def __init__(self, pick_for: str | None = None, location_id: int | None = None) -> None:
        """With `pick_for` (a web sale line's title), Enter chooses the highlighted product and
        returns its id to the caller; esc returns None. With `location_id` (where that sale takes
        its units), availability is that location's, the others' as "+n" beside it."""
        super().__init__()
        self.pick_for = pick_for
        self.location_id = location_id
        self.query_text = ""
        # The SKU each page starts after; the last entry is the page on screen.
        self.page_starts: list[str | None] = [None]
        self.page: ProductPage | None = None
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        self.sub_title = (_("Choose the shop product for “{line}” — Enter chooses, esc leaves").format(line=self.pick_for)
                          if self.pick_for is not None else _("Catalog"))
        yield Header(icon="⇄")
        yield SearchBox(placeholder=_("Type or scan: SKU, part number, barcode, words of the name or brand"),
                    id="search", select_on_focus=False, compact=True)
        yield FittedTable(COLUMNS, id="products", zebra_stripes=True)
        yield Line("", id="status")
        yield Line("", id="detail")
        yield KeyBar()

    def on_mount(self) -> None:
        # Focused from the start: a barcode scanner's digits and Enter find the product at once.
        self.query_one("#search", Input).focus()
        self.call_after_refresh(self.load_page, "", [None])

    def page_size(self) -> int:
        """A page is what the table shows, whatever the terminal's height."""
        height = self.query_one("#products", DataTable).size.height or (self.app.size.height - 8)
        return max(5, height - 1)

    def on_resize(self) -> None:
        if self.page is not None and len(self.page.rows) != self.page_size():
            self.load_page(self.query_text, self.page_starts)

    def refresh_from_database(self) -> None:
        self.load_page(self.query_text, self.page_starts)

    def language_changed(self) -> None:
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = self.query_text
        search.focus()
        self.load_page(self.query_text, self.page_starts)

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""  # the first esc clears what was typed
            search.focus()
        elif self.pick_for is not None:
            self.dismiss(None)
        else:
            self.app.pop_screen()

    @on(DataTable.RowSelected, "#products")
    def product_chosen(self, event: DataTable.RowSelected) -> None:
        if self.pick_for is not None and event.row_key.value is not None:
            self.dismiss(int(event.row_key.value))

    def action_search(self) -> None:
        start_fresh_search(self.query_one("#search", Input))

    def action_next_page(self) -> None:
        if self.page and self.page.has_more and self.page.rows:
            self.load_page(self.query_text, [*self.page_starts, self.page.rows[-1].sku])

    def action_previous_page(self) -> None:
        if len(self.page_starts) > 1:
            self.load_page(self.query_text, self.page_starts[:-1])

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.load_page(text, [None]))

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one("#products", DataTable).focus()

    def load_page(self, text: str, page_starts: list[str | None]) -> None:
        self.fetch_page(text, page_starts, self.page_size())

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog-page")
    def fetch_page(self, text: str, page_starts: list[str | None], limit: int) -> None:
        from core.catalog import search_products

        page = search_products(self.app.engine(), text, after_sku=page_starts[-1], limit=limit,
                               location_id=self.location_id)
        self.post_message(self.PageLoaded(page, text, page_starts))

    @on(PageLoaded)
    def show_page(self, event: PageLoaded) -> None:
        self.page, self.query_text, self.page_starts = event.page, event.text, event.page_starts
        rows = []
        for row in event.page.rows:
            name = row.description if row.active else _("{name} (inactive)").format(name=row.description)
            available = "—" if row.non_inventory else str(row.available) + (
                f" +{row.available_elsewhere}" if row.available_elsewhere else "")
            rows.append((str(row.id), [row.sku, name, Text(amount(row.price), justify="right"),
                                       Text(available, justify="right"), row.part_number or "—"]))
        self.query_one("#products", FittedTable).set_rows(rows)
        first = (len(event.page_starts) - 1) * self.page_size() + 1
        shown = len(event.page.rows)
        where = _("{first}–{last} of {total}").format(first=number(first), last=number(first + shown - 1),
                                                     total=number(event.page.total)) if shown else _("no product matches")
        more = [("catalog.next", _("next page"))] if event.page.has_more else []
        if len(event.page_starts) > 1:
            more.append(("catalog.previous", _("previous")))
        self.query_one("#status", Line).update(" · ".join([where, *([hint(*more)] if more else [])]))
        if not shown:
            self.query_one("#detail", Line).update("")

    @on(DataTable.RowHighlighted, "#products")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_detail(int(event.row_key.value))

    def action_web(self) -> None:
        table = self.query_one("#products", DataTable)
        if self.page is not None and self.page.rows and table.cursor_row is not None:
            row_key, _column = table.coordinate_to_cell_key((table.cursor_row, 0))
            if row_key.value is not None:
                self.load_web(int(row_key.value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog-web")
    def load_web(self, product_id: int) -> None:
        from core.catalog import product_detail
        from core.rules_view import product_on_channels
        from tui.dialogs.product_web import ProductWebScreen

        detail = product_detail(self.app.engine(), product_id, self.location_id)
        views = product_on_channels(self.app.engine(), product_id)
        self.app.call_from_thread(self.app.push_screen, ProductWebScreen(detail.row.sku, views))

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog-detail")
    def load_detail(self, product_id: int) -> None:
        from core.catalog import product_detail

        self.post_message(self.DetailLoaded(product_detail(self.app.engine(), product_id, self.location_id)))

    @on(DetailLoaded)
    def show_detail(self, event: DetailLoaded) -> None:
        detail = event.detail
        if detail is None:
            return
        row = detail.row
        if row.non_inventory:
            stock = _("not stocked (service or placeholder)")
        else:
            stock = "  ".join(f"{s.location} {s.on_hand}" + (" " + _("({count} held)").format(count=s.committed)
                                                             if s.committed else "")
                              for s in detail.stock) or _("no stock recorded")
        msrp = "  " + _("MSRP {price}").format(price=money(detail.msrp)) if detail.msrp is not None else ""
        brand = f"{row.brand} · " if row.brand and row.brand not in row.description else ""
        self.query_one("#detail", Line).update(
            f"{brand}{row.description}\n"
            + _("Barcode {barcode}  Part {part}").format(barcode=_barcode(row), part=row.part_number or "—") + msrp + "\n"
            + _("Stock: {stock}").format(stock=stock)
        )
