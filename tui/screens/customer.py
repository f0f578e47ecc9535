"""The POS customer of a web sale: link one suggested by email or phone, or create one. The web
sale's own customer data is never written over."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.failures import ReportsFailures


class CustomerScreen(ReportsFailures, ModalScreen):
    BINDINGS = [
        Binding("c", "create", "Create from sale", id="customer.create"),
        Binding("escape", "dismiss_none", "Close", id="customer.close"),
    ]

    class Suggested(Message):
        def __init__(self, customers: list[tuple]):
            super().__init__()
            self.customers = customers

    class Saved(Message):
        def __init__(self, text: str, warning: bool = False):
            super().__init__()
            self.text, self.warning = text, warning

    def __init__(self, sale_id: int, version: int):
        super().__init__()
        self.sale_id, self.version = sale_id, version

    def compose(self) -> ComposeResult:
        with Vertical(id="customer"):
            yield Static("[b]POS customer for this sale[/b] — suggestions share its email or phone")
            yield OptionList(id="customer-options")
            yield Static("Enter link the highlighted one · c create from the web sale · Esc close", id="customer-hint")

    def on_mount(self) -> None:
        self.suggest()

    @work(thread=True, exit_on_error=False)
    def suggest(self) -> None:
        from core.sales import suggest_customers

        self.post_message(self.Suggested(suggest_customers(self.app.engine(), self.sale_id)))

    @on(Suggested)
    def show(self, event: Suggested) -> None:
        options = self.query_one("#customer-options", OptionList)
        options.clear_options()
        for customer_id, name, email, phone in event.customers:
            options.add_option(Option(f"{name}  {email or ''}  {phone or ''}", id=str(customer_id)))
        if not event.customers:
            options.add_option(Option("No POS customer shares this email or phone", disabled=True))
        else:
            options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def link(self, event: OptionList.OptionSelected) -> None:
        self.write(int(event.option.id))

    def action_create(self) -> None:
        self.write(None)

    @work(thread=True, exit_on_error=False)
    def write(self, customer_id: int | None) -> None:
        from core.audit import current_actor
        from core.sales import SaleError, create_customer_from_sale, link_customer

        try:
            if customer_id is None:
                create_customer_from_sale(self.app.engine(), self.sale_id, current_actor(), self.version)
                self.post_message(self.Saved("POS customer created from the web sale."))
            else:
                link_customer(self.app.engine(), self.sale_id, customer_id, current_actor(), self.version)
                self.post_message(self.Saved("POS customer linked."))
        except SaleError as exc:
            self.post_message(self.Saved(f"Not saved: {exc}.", warning=True))

    @on(Saved)
    def saved(self, event: Saved) -> None:
        self.app.notify(event.text, severity="warning" if event.warning else "information")
        self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
