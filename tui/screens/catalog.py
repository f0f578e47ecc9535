"""Catalog: search the shop's products as you type and see where the stock is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from tui.actions import bindings
from tui.failures import ReportsFailures

if TYPE_CHECKING:
    from core.catalog import ProductDetail, ProductPage

SEARCH_DELAY = 0.15  # seconds of quiet typing before the search runs


def _barcode(row) -> str:
    if not row.barcode:
        return "—"
    return f"{row.barcode} (invalid)" if row.barcode_status == "invalid" else row.barcode


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

    def __init__(self, pick_for: str | None = None) -> None:
        """With `pick_for` (a web sale line's title), Enter chooses the highlighted product and
        returns its id to the caller; esc returns None."""
        super().__init__()
        self.pick_for = pick_for
        self.query_text = ""
        # The SKU each page starts after; the last entry is the page on screen.
        self.page_starts: list[str | None] = [None]
        self.page: ProductPage | None = None
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Input(placeholder="Search: SKU, part number, barcode, words of the name or brand",
                    id="search")
        table = DataTable(id="products", cursor_type="row", zebra_stripes=True)
        # Widths add up to fit 80 columns with the table's padding and scrollbar.
        table.add_column("SKU", width=9, key="sku")
        table.add_column("Product", width=31, key="product")
        table.add_column(Text("Price", justify="right"), width=8, key="price")
        table.add_column(Text("Avail", justify="right"), width=5, key="available")
        table.add_column("Part number", width=11, key="part")
        yield table
        yield Static("", id="status")
        yield Static("", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        if self.pick_for is not None:
            self.sub_title = f"Choose the shop product for “{self.pick_for}” — Enter chooses, esc leaves"
            self.query_one("#search", Input).focus()
        else:
            self.sub_title = "Catalog"
            self.query_one("#products", DataTable).focus()
        self.load_page("", [None])

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus and self.pick_for is None:
            self.query_one("#products", DataTable).focus()
        elif self.pick_for is not None:
            self.dismiss(None)
        else:
            self.app.pop_screen()

    @on(DataTable.RowSelected, "#products")
    def product_chosen(self, event: DataTable.RowSelected) -> None:
        if self.pick_for is not None and event.row_key.value is not None:
            self.dismiss(int(event.row_key.value))

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_next_page(self) -> None:
        if self.page and self.page.has_more and self.page.rows:
            self.load_page(self.query_text, [*self.page_starts, self.page.rows[-1].sku])

    def action_previous_page(self) -> None:
        if len(self.page_starts) > 1:
            self.load_page(self.query_text, self.page_starts[:-1])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing in the search box, letters are text, not commands.
        if action in ("next_page", "previous_page") and self.query_one("#search", Input).has_focus:
            return False
        return True

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.load_page(text, [None]))

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one("#products", DataTable).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog-page")
    def load_page(self, text: str, page_starts: list[str | None]) -> None:
        from core.catalog import search_products

        page = search_products(self.app.engine(), text, after_sku=page_starts[-1])
        self.post_message(self.PageLoaded(page, text, page_starts))

    @on(PageLoaded)
    def show_page(self, event: PageLoaded) -> None:
        self.page, self.query_text, self.page_starts = event.page, event.text, event.page_starts
        table = self.query_one("#products", DataTable)
        table.clear()
        for row in event.page.rows:
            name = row.description if row.active else f"{row.description} (inactive)"
            available = "—" if row.non_inventory else str(row.available)
            table.add_row(row.sku, name, Text(f"{row.price:,.2f}", justify="right"),
                          Text(available, justify="right"), row.part_number or "—", key=str(row.id))
        first = (len(event.page_starts) - 1) * 100 + 1
        shown = len(event.page.rows)
        where = f"{first:,}–{first + shown - 1:,} of {event.page.total:,}" if shown else "no product matches"
        more = "  n next page" if event.page.has_more else ""
        back = "  p previous" if len(event.page_starts) > 1 else ""
        self.query_one("#status", Static).update(f"{where}{more}{back}")
        if not shown:
            self.query_one("#detail", Static).update("")

    @on(DataTable.RowHighlighted, "#products")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_detail(int(event.row_key.value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog-detail")
    def load_detail(self, product_id: int) -> None:
        from core.catalog import product_detail

        self.post_message(self.DetailLoaded(product_detail(self.app.engine(), product_id)))

    @on(DetailLoaded)
    def show_detail(self, event: DetailLoaded) -> None:
        detail = event.detail
        if detail is None:
            return
        row = detail.row
        if row.non_inventory:
            stock = "not stocked (service or placeholder)"
        else:
            stock = "  ".join(f"{s.location} {s.on_hand}" + (f" ({s.committed} held)" if s.committed else "")
                              for s in detail.stock) or "no stock recorded"
        msrp = f"  MSRP {detail.msrp:,.2f}" if detail.msrp is not None else ""
        brand = f"{row.brand} · " if row.brand and row.brand not in row.description else ""
        self.query_one("#detail", Static).update(
            f"{brand}{row.description}\n"
            f"Barcode {_barcode(row)}  Part {row.part_number or '—'}{msrp}\n"
            f"Stock: {stock}"
        )
