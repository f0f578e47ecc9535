"""The Shopify access scopes Tandem needs, by feature: the one list that `tandem --scopes`, the
README and `tandem --check` all read. A write scope also grants reading the same data (Shopify's
rule), so only the write scope is listed where Tandem writes."""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import N_, _


@dataclass(frozen=True)
class Scope:
    handle: str
    features: tuple[str, ...]  # what stops working without it (msgids)
    why: str  # what Tandem does with it (a msgid)


SCOPES = (
    Scope("write_products", (N_("catalog export"),),
          N_("reads the listings and their part-number metafield; sets prices; unpublishes what is sold in store only")),
    Scope("write_inventory", (N_("catalog export"), N_("several locations")),
          N_("sets the quantity available at each store location")),
    Scope("read_locations", (N_("several locations"), N_("pickups")),
          N_("reads the store locations stock goes to and customers collect at")),
    Scope("write_orders", (N_("orders"), N_("captures"), N_("refunds"), N_("gift cards"), N_("supplier orders")),
          N_("reads web sales, captures their payment, refunds returns, cancels")),
    Scope("read_all_orders", (N_("old returns"),),
          N_("reads orders older than 60 days, to refund a return of an older sale")),
    Scope("write_merchant_managed_fulfillment_orders", (N_("pickups"), N_("orders")),
          N_("sees where a pickup order is collected; marks orders picked up or shipped")),
)
HANDLES = tuple(scope.handle for scope in SCOPES)
BY_HANDLE = {scope.handle: scope for scope in SCOPES}


def covered(handle: str, granted: set[str]) -> bool:
    """Whether `granted` gives `handle`: the scope itself, or the write scope of the same data."""
    return handle in granted or (handle.startswith("read_") and "write_" + handle[len("read_"):] in granted)


def missing(granted: set[str]) -> list[Scope]:
    return [scope for scope in SCOPES if not covered(scope.handle, granted)]


def blocks(scope: Scope) -> str:
    """The features a missing scope stops, in the shop's words."""
    return ", ".join(_(feature) for feature in scope.features)


def scope_lines() -> list[str]:
    """What `tandem --scopes` prints and the README shows: each scope with the features it serves
    and what Tandem does with it, then all of them in one line, as the Dev Dashboard takes them."""
    lines = []
    for scope in SCOPES:
        lines += [f"{scope.handle}  ({blocks(scope)})", f"    {_(scope.why)}"]
    return [*lines, "", _("all, comma-separated: {handles}").format(handles=",".join(HANDLES))]
