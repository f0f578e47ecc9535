"""One web sale: its lines, payment, customer and history, and what staff can do with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header

from core.audit import action_words
from core.i18n import N_, _, amount, money, rate
from core.payment_types import shown_words
from core.roles import NotAllowed
from core.shoptime import shown
from tui.actions import ForThisPerson, bindings, hint, key
from tui.dialogs.approval import run_approved
from tui.failures import ReportsFailures
from tui.widgets.fitted_table import Col, FittedTable
from tui.widgets.key_bar import KeyBar
from tui.plain import sentence, styled
from tui.widgets.line import Line

if TYPE_CHECKING:
    from core.inbox import SaleDetail


LINE_COLUMNS = [Col(N_("Line"), 30, grow=3, fit=True), Col(Text(N_("Qty"), justify="right"), 3),
                Col(Text(N_("Price"), justify="right"), 8, whole=True), Col(Text(N_("Tax %"), justify="right"), 6),
                Col(N_("Shop product"), 20, grow=1)]


class SaleScreen(ForThisPerson, ReportsFailures, Screen):
    HELP_CONTEXT = "sale"  # which FAQ entries F1 opens on
    BINDINGS = bindings("sale")
    # Each action is offered only while the sale's state allows it (core.inbox.sale_actions).
    ACTION_NEEDS = {"pickup": "pickup", "shipped": "ship", "gift_card": "gift_card", "resolve": "match",
                    "undo_match": "undo_match", "customer": "customer", "cancel_sale": "cancel", "repick": "repick",
                    "shop_ships": "decide_supplier", "supplier_ships": "decide_supplier",
                    "accept_held_back": "accept_held_back"}

    class Loaded(Message):
        def __init__(self, detail: SaleDetail):
            super().__init__()
            self.detail = detail

    class Done(Message):
        def __init__(self, text: str, warning: bool = False):
            super().__init__()
            self.text, self.warning = text, warning

    def __init__(self, sale_id: int):
        super().__init__()
        self.sale_id = sale_id
        self.detail: SaleDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Line("", id="sale-summary")
        yield FittedTable(LINE_COLUMNS, id="sale-lines")
        yield Line("", id="sale-payment")
        yield Line("", id="sale-history")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#sale-lines", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.load()

    def refresh_from_database(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = self.ACTION_NEEDS.get(action)
        if needs is None:
            return True
        if action == "repick":  # m when no line waits for a product
            return self.detail is not None and "repick" in self.detail.actions and "match" not in self.detail.actions
        return self.detail is not None and needs in self.detail.actions

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale")
    def load(self) -> None:
        from core.inbox import sale_detail

        self.post_message(self.Loaded(sale_detail(self.app.engine(), self.sale_id)))

    @on(Loaded)
    def show(self, event: Loaded) -> None:
        self.detail = d = event.detail
        s, row = d.sale, d.row
        self.sub_title = _("Sale {number}").format(number=s.order_number)
        contact = " · ".join(part for part in (s.customer_email, s.customer_phone) if part)
        pos = (_("POS customer: {name}").format(name=d.pos_customer) if d.pos_customer
               else _("no POS customer linked ({key})").format(key=key("sale.customer")) if "customer" in d.actions
               else _("no POS customer linked"))
        problem = (styled("\n" + _("[b]Capture failed:[/b] {reason}"), reason=s.capture_error)
                   if s.capture_error and s.state == "capture_failed" else Content(""))
        if s.hold_reason and s.state == "held":
            problem = styled("\n" + _("[b]Held for a person:[/b] {reason}") + " ({keys})", reason=s.hold_reason,
                             keys=hint(("sale.shop-ships", _("we ship it")), ("sale.supplier-ships", _("supplier ships"))))
        if s.held_back_reason:
            problem = styled("\n" + _("[b]Held back by a web-store rule:[/b] {reason}") + " ({keys})",
                             reason=s.held_back_reason, keys=hint(("sale.accept-held-back", _("accept")),
                                                                  ("sale.cancel", _("cancel"))))
        # Where its units are (a pickup: the shop the customer chose), so a second shop's sale is not
        # picked up at the first.
        where = "  ·  " + _("at {location}").format(location=d.location) if d.location else ""
        self.query_one("#sale-summary", Line).update(styled(
            "[b]{number}[/b]  {status}  ·  {channel}{where}  ·  {ordered}\n{name}  {contact}  ·  {pos}",
            number=s.order_number, status=row.status, channel=d.channel, where=where,
            ordered=shown(s.ordered_at, '%d %b %H:%M'), name=s.customer_name or _('no name'), contact=contact,
            pos=pos) + problem)
        rows = []
        for line in d.lines:
            if line.sku is None:
                product = Text(_("needs match ({key})").format(key=key("sale.match")), style="bold")
            elif line.gift_card_placeholder:
                product = Text((_("card {number} (voided)") if line.card_voided else _("card {number}")).format(
                               number=line.gift_card) if line.gift_card
                               else _("issue gift card ({key})").format(key=key("sale.gift-card")),
                               style="" if line.gift_card else "bold")
            else:
                product = line.sku
            rows.append((str(line.id), [line.title, Text(str(line.quantity), justify="right"),
                                        Text(amount(line.unit_price), justify="right"),
                                        Text(rate(line.tax_rate), justify="right"), product]))
        self.query_one("#sale-lines", FittedTable).set_rows(rows)
        paid = "; ".join(f"{shown_words(name)} ({shown_words(account)}) {money(paid_amount)}" + (_(" captured elsewhere") if elsewhere else "")
                         for name, account, paid_amount, _kind, elsewhere in d.payments)
        shipping = _(" · shipping {amount}").format(amount=money(s.shipping_charged)) if s.shipping_charged else ""
        money_now = (_("paid: {payments}").format(payments=paid) if paid
                     else _("cancelled: nothing was captured") if s.state == "cancelled"
                     else _("authorised {amount}").format(amount=money(s.authorized_amount)) + " · "
                     + _("not captured yet"))
        self.query_one("#sale-payment", Line).update(
            _("Total {total}").format(total=money(s.total)) + shipping + " · " + money_now)
        history = [f"{shown(at)} {actor} {action_words(action)}"
                   + (" " + _("(approved by {name})").format(name=approver) if approver else "")
                   for at, actor, action, _detail, approver in d.history[-2:]]
        self.query_one("#sale-history", Line).update(
            _("History: {events}").format(events="; ".join(history) if history else _("imported")))
        self.refresh_bindings()

    def _line(self):
        table = self.query_one("#sale-lines", DataTable)
        if not self.detail or not self.detail.lines:
            return None
        return self.detail.lines[min(table.cursor_row, len(self.detail.lines) - 1)]

    def action_pickup(self) -> None:
        from tui.dialogs.pickup import PickupScreen

        if self.detail:
            self.app.push_screen(PickupScreen(self.detail.sale.order_number, self.detail.sale.authorized_amount,
                                              captured_by_store=self.detail.captured_by_store),
                                 self._pickup_confirmed)

    def _pickup_confirmed(self, checks) -> None:
        if checks is not None:
            self.complete(checks, True)

    def action_shipped(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        if self.detail:
            sale = self.detail.sale
            self.app.push_screen(ConfirmScreen(_("Sale {number} has left the shop? Its payment of {amount} is captured "
                                                 "and the sale completed.").format(
                                                     number=sale.order_number, amount=money(sale.authorized_amount))),
                                 lambda yes: yes and self.complete(None, False))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def complete(self, checks, pickup: bool) -> None:
        from core.audit import current_actor
        from core.pickup import complete_with_store
        from core.sales import SaleError

        settings = getattr(self.app, "settings", None)
        try:
            text = complete_with_store(self.app.engine(), self.sale_id, current_actor(), self.detail.sale.version,
                                       secrets_path=settings.secrets_file if settings else None,
                                       checks=checks, pickup=pickup)
        except SaleError as exc:
            self.post_message(self.Done(_("Not completed: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(text))

    def action_gift_card(self) -> None:
        from tui.dialogs.gift_card import GiftCardScreen

        line = self._line()
        if line is None or not line.gift_card_placeholder or line.gift_card:
            self.notify(_("Put the cursor on a gift card line still to issue."), timeout=3)
            return
        self.app.push_screen(GiftCardScreen(line.unit_price * line.quantity),
                             lambda number: number and self.issue(line.id, number))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def issue(self, line_id: int, number: str) -> None:
        from core.audit import current_actor
        from core.gift_cards import issue_gift_card
        from core.sales import SaleError

        try:
            issued = issue_gift_card(self.app.engine(), line_id, number, current_actor())
        except SaleError as exc:
            self.post_message(self.Done(_("Not issued: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(_("Gift card {number} issued for {amount}.").format(
                number=number, amount=money(issued))))

    def action_resolve(self) -> None:
        from tui.screens.catalog import CatalogScreen
        from tui.screens.resolver import ResolverScreen

        line = self._line()
        if line is None or line.gift_card or not (line.needs_product or "repick" in self.detail.actions):
            self.notify(_("Put the cursor on a line that needs a match, or whose product to change."), timeout=3)
            return
        if line.needs_product and line.in_resolver:
            self.app.push_screen(ResolverScreen(only_listing=line.listing_id))
        else:
            # The listing was decided (not sold online, say), there is none, or the product picked
            # was the wrong one: choose this line's product.
            self.app.push_screen(CatalogScreen(pick_for=line.title, location_id=self.detail.sale.location_id),
                                 lambda product_id: product_id and self.put_on_product(line.id, product_id))

    def action_repick(self) -> None:
        self.action_resolve()

    class PriceAsked(Message):
        def __init__(self, line_id: int, product_id: int, question: str):
            super().__init__()
            self.line_id, self.product_id, self.question = line_id, product_id, question

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def put_on_product(self, line_id: int, product_id: int, price_confirmed: bool = False) -> None:
        from core.audit import current_actor
        from core.sales import PriceDiffers, SaleError, change_line_product

        try:
            picked = change_line_product(self.app.engine(), line_id, product_id, current_actor(),
                                         price_confirmed=price_confirmed)
        except PriceDiffers as differs:
            self.post_message(self.PriceAsked(line_id, product_id, _("{reason}. Put the line on {sku} all the same?")
                                              .format(reason=sentence(differs), sku=differs.sku)))
        except SaleError as exc:
            self.post_message(self.Done(_("Not changed: {reason}.").format(reason=exc), warning=True))
        else:
            if picked.short_at:
                self.post_message(self.Done(_("The line is now {sku}, but {location} has no unit of it free: its "
                                              "unit is promised to this sale all the same. Check the shelf, or move "
                                              "one there.").format(sku=picked.sku, location=picked.short_at),
                                            warning=True))
            else:
                self.post_message(self.Done(_("The line is now {sku}.").format(sku=picked.sku)))

    @on(PriceAsked)
    def ask_about_price(self, event: PriceAsked) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(event.question),
                             lambda yes: yes and self.put_on_product(event.line_id, event.product_id, True))

    def action_undo_match(self) -> None:
        line = self._line()
        undoable = [l for l in self.detail.lines if (l.product_by_hand or l.manual_link and l.listing_id)
                    and l.stock_state != "sold"]
        if line not in undoable:
            if len(undoable) != 1:
                self.notify(_("Put the cursor on a line whose match a person made."), timeout=3)
                return
            line = undoable[0]
        if line.product_by_hand:
            self.undo_line(line.id)  # what the person did on this sale: the line's own product
        else:
            self.undo_match(line.listing_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def undo_line(self, line_id: int) -> None:
        from core.audit import current_actor
        from core.sales import SaleError, undo_line_product

        try:
            text = undo_line_product(self.app.engine(), line_id, current_actor())
        except SaleError as exc:
            self.post_message(self.Done(_("Not undone: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def undo_match(self, listing_id: int, actor=None) -> None:
        from core.audit import current_actor
        from core.resolver import ResolveError, unlink_listing

        try:
            text = unlink_listing(self.app.engine(), listing_id, actor or current_actor())
        except NotAllowed as exc:
            self.app.call_from_thread(run_approved, self, exc.action, lambda approved: self.undo_match(listing_id,
                                                                                                      approved))
        except ResolveError as exc:
            self.post_message(self.Done(_("Not undone: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(text))

    def action_customer(self) -> None:
        from tui.dialogs.customer import CustomerScreen

        if self.detail:
            self.app.push_screen(CustomerScreen(self.sale_id, self.detail.sale.version))

    def action_cancel_sale(self) -> None:
        if self.detail:
            run_approved(self, "sale.cancel", self._confirm_cancel,
                         _("cancel sale {number}").format(number=self.detail.sale.order_number))

    def _confirm_cancel(self, actor) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        from core.pickup import CANCEL_OUTCOMES

        web = _(CANCEL_OUTCOMES.get(self.detail.platform, ""))
        cards = "".join(" " + _("Gift card {number} is voided: take the card back.").format(number=line.gift_card)
                        for line in self.detail.lines if line.gift_card)
        self.app.push_screen(ConfirmScreen(_("Cancel sale {number}? Its units go back to available stock.").format(
            number=self.detail.sale.order_number) + cards + (" " + web if web else "")),
            lambda yes: yes and self.cancel(actor))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def cancel(self, actor) -> None:
        from core.pickup import cancel_with_store
        from core.sales import SaleError

        settings = getattr(self.app, "settings", None)
        try:
            outcome = cancel_with_store(self.app.engine(), self.sale_id, actor, self.detail.sale.version,
                                        secrets_path=settings.secrets_file if settings else None)
        except NotAllowed as exc:
            self.post_message(self.Done(str(exc), warning=True))
        except SaleError as exc:
            self.post_message(self.Done(_("Not cancelled: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(_("Sale cancelled.") + " " + outcome, warning=outcome.startswith(_("Cancelled here."))))

    def action_accept_held_back(self) -> None:
        if self.detail and self.detail.sale.held_back_reason:
            run_approved(self, "sale.held_back", self._confirm_held_back,
                         _("let sale {number} take units a rule holds back").format(
                             number=self.detail.sale.order_number))

    def _confirm_held_back(self, actor) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(_("Let sale {number} take its units anyway? {reason}").format(
            number=self.detail.sale.order_number, reason=self.detail.sale.held_back_reason)),
            lambda yes: yes and self.accept_held_back(actor))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def accept_held_back(self, actor) -> None:
        from core.roles import NotAllowed
        from core.sales import SaleError, accept_held_back

        try:
            accept_held_back(self.app.engine(), self.sale_id, actor, self.detail.sale.version)
        except (NotAllowed, SaleError) as exc:
            self.post_message(self.Done(_("Not changed: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(_("Accepted: its units are committed.")))

    def action_shop_ships(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        if self.detail:
            self.app.push_screen(ConfirmScreen(_("Ship sale {number} from the shop's own stock? Its units are committed "
                                                 "now.").format(number=self.detail.sale.order_number)),
                                 lambda yes: yes and self.decide(True))

    def action_supplier_ships(self) -> None:
        self.decide(False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sale-write")
    def decide(self, shop_ships: bool) -> None:
        from core.audit import current_actor
        from core.sales import SaleError
        from core.supplier import decide_supplier_hold

        try:
            text = decide_supplier_hold(self.app.engine(), self.sale_id, current_actor(), self.detail.sale.version,
                                        shop_ships=shop_ships)
        except SaleError as exc:
            self.post_message(self.Done(_("Not changed: {reason}.").format(reason=exc), warning=True))
        else:
            self.post_message(self.Done(text))

    @on(Done)
    def done(self, event: Done) -> None:
        self.notify(event.text, severity="warning" if event.warning else "information", timeout=12 if event.warning else 6)
        self.load()
