"""One product on each web store: the shop's availability and price, the rule that changes them,
and what the store is sent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen

from tui.actions import bindings
from core.i18n import _, money
from tui.plain import styled
from tui.widgets.line import Line


class ProductWebScreen(ModalScreen):
    BINDINGS = bindings("product-web")

    def __init__(self, sku: str, views: list):
        super().__init__()
        self.sku, self.views = sku, views

    def compose(self) -> ComposeResult:
        with Vertical(id="product-web"):
            yield Line(styled("[b]{title}[/b]", title=_("{sku} on the web stores").format(sku=self.sku)))
            if not self.views:
                yield Line(_("Not linked on any web store."))
            for view in self.views:
                yield Line(styled("[b]{store}[/b]", store=view.channel))
                yield Line(_("quantity {shop} → {sent}").format(shop=view.pos_available, sent=view.quantity.value),
                           classes="product-web-value")
                yield Line(view.quantity.rule, classes="product-web-rule")
                yield Line(_("price {shop} → {sent}").format(shop=money(view.shop_price), sent=money(view.price.value)),
                           classes="product-web-value")
                yield Line(view.price.rule, classes="product-web-rule")
            yield Line(_("shop → rule → store · Esc close"), id="product-web-hint")

    def action_close(self) -> None:
        self.dismiss(None)
