"""Match resolver: web listings the rules could not match, one at a time, resolved from the keyboard."""

from __future__ import annotations

from core.i18n import N_, _, amount, money, ngettext, number

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input

from tui.actions import bindings, hint, key
from tui.failures import ReportsFailures
from tui.search import start_fresh_search
from tui.widgets.search_box import SearchBox
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.plain import styled
from tui.widgets.line import Line

if TYPE_CHECKING:
    from core.resolver import Candidate, QueueItem, QueuePage

STATE_LABELS = {"unmatched": N_("no match"), "ambiguous": N_("ambiguous"), "conflict": N_("conflict")}
SEARCH_DELAY = 0.12
QUEUE_COLUMNS = [Col(N_("Why"), 9), Col(N_("Web listing"), 44, grow=4, fit=True), Col(N_("Orders"), 6), Col(N_("Store"), 8, grow=1)]
# The reason tells candidates apart (core.ranking): it gets the room, the description what is left.
CANDIDATE_COLUMNS = [Col(N_("#"), 1), Col(N_("Why"), 24), Col(N_("SKU"), 9, grow=1), Col(N_("Product"), 19, grow=6, fit=True),
                     Col(Text(N_("Price"), justify="right"), 8, whole=True), Col(Text(N_("Avl"), justify="right"), 3, whole=True)]


class WhyScreen(ModalScreen[None]):
    """Why this listing needs a person."""

    BINDINGS = bindings("why")

    def __init__(self, title: str, reason: str):
        super().__init__()
        self.title_text, self.reason = title, reason

    def compose(self) -> ComposeResult:
        with Vertical(id="why"):
            yield Line(Text(self.title_text, style="bold"), id="why-title")
            yield Line(self.reason, id="why-text")
            yield Line(hint(("why.close", _("close")), ("why.faq", _("the help entry on matching"))), id="why-hint")

    def action_faq(self) -> None:
        self.dismiss()
        self.app.action_help(topic="why_ambiguous", context="resolver")


