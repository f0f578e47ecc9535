"""Supplier fulfilment for each web store: the three signed documents on file, and the switch.

The switch turns on only when all three are on file and current; while it is off, an order the
store tags supplier-shipped waits in the inbox for a person to decide."""

from __future__ import annotations

from core.i18n import N_, _, ngettext

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header

from tui.actions import ForThisPerson, bindings, key
from tui.failures import ReportsFailures
from tui.widgets.key_bar import KeyBar
from tui.widgets.fitted_table import ELLIPSIS
from tui.plain import styled
from tui.widgets.line import Line
from tui.widgets.plain_table import PlainTable

FOR_WIDTH = 14


def cut_end(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + ELLIPSIS

SHORT_NAMES = {"internet_addendum": N_("Internet addendum"), "packing_slip_form": N_("Packing-slip form"),
               "retailer_contract": N_("Retailer contract")}
STATES = {"current": N_("current"), "ended": N_("ENDED"), "missing": N_("missing")}


class SupplierScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "supplier"  # which FAQ entries F1 opens on
    BINDINGS = bindings("supplier")

    class Loaded(Message):
        def __init__(self, setups: list, note: str | None, warning: bool):
            super().__init__()
            self.setups, self.note, self.warning = setups, note, warning

    def __init__(self) -> None:
        super().__init__()
        self.setups: list = []
        self.rows: list[tuple] = []  # (setup, document set, document) per table row

    def compose(self) -> ComposeResult:
        self.sub_title = _("Supplier fulfilment")
        yield Header(icon="⇄")
        yield Line("", id="supplier-status")
        table = PlainTable(id="documents", cursor_type="row")
        table.add_column(_("For"), width=FOR_WIDTH)  # the web store's own set, then "· brand" for each brand's
        table.add_column(_("Document"), width=17)
        table.add_column(_("State"), width=7)
        table.add_column(_("Signed"), width=10)
        table.add_column(_("Ends"), width=10)
        table.add_column(_("Copy at"), width=8)
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#documents").focus()
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, exit_on_error=False, group="supplier")
    def load(self, note: str | None = None, warning: bool = False) -> None:
        from core.supplier import supplier_setup

        self.post_message(self.Loaded(supplier_setup(self.app.engine()), note, warning))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        if event.note:
            self.notify(event.note, severity="warning" if event.warning else "information", timeout=8)
        self.setups = event.setups
        lines = []
        for setup in event.setups:
            if setup.on:
                state = styled(_("[b]ON[/b] · supplier-shipped orders go to {location}"),
                               location=setup.receiving_location or _("its location"))
            elif setup.ready:
                state = _("off · the documents are in order: {key} switches it on").format(key=key("supplier.on"))
            else:
                todo = sum(document.state != "current" for document in setup.sets[0].documents)
                state = ngettext("off · {count} document to record before it can be on",
                                 "off · {count} documents to record before it can be on", todo).format(count=todo)
            lines.append(styled(_("{store}: supplier fulfilment {state}"), store=setup.channel,
                                state=state if isinstance(state, Content) else Content(state)))
        self.query_one("#supplier-status", Line).update(
            Content("\n").join(lines) or _("No web store is set up yet: channels come from the settings file."))
        table = self.query_one("#documents", DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = [(setup, document_set, document) for setup in event.setups for document_set in setup.sets
                     for document in document_set.documents]
        for setup, document_set, document in self.rows:
            # A long name is cut with "…" (as the syncs screen does), not silently.
            table.add_row(cut_end(f"· {document_set.brand}" if document_set.brand else setup.channel, FOR_WIDTH),
                          _(SHORT_NAMES.get(document.kind, document.kind)), _(STATES[document.state]),
                          document.signed_on.isoformat() if document.signed_on else "",
                          document.ends_on.isoformat() if document.ends_on else "", document.reference or "")
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """What the highlighted web store allows: its switch only the way it can go."""
        setup, _set, _document = self._current()
        if action == "record":
            return setup is not None
        if action == "switch_on":
            return setup is not None and not setup.on and setup.ready
        if action == "switch_off":
            return setup is not None and setup.on
        return True

    @on(DataTable.RowHighlighted, "#documents")
    def highlighted(self) -> None:
        self.refresh_bindings()

    def _current(self):
        table = self.query_one("#documents", DataTable)
        return self.rows[table.cursor_row] if self.rows else (None, None, None)

    def action_record(self) -> None:
        from core.shoptime import today
        from tui.dialogs.document import DocumentScreen

        setup, document_set, document = self._current()
        if setup is None:
            return
        dialog = DocumentScreen(f"{setup.channel}: {_(document.name)}", document.signed_on or today(),
                                document.ends_on, document.reference, document_set.brand)
        self.app.push_screen(dialog, lambda answer: answer and self.record(setup.channel_id, document.kind, *answer))

    @work(thread=True, exit_on_error=False, group="supplier-write")
    def record(self, channel_id: int, kind: str, signed, ends, reference, brand, actor=None) -> None:
        from core.audit import current_actor
        from core.roles import NotAllowed
        from core.sales import SaleError
        from core.supplier import record_supplier_document
        from tui.dialogs.approval import run_approved

        try:
            record_supplier_document(self.app.engine(), channel_id, kind, signed, actor or current_actor(), ends,
                                     reference, brand)
        except NotAllowed as exc:
            self.app.call_from_thread(run_approved, self, exc.action, lambda approved: self.record(
                channel_id, kind, signed, ends, reference, brand, approved))
        except SaleError as exc:
            self.load(_("Not recorded: {reason}.").format(reason=exc), True)
        else:
            self.load(_("Recorded."))

    def action_switch_on(self) -> None:
        from tui.dialogs.prompt import PromptScreen

        setup, _set, _document = self._current()
        if setup is not None:
            from core.supplier import switch_on_refusal

            refusal = switch_on_refusal(self.app.engine(), setup.channel_id)
            if refusal:
                self.load(_("Not switched: {reason}.").format(reason=refusal), True)
                return
            self.app.push_screen(PromptScreen(_("{store}: the location that receives supplier-shipped orders").format(store=setup.channel),
                                              setup.receiving_location or ""),
                                 lambda location: location and self.switch(setup.channel_id, True, location))

    def action_switch_off(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        setup, _set, _document = self._current()
        if setup is not None and setup.on:
            self.app.push_screen(ConfirmScreen(_("Switch supplier fulfilment off for {store}? Orders tagged "
                                                 "supplier-shipped will wait for a person.").format(store=setup.channel)),
                                 lambda yes: yes and self.switch(setup.channel_id, False))

    @work(thread=True, exit_on_error=False, group="supplier-write")
    def switch(self, channel_id: int, on: bool, location: str | None = None, actor=None) -> None:
        from core.audit import current_actor
        from core.roles import NotAllowed
        from core.sales import SaleError
        from core.supplier import switch_supplier_fulfillment
        from tui.dialogs.approval import run_approved

        try:
            note = switch_supplier_fulfillment(self.app.engine(), channel_id, actor or current_actor(), on, location)
        except NotAllowed as exc:
            self.app.call_from_thread(run_approved, self, exc.action,
                                      lambda approved: self.switch(channel_id, on, location, approved))
        except SaleError as exc:
            self.load(_("Not switched: {reason}.").format(reason=exc), True)
        else:
            self.load(note)
