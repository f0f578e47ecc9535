"""The POS customer of a web sale: link one suggested by email or phone, or one found by typing a
name, email or phone, or create one. Neither the web sale's nor the POS customer's data is ever
written over."""

from __future__ import annotations

from core.i18n import _

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui.actions import bindings, key
from tui.failures import ReportsFailures
from tui.widgets.search_box import SearchBox
from tui.plain import plain, styled
from tui.widgets.line import Line


class CustomerScreen(ReportsFailures, ModalScreen):
    BINDINGS = bindings("customer")

    class Suggested(Message):
        def __init__(self, customers: list[tuple]):
            super().__init__()
            self.customers = customers

    class Found(Message):
        def __init__(self, customers: list[tuple], searched: str):
            super().__init__()
            self.customers, self.searched = customers, searched

    class Saved(Message):
        def __init__(self, text: str, warning: bool = False):
            super().__init__()
            self.text, self.warning = text, warning

    def __init__(self, sale_id: int, version: int):
        super().__init__()
        self.sale_id, self.version = sale_id, version

    def compose(self) -> ComposeResult:
        with Vertical(id="customer"):
            yield Line(styled(_("[b]POS customer for this sale[/b] — suggestions share its email or phone")))
            yield SearchBox(placeholder=_("Find a POS customer: name, email or phone"), id="customer-search")
            yield OptionList(id="customer-options")
            yield Line(_("Type to search · ↓ or Enter to the list, Enter links · {create} (in the list) create from "
                           "the web sale · {close} close").format(create=key("customer.create"), close=key("customer.close")),
                         id="customer-hint")

    def on_mount(self) -> None:
        self.query_one("#customer-search", Input).focus()
        self.suggest()

    @work(thread=True, exit_on_error=False)
    def suggest(self) -> None:
        from core.customers import suggest_customers

        self.post_message(self.Suggested(suggest_customers(self.app.engine(), self.sale_id)))

    @on(Suggested)
    def show(self, event: Suggested) -> None:
        self._fill(event.customers, _("No POS customer shares this email or phone"))

    def _fill(self, customers: list[tuple], empty: str) -> None:
        options = self.query_one("#customer-options", OptionList)
        options.clear_options()
        for customer_id, name, email, phone in customers:
            options.add_option(Option(plain(f"{name}  {email or ''}  {phone or ''}"), id=str(customer_id)))
        if not customers:
            options.add_option(Option(plain(empty), disabled=True))
        else:
            options.highlighted = 0

    @on(Input.Changed, "#customer-search")
    def search(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.find(event.value)
        else:
            self.suggest()

    @on(Input.Submitted, "#customer-search")
    def to_results(self) -> None:
        self.query_one("#customer-options", OptionList).focus()

    def key_down(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#customer-options", OptionList).focus()

    @work(thread=True, exclusive=True, group="customer-search", exit_on_error=False)
    def find(self, text: str) -> None:
        from core.customers import search_customers

        self.post_message(self.Found(search_customers(self.app.engine(), text), text))

    @on(Found)
    def found(self, event: Found) -> None:
        if event.searched == self.query_one("#customer-search", Input).value:
            self._fill(event.customers, _("No POS customer matches “{search}”").format(search=event.searched.strip()))

    @on(OptionList.OptionSelected)
    def link(self, event: OptionList.OptionSelected) -> None:
        self.write(int(event.option.id))

    def action_create(self) -> None:
        self.write(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing in the search box, `c` is a letter of a name, not "create".
        if action == "create" and isinstance(self.focused, Input):
            return False
        return True

    @work(thread=True, exit_on_error=False)
    def write(self, customer_id: int | None) -> None:
        from core.audit import current_actor
        from core.customers import create_customer_from_sale, link_customer
        from core.sales import SaleError

        try:
            if customer_id is None:
                create_customer_from_sale(self.app.engine(), self.sale_id, current_actor(), self.version)
                self.post_message(self.Saved(_("POS customer created from the web sale.")))
            else:
                link_customer(self.app.engine(), self.sale_id, customer_id, current_actor(), self.version)
                self.post_message(self.Saved(_("POS customer linked.")))
        except SaleError as exc:
            self.post_message(self.Saved(_("Not saved: {reason}.").format(reason=exc), warning=True))

    @on(Saved)
    def saved(self, event: Saved) -> None:
        self.app.notify(event.text, severity="warning" if event.warning else "information")
        self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