class ResolverScreen(ReportsFailures, Screen):
    HELP_CONTEXT = "resolver"  # which FAQ entries F1 opens on
    BINDINGS = bindings("resolver")

    class QueueLoaded(Message):
        def __init__(self, page: QueuePage, keep_index: int, keep_search: bool = False):
            super().__init__()
            self.page, self.keep_index, self.keep_search = page, keep_index, keep_search

    class CandidatesLoaded(Message):
        def __init__(self, listing_id: int, candidates: list[Candidate], orders: list[str], searched: str | None,
                     location: str | None = None):
            super().__init__()
            self.listing_id, self.candidates, self.orders, self.searched = listing_id, candidates, orders, searched
            self.location = location

    class Resolved(Message):
        def __init__(self, text: str, listing_id: int | None, undoable: bool, warning: bool = False,
                     undone: bool = False):
            super().__init__()
            self.text, self.listing_id, self.undoable, self.warning = text, listing_id, undoable, warning
            self.undone = undone

    class Explained(Message):
        def __init__(self, title: str, reason: str):
            super().__init__()
            self.title, self.reason = title, reason

    def __init__(self, only_listing: int | None = None) -> None:
        super().__init__()
        # Opened from a sale for one line's listing: resolve it, then go back to the sale.
        self.only_listing = only_listing
        self.page: QueuePage | None = None
        self.page_start: tuple | None = None  # the queue page on screen starts after this item
        self.page_offset = 0  # how many items come before that page
        self.index = 0
        self.candidates: list[Candidate] = []
        self.held_digits = ""  # digits just typed, not yet read as a link key or a scan
        self._digits_timer: Timer | None = None
        self.decided: list[int] = []  # this session's decisions here, newest last: u takes them back in turn
        self._search_timer: Timer | None = None

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.sub_title = _("Match resolver")
        yield Header(icon="⇄")
        yield FittedTable(QUEUE_COLUMNS, id="queue")
        yield Line("", id="web-side")
        yield SearchBox(placeholder=_("Search the catalog: SKU, part number, barcode, words"), id="search",
                    compact=True)
        yield FittedTable(CANDIDATE_COLUMNS, id="candidates")
        yield Line("", id="resolver-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one("#candidates", DataTable).focus()
        self.load_queue(0)

    # --- the current item -------------------------------------------------------------------------

    @property
    def item(self) -> QueueItem | None:
        if self.page and 0 <= self.index < len(self.page.items):
            return self.page.items[self.index]
        return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="resolver-queue")
    def load_queue(self, keep_index: int, after: tuple | None = None, keep_search: bool = False) -> None:
        from core.resolver import resolver_queue

        page = resolver_queue(self.app.engine(), after=after, only_listing=self.only_listing)
        self.post_message(self.QueueLoaded(page, keep_index, keep_search))

    def refresh_from_database(self) -> None:
        self.load_queue(self.index, self.page_start, keep_search=True)

    def language_changed(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one("#candidates", DataTable).focus()
        self.load_queue(self.index, self.page_start)

    @on(QueueLoaded)
    def show_queue(self, event: QueueLoaded) -> None:
        self.page = event.page
        rows = [(str(item.listing_id), [_(STATE_LABELS.get(item.state, item.state)), item.title,
                                        str(item.waiting_lines) if item.waiting_lines else "", item.channel])
                for item in event.page.items]
        table = self.query_one("#queue", FittedTable)
        table.set_rows(rows)
        self.index = min(event.keep_index, max(len(event.page.items) - 1, 0))
        if event.page.items:
            table.move_cursor(row=self.index)
        if event.keep_search and self.query_one("#search", Input).display:
            return  # a refresh from elsewhere must not throw away the search being typed
        self.show_item()

    def show_item(self) -> None:
        self.refresh_bindings()  # what the footer offers follows the queue (an empty one offers little)
        item = self.item
        total = self.page.total if self.page else 0
        self.border_subtitle = ""
        if item is None:
            self.query_one("#web-side", Line).update(_("Nothing to resolve: every web listing is matched "
                                                          "or marked as not sold online."))
            self.query_one("#candidates", DataTable).clear()
            self.query_one("#resolver-status", Line).update(_("{count} waiting").format(count=number(total)))
            return
        self.query_one("#resolver-status", Line).update(
            _("{position} of {total} waiting · 1–9 or ").format(position=number(self.page_offset + self.index + 1),
                                                                total=number(total))
            + hint(("resolver.link", _("link")), ("resolver.not-online", _("not online")), ("resolver.skip", _("skip")),
                   ("resolver.why", _("why"))))
        self.load_candidates(item.listing_id, None)

    def render_web_side(self, item: QueueItem, orders: list[str], location: str | None = None) -> None:
        barcode = item.barcode or "—"
        if item.barcode and not item.gtin14:
            barcode += " " + _("(invalid)")
        price = money(item.price) if item.price is not None else "—"
        waiting = "  " + _("Orders waiting: {orders}").format(orders=", ".join(orders)) if orders else ""
        if location:
            # Where the units come from: the shop's other locations are only "+n" beside it.
            waiting += "  " + _("Avl: {location} (+others)").format(location=location)
        self.query_one("#web-side", Line).update(
            styled("[b]{title}[/b]  {price}\n", title=item.title, price=price)
            + _("GTIN {barcode}  Part {part}  Code {code}").format(barcode=barcode, part=item.part_number or "—",
                                                                  code=item.product_code or "—") + waiting
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="resolver-candidates")
    def load_candidates(self, listing_id: int, searched: str | None) -> None:
        from core.catalog import search_products
        from core.resolver import Candidate, candidates_for, stock_location, waiting_orders

        engine = self.app.engine()
        location_id, location = stock_location(engine, listing_id)
        if searched is None:
            candidates = candidates_for(engine, listing_id)
        else:
            page = search_products(engine, searched, limit=9, with_total=False, location_id=location_id)
            candidates = [Candidate(r.id, r.sku, r.description, r.part_number, r.price, r.available,
                                    _("search"), False, r.available_elsewhere) for r in page.rows]
        self.post_message(self.CandidatesLoaded(listing_id, candidates, waiting_orders(engine, listing_id),
                                                searched, location))

    @on(CandidatesLoaded)
    def show_candidates(self, event: CandidatesLoaded) -> None:
        item = self.item
        if item is None or item.listing_id != event.listing_id:
            return
        self.render_web_side(item, event.orders, event.location)
        self.candidates = event.candidates
        self.query_one("#candidates", FittedTable).set_rows([
            (str(candidate.product_id), [str(number), Text(candidate.why, style="bold" if candidate.identical else ""),
                                         candidate.sku, candidate.description,
                                         Text(amount(candidate.price), justify="right"),
                                         Text(str(candidate.available) + (f" +{candidate.elsewhere}"
                                                                          if candidate.elsewhere else ""),
                                              justify="right")])
            for number, candidate in enumerate(event.candidates, start=1)])
        if not event.candidates:
            self.query_one("#resolver-status", Line).update(
                _("No product in the shop looks like this listing. {search} to search, {not_online} if it is not sold "
                  "here.").format(search=key("resolver.search"), not_online=key("resolver.not-online")))

    # --- actions ------------------------------------------------------------------------------------

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.display:
            search.value = ""
            search.display = False
            self.query_one("#candidates", DataTable).focus()
            if self.item:
                self.load_candidates(self.item.listing_id, None)
        else:
            self.app.pop_screen()

    def action_cursor_down(self) -> None:
        self.query_one("#candidates", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#candidates", DataTable).action_cursor_up()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the search box has focus, letters and digits are text; Enter still links.
        if self.query_one("#search", Input).has_focus and action not in ("back", "link_highlighted", "why"):
            return False
        # An empty queue: nothing to link, skip, search for or explain.
        if action in ("link_highlighted", "not_sold_online", "skip", "search", "why", "cursor_down", "cursor_up",
                      "link_number"):
            return self.item is not None
        return True

    def action_skip(self) -> None:
        if self.page and self.index + 1 < len(self.page.items):
            self.index += 1
            self.query_one("#queue", DataTable).move_cursor(row=self.index)
            self.show_item()
        elif self.page and self.page.has_more:
            # The next page of the queue, read from the database after the last item shown.
            self.page_offset += len(self.page.items)
            self.page_start = self.page.items[-1].sort_key
            self.load_queue(0, self.page_start)
        else:
            self.notify(_("That was the last listing waiting."), timeout=3)

    @on(DataTable.RowSelected, "#queue")
    @on(DataTable.RowHighlighted, "#queue")
    def queue_moved(self, event) -> None:
        if self.query_one("#queue", DataTable).has_focus and event.cursor_row != self.index:
            self.index = event.cursor_row
            self.show_item()

    # --- 1-9 link; a scanned barcode searches -------------------------------------------------
    # A scanner types a barcode's digits and Enter faster than anyone types; a person presses one
    # digit. Digits are held for a moment: one digit alone links that candidate; several, ended by
    # Enter or arriving together, are a barcode and search the catalog — never a run of links.

    def action_link_number(self, number: int) -> None:
        self._digit(str(number))

    def on_key(self, event) -> None:
        # Every digit here, in the order typed (0 links nothing, but starts many barcodes).
        if event.character and event.character in "0123456789" and not self.query_one("#search", Input).has_focus:
            self._digit(event.character)
            event.stop()
            event.prevent_default()

    @on(DataTable.RowSelected, "#candidates")
    def candidate_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_link_highlighted()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one("#candidates", DataTable).focus()

    def _digit(self, digit: str) -> None:
        self.held_digits += digit
        if self._digits_timer is not None:
            self._digits_timer.stop()
        self._digits_timer = self.set_timer(self.app.scan_gap, self._digits_done)

    def _digits_done(self) -> None:
        if self._digits_timer is not None:
            self._digits_timer.stop()
            self._digits_timer = None
        typed, self.held_digits = self.held_digits, ""
        if len(typed) > 1:
            search = self.query_one("#search", Input)
            search.display = True
            search.value = typed  # searched as typed, as if after /
            search.focus()
        elif typed and typed != "0" and int(typed) <= len(self.candidates):
            self.decide(self.candidates[int(typed) - 1].product_id)

    def action_link_highlighted(self) -> None:
        table = self.query_one("#candidates", DataTable)
        if self.held_digits:
            self._digits_done()  # Enter ends a scan (or follows a digit at once): not a link of its own
            return
        if self.query_one("#search", Input).has_focus:
            table.focus()
            return
        if self.candidates and 0 <= table.cursor_row < len(self.candidates):
            self.decide(self.candidates[table.cursor_row].product_id)

    def action_not_sold_online(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        item = self.item
        if item is None:
            return
        if not item.waiting_lines:
            self.decide(None)
            return
        lines = ngettext("{count} line of open web sales waits", "{count} lines of open web sales wait",
                         item.waiting_lines).format(count=item.waiting_lines)
        self.app.push_screen(ConfirmScreen(
            _("“{title}”: {lines} on this listing. Mark it not sold online? Those lines then need a shop product "
              "chosen on each sale ({key} on the line).").format(title=item.title, lines=lines, key=key("sale.match"))),
            lambda yes: yes and self.decide(None))

    def action_search(self) -> None:
        start_fresh_search(self.query_one("#search", Input))

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        item, text = self.item, event.value
        if item is not None:
            self._search_timer = self.set_timer(
                SEARCH_DELAY, lambda: self.load_candidates(item.listing_id, text if text.strip() else None))

    def action_why(self) -> None:
        if self.item is not None:
            self.explain(self.item.listing_id, self.item.title)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resolver-why")
    def explain(self, listing_id: int, title: str) -> None:
        from core.resolver import explain

        self.post_message(self.Explained(title, explain(self.app.engine(), listing_id)))

    @on(Explained)
    def show_why(self, event: Explained) -> None:
        self.app.push_screen(WhyScreen(event.title, event.reason))

    def action_undo(self) -> None:
        if not self.decided:
            self.notify(_("Nothing left to undo: every decision made here since it opened is taken back."), timeout=4)
            return
        self.undo(self.decided[-1])

    @work(thread=True, exclusive=False, exit_on_error=False, group="resolver-write")
    def decide(self, product_id: int | None) -> None:
        from core.audit import current_actor
        from core.resolver import ResolveError, link_listing, mark_not_sold_online

        item = self.item
        if item is None:
            return
        engine = self.app.engine()
        try:
            if product_id is None:
                mark_not_sold_online(engine, item.listing_id, current_actor(), item.version)
                text = _("“{title}” marked as not sold online. {key} to undo.").format(title=item.title, key=key("resolver.undo"))
            else:
                link_listing(engine, item.listing_id, product_id, current_actor(), item.version)
                sku = next((c.sku for c in self.candidates if c.product_id == product_id), _("the product"))
                text = _("“{title}” linked to {sku}. {key} to undo.").format(title=item.title, sku=sku,
                                                                            key=key("resolver.undo"))
                from core.resolver import short_after_link

                short = short_after_link(engine, item.listing_id)
                if short:
                    text += " " + _("{locations}: more units promised to its sales than are on the shelf; check "
                                    "there.").format(locations=", ".join(short))
        except ResolveError as exc:
            self.post_message(self.Resolved(_("Not saved: {reason}.").format(reason=exc), None, False, warning=True))
        else:
            self.post_message(self.Resolved(text, item.listing_id, True))

    @work(thread=True, exclusive=False, exit_on_error=False, group="resolver-write")
    def undo(self, listing_id: int, actor=None) -> None:
        from core.audit import current_actor
        from core.resolver import ResolveError, unlink_listing
        from core.roles import NotAllowed
        from tui.dialogs.approval import run_approved

        try:
            text = unlink_listing(self.app.engine(), listing_id, actor or current_actor())
        except NotAllowed as exc:
            # A completed sale was sold by this match: a manager approves undoing it.
            self.app.call_from_thread(run_approved, self, exc.action, lambda approved: self.undo(listing_id, approved))
        except ResolveError as exc:
            # Changed since by someone else: it cannot be taken back from here; the one before can.
            self.post_message(self.Resolved(_("Not undone: {reason}.").format(reason=exc), listing_id, False, warning=True, undone=True))
        else:
            self.post_message(self.Resolved(text, listing_id, False, undone=True))

    @on(Resolved)
    def after_decision(self, event: Resolved) -> None:
        self.notify(event.text, severity="warning" if event.warning else "information", timeout=4)
        if self.only_listing is not None and event.undoable:
            self.app.pop_screen()
            return
        if event.undoable:
            self.decided.append(event.listing_id)
        elif event.undone and self.decided and self.decided[-1] == event.listing_id:
            self.decided.pop()
            if self.decided:
                self.notify(_("{count} more to take back with {key}.").format(count=len(self.decided), key=key("resolver.undo")),
                            timeout=3)
        search = self.query_one("#search", Input)
        search.value = ""
        search.display = False
        self.query_one("#candidates", DataTable).focus()
        self.load_queue(self.index, self.page_start)
