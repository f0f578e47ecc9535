"""Returns and tax editor: find the sale, choose what comes back, adjust each line's tax rate,
add the shipping refund, and confirm the refund."""

from __future__ import annotations

from core.i18n import N_, _, amount, money, ngettext, parse_decimal, rate

import threading
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, OptionList
from textual.widgets.option_list import Option

from tui.actions import ForThisPerson, bindings, hint, key
from tui.failures import ReportsFailures
from tui.widgets.search_box import SearchBox
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.plain import plain, styled, sentence
from tui.widgets.line import Line

if TYPE_CHECKING:
    from core.returns import ReturnView


# "Sold" reads "1/2" when one of the two sold can still come back (earlier returns took the other).
LINE_COLUMNS = [Col(N_("Line"), 19, grow=1, fit=True), Col(Text(N_("Sold"), justify="right"), 5),
                Col(Text(N_("Ret."), justify="right"), 4), Col(Text(N_("Price"), justify="right"), 7, whole=True),
                Col(Text(N_("Tax% was→now"), justify="right"), 13), Col(N_("Stock"), 5), Col(Text(N_("Refund"), justify="right"), 8, whole=True)]
SEARCH_DELAY = 0.2


def _rate(value: Decimal) -> str:
    return rate(value)


class ReturnsScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "returns"  # which FAQ entries F1 opens on
    BINDINGS = bindings("returns")

    class Found(Message):
        def __init__(self, sales: list[tuple], go_to_list: bool):
            super().__init__()
            self.sales, self.go_to_list = sales, go_to_list

    class Loaded(Message):
        def __init__(self, view: ReturnView | None, note: str | None = None, warning: bool = False,
                     focus: bool = True):
            super().__init__()
            self.view, self.note, self.warning, self.focus = view, note, warning, focus

    def __init__(self) -> None:
        super().__init__()
        self.view: ReturnView | None = None
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        self.sub_title = _("Returns")
        yield Header(icon="⇄")
        yield SearchBox(placeholder=_("Type or scan: order number, customer name, email, phone, barcode"), id="find",
                    select_on_focus=False, compact=True)
        yield OptionList(id="found")
        yield FittedTable(LINE_COLUMNS, id="return-lines")
        yield Line("", id="refund-total")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#return-lines").display = False
        self.query_one("#found").display = False
        self.query_one("#find", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("more", "less", "tax", "restock", "shipping", "amount", "confirm"):
            drafting = self.view is not None and self.view.state == "draft" and not self.query_one("#find").has_focus
            # Nothing to post until something comes back.
            return drafting and (action != "confirm" or any(line.quantity for line in self.view.lines))
        return True

    def action_back(self) -> None:
        view = self.view
        if view is not None and view.state == "draft":
            app = self.app

            def abandon() -> None:
                from core.audit import current_actor
                from core.returns import abandon_return

                # An unposted return refunds nothing and holds no units; leaving it says so.
                if abandon_return(app.engine(), view.id, current_actor()) and any(line.quantity for line in view.lines):
                    app.call_from_thread(app.notify, _("Return left unposted: nothing was refunded."), timeout=4)

            # The app's worker, not the screen's: it must finish after this screen is gone.
            app.run_worker(abandon, thread=True, exit_on_error=False, group="returns-abandon")
        self.app.pop_screen()

    # --- finding the sale -----------------------------------------------------------------------------

    @on(Input.Changed, "#find")
    def find_as_typed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if event.value.strip():
            self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.search(event.value, False))
        else:
            self.query_one("#found").display = False

    @on(Input.Submitted, "#find")
    def find(self, event: Input.Submitted) -> None:
        # Enter (a scanner sends one): search now, and the cursor goes to what was found.
        if self._search_timer is not None:
            self._search_timer.stop()
        self.search(event.value, True)

    def refresh_from_database(self) -> None:
        if self.view is not None:
            self.reload_view(self.view.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="returns-view")
    def reload_view(self, return_id: int) -> None:
        from core.returns import return_view

        self.post_message(self.Loaded(return_view(self.app.engine(), return_id), focus=False))

    @work(thread=True, exclusive=True, exit_on_error=False, group="returns-find")
    def search(self, text: str, go_to_list: bool) -> None:
        from core.returns import find_sales

        self.post_message(self.Found(find_sales(self.app.engine(), text), go_to_list))

    @on(Found)
    def show_found(self, event: Found) -> None:
        found = self.query_one("#found", OptionList)
        found.clear_options()
        for sale_id, number, customer, total in event.sales:
            found.add_option(Option(plain(f"{number}  {customer or ''}  {money(total)}"), id=str(sale_id)))
        if not event.sales:
            found.add_option(Option(_("No completed web sale matches"), disabled=True))
        found.display = True
        found.highlighted = 0 if event.sales else None
        if event.go_to_list:
            found.focus()

    @on(OptionList.OptionSelected, "#found")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.start(int(event.option.id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="returns-write")
    def start(self, sale_id: int) -> None:
        from core.audit import current_actor
        from core.returns import ReturnError, return_view, start_return

        try:
            return_id = start_return(self.app.engine(), sale_id, current_actor())
        except ReturnError as exc:
            self.post_message(self.Loaded(None, _("Not started: {reason}.").format(reason=exc), True))
        else:
            self.post_message(self.Loaded(return_view(self.app.engine(), return_id)))

    # --- editing --------------------------------------------------------------------------------------

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        if event.note:
            self.notify(event.note, severity="warning" if event.warning else "information", timeout=5)
        if event.view is None:
            return
        self.view = view = event.view
        self.sub_title = (_("Return for {number}") if view.state == "draft" else _("Return for {number} (posted)")).format(
            number=view.order_number)
        self.query_one("#find").display = False
        self.query_one("#found").display = False
        table = self.query_one("#return-lines", FittedTable)
        table.display = True
        rows = []
        for line in view.lines:
            _net, _tax, total = line.amounts
            changed = line.tax_rate != line.charged_tax_rate
            rate = Text(f"{_rate(line.charged_tax_rate)}→{_rate(line.tax_rate)}" if changed else _rate(line.tax_rate),
                        justify="right", style="bold" if changed else "")
            left = line.sold - line.returned_elsewhere
            sold = f"{left}/{line.sold}" if line.returned_elsewhere and not line.is_shipping else str(line.sold)
            # A gift-card line says its card and what is left on it: that is the most it refunds.
            title = line.title if not line.gift_card else _("{title} · card {number}, {left} left").format(
                title=line.title, number=line.gift_card, left=money(line.card_left or 0))
            rows.append((str(line.id), [title, Text(sold, justify="right"),
                                        Text(str(-line.quantity), justify="right"),
                                        Text(amount(line.unit_price), justify="right"),
                                        rate, "—" if line.is_shipping or line.gift_card else (_("yes") if line.restock else _("no")),
                                        Text(amount(total), justify="right")]))
        table.set_rows(rows)
        if event.focus:
            table.focus()
        net, tax, total = view.totals
        state = "" if view.state == "draft" else "  — " + _("posted")
        cards = [line for line in view.lines if line.gift_card]
        shipping = ""
        if view.state == "draft" and not any(line.is_shipping for line in view.lines) and view.shipping_left > 0:
            shipping = " · " + _("shipping left to refund {amount}").format(amount=money(view.shipping_left))
        self.query_one("#refund-total", Line).update(
            styled(_("Refund: net {net} · tax {tax} · [b]total {total}[/b]"), net=money(net), tax=money(tax),
                   total=money(total))
            + f"{state}{shipping}"
            + "".join(" · " + _("card {number}: {left} left").format(number=line.gift_card,
                                                                    left=money(line.card_left or 0)) for line in cards)
            # A posted return offers nothing more: its keys are not named.
            + ("\n" + f"{key('returns.more')}/{key('returns.less')} " + _("units") + " · "
               + hint(("returns.tax", _("tax rate")), ("returns.restock", _("restock")),
                      ("returns.shipping", _("shipping")), ("returns.amount", _("amount")),
                      ("returns.confirm", _("confirm"))) if view.state == "draft" else ""))
        self.refresh_bindings()

    def _line(self):
        table = self.query_one("#return-lines", DataTable)
        if self.view is None or not self.view.lines:
            return None
        return self.view.lines[min(table.cursor_row, len(self.view.lines) - 1)]

    @work(thread=True, exclusive=True, exit_on_error=False, group="returns-write")
    def change(self, what: str, *args, actor=None, version: int | None = None) -> None:
        from core import returns
        from core.audit import current_actor
        from core.roles import NotAllowed
        from tui.dialogs.approval import run_approved

        engine, actor = self.app.engine(), actor or current_actor()
        try:
            note = None
            if what == "quantity":
                returns.set_quantity(engine, args[0], args[1], actor)
            elif what == "tax":
                returns.set_tax_rate(engine, args[0], args[1], args[2], actor)
            elif what == "restock":
                returns.set_restock(engine, args[0], args[1], actor)
            elif what == "shipping":
                returns.add_shipping_refund(engine, self.view.id, actor)
            elif what == "amount":
                returns.set_shipping_amount(engine, args[0], args[1], actor)
            elif what == "redo":
                changed = returns.redo_draft(engine, self.view.id, actor)
                note = _("Redone from what is left: {changes}.").format(changes="; ".join(changed)) if changed else None
            elif what == "confirm":
                # After an approval, the version the manager approved: a draft changed since is refused.
                refunded = returns.complete_return(engine, self.view.id, actor, version or self.view.version)
                note = _("Refund of {amount} posted to the original payment's account.").format(amount=money(-refunded))
                settings = getattr(self.app, "settings", None)
                if returns.refund_on_website(engine, self.view.id, actor,
                                             settings.secrets_file if settings else None):
                    note += " " + _("The website refunded it too.")
        except NotAllowed as exc:
            # A tax rate, or a refund over the cashier's limit: a manager approves this one change,
            # seeing what it is (the amount, the sale) and approving that version of the draft.
            seen = self.view.version
            said = None
            if exc.action == "return.over_limit":
                said = _("post a refund of {amount} on sale {number}").format(
                    amount=money(-self.view.totals[2]), number=self.view.order_number)
            self.app.call_from_thread(run_approved, self, exc.action,
                                      lambda approved: self.change(what, *args, actor=approved, version=seen), said)
        except returns.DraftOvertaken as overtaken:
            self.post_message(self.Loaded(returns.return_view(engine, self.view.id), None))
            self.post_message(self.Overtaken(sentence(overtaken)))
        except returns.ReturnError as exc:
            self.post_message(self.Loaded(returns.return_view(engine, self.view.id), _("Not changed: {reason}.").format(reason=exc), True))
        else:
            self.post_message(self.Loaded(returns.return_view(engine, self.view.id), note))

    class Overtaken(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    @on(Overtaken)
    def offer_to_redo(self, event: Overtaken) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(event.text + "?"), lambda yes: yes and self.change("redo"))

    def action_more(self) -> None:
        line = self._line()
        if line and not line.is_shipping:
            self.add_units(line.id, 1)

    def action_less(self) -> None:
        line = self._line()
        if line and not line.is_shipping:
            self.add_units(line.id, -1)

    _units_lock = threading.Lock()

    @work(thread=True, exit_on_error=False, group="returns-units")
    def add_units(self, line_id: int, more: int) -> None:
        """Not exclusive: every press is its own change, counted from what is saved. One at a time,
        each with the view read after it: the last view shown is the last change saved."""
        from core import returns
        from core.audit import current_actor

        engine = self.app.engine()
        with self._units_lock:
            try:
                returns.add_units(engine, line_id, more, current_actor())
            except returns.ReturnError as exc:
                self.post_message(self.Loaded(returns.return_view(engine, self.view.id),
                                              _("Not changed: {reason}.").format(reason=exc), True))
            else:
                self.post_message(self.Loaded(returns.return_view(engine, self.view.id), None))

    def action_restock(self) -> None:
        line = self._line()
        if line and not line.is_shipping:
            self.change("restock", line.id, not line.restock)

    def action_shipping(self) -> None:
        self.change("shipping")

    def action_amount(self) -> None:
        from tui.dialogs.prompt import PromptScreen

        line = self._line()
        if line is None or not line.is_shipping:
            self.notify(_("Put the cursor on the shipping refund line."), timeout=3)
            return
        self.app.push_screen(PromptScreen(_("Shipping to refund"), amount(line.unit_price)),
                             lambda text: text and self.change_amount(line.id, text))

    def change_amount(self, line_id: int, text: str) -> None:
        try:
            typed = parse_decimal(text)
        except ValueError as exc:
            self.notify(_("Not changed: {reason}").format(reason=exc), severity="warning", timeout=6)
            return
        self.change("amount", line_id, typed)

    def action_tax(self) -> None:
        from tui.dialogs.tax_rate import TaxRateScreen

        line = self._line()
        if line:
            self.app.push_screen(TaxRateScreen(line.title, line.charged_tax_rate, line.tax_rate),
                                 lambda answer: answer and self.change("tax", line.id, *answer))

    def action_confirm(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        net, tax, total = self.view.totals
        back = sum(-line.quantity for line in self.view.lines if not line.is_shipping)
        shipping = any(line.is_shipping for line in self.view.lines)
        self.app.push_screen(ConfirmScreen(
            _("Post this return for {number}?").format(number=self.view.order_number) + "\n"
            + (ngettext("{count} unit back and the shipping", "{count} units back and the shipping", back) if shipping
               else ngettext("{count} unit back", "{count} units back", back)).format(count=back)
            + _("; refund {total} (net {net}, tax {tax}) to the original payment.").format(
                total=money(-total), net=money(-net), tax=money(-tax))
            + "".join("\n" + _("Gift card {number}: {amount} is taken off it first (it has {left}); take the card "
                                "back.").format(number=line.gift_card, amount=money(-line.amounts[2]),
                                                left=money(line.card_left or 0))
                      for line in self.view.lines if line.gift_card and line.quantity)),
            lambda yes: yes and self.change("confirm"))
