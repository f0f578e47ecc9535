"""Sales inbox: the open web sales, newest first, paged from the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from core.shoptime import shown
from tui.failures import ReportsFailures

if TYPE_CHECKING:
    from core.sales import InboxPage

FILTER_NAMES = {None: "all open", "ready": "ready", "waiting_match": "needs match",
                "gift_card_to_issue": "gift card to issue", "held": "held", "capture_failed": "capture failed"}


class InboxScreen(ReportsFailures, Screen):
    HELP_CONTEXT = "inbox"  # which FAQ entries F1 opens on
    BINDINGS = [
        Binding("escape", "back", "Back", id="inbox.back"),
        Binding("f", "next_filter", "Filter", id="inbox.filter", tooltip="Cycle the status filter"),
        Binding("c", "next_channel", "Store", id="inbox.channel", tooltip="Cycle the web store filter"),
        Binding("h", "toggle_history", "History", id="inbox.history", tooltip="Completed and cancelled sales"),
        Binding("n", "next_page", "Next page", id="inbox.next"),
        Binding("p", "previous_page", "Prev page", id="inbox.previous"),
        Binding("r", "reload", "Refresh", id="inbox.refresh"),
    ]

    class PageLoaded(Message):
        def __init__(self, page: InboxPage):
            super().__init__()
            self.page = page

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.channel: tuple[int, str] | None = None
        self.channels: list[tuple[int, str]] = []
        self.history = False
        self.page_starts: list[tuple | None] = [None]
        self.page: InboxPage | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Static("", id="inbox-filter")
        table = DataTable(id="sales", cursor_type="row", zebra_stripes=True)
        table.add_column("Order", width=7)
        table.add_column("Status", width=27)
        table.add_column("Customer", width=12)
        table.add_column(Text("Total", justify="right"), width=9)
        table.add_column("Ordered", width=12)
        yield table
        yield Static("", id="inbox-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Sales inbox"
        self.query_one("#sales", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load(self.page_starts[-1])

    def action_next_filter(self) -> None:
        names = list(FILTER_NAMES)
        self.status_filter = names[(names.index(self.status_filter) + 1) % len(names)]
        self.history = False
        self.page_starts = [None]
        self.load(None)

    def action_next_channel(self) -> None:
        options = [None, *self.channels]
        self.channel = options[(options.index(self.channel) + 1) % len(options)]
        self.page_starts = [None]
        self.load(None)

    def action_toggle_history(self) -> None:
        self.history = not self.history
        self.status_filter = None
        self.page_starts = [None]
        self.load(None)

    def action_next_page(self) -> None:
        if self.page and self.page.has_more:
            self.page_starts.append(self.page.rows[-1].key)
            self.load(self.page_starts[-1])

    def action_previous_page(self) -> None:
        if len(self.page_starts) > 1:
            self.page_starts.pop()
            self.load(self.page_starts[-1])

    @work(thread=True, exclusive=True, exit_on_error=False, group="inbox")
    def load(self, after: tuple | None) -> None:
        from core.channels import list_channels
        from core.sales import inbox

        engine = self.app.engine()
        self.channels = list_channels(engine)
        self.post_message(self.PageLoaded(inbox(engine, status=self.status_filter, history=self.history,
                                                channel_id=self.channel[0] if self.channel else None, after=after)))

    @on(PageLoaded)
    def show(self, event: PageLoaded) -> None:
        self.page = event.page
        table = self.query_one("#sales", DataTable)
        keep = table.cursor_row
        table.clear()
        for row in event.page.rows:
            style = "bold" if row.state in ("waiting_match", "gift_card_to_issue", "capture_failed") else ""
            table.add_row(row.order_number, Text(row.status, style=style), row.customer or "—",
                          Text(f"{row.total:,.2f}", justify="right"),
                          shown(row.ordered_at), key=str(row.sale_id))
        if event.page.rows:
            table.move_cursor(row=min(keep, len(event.page.rows) - 1))
        what = "history: completed and cancelled" if self.history else FILTER_NAMES[self.status_filter]
        where = f" from {self.channel[1]}" if self.channel else ""
        self.query_one("#inbox-filter", Static).update(f"Showing {what}{where} · f status · c store · h history")
        start = (len(self.page_starts) - 1) * 50
        count = len(event.page.rows)
        where = f"{start + 1:,}–{start + count:,} of {event.page.total:,}" if count else "no sales here"
        self.query_one("#inbox-status", Static).update(f"{where} · Enter opens a sale"
                                                       + (" · n next page" if event.page.has_more else ""))

    @on(DataTable.RowSelected, "#sales")
    def open_sale(self, event: DataTable.RowSelected) -> None:
        from tui.screens.sale import SaleScreen

        self.app.push_screen(SaleScreen(int(event.row_key.value)))
