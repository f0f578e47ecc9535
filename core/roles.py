"""Who may do what: each action Tandem offers, and the least role that may do it alone.

A cashier runs the counter: the inbox, pickups, shipped sales, gift cards, the match resolver's
suggestions, and returns up to the refund limit in the settings. A manager also cancels sales,
refunds beyond the limit, edits tax rates, undoes a match on a completed sale, and changes
locations, payment types, gift-card balances, supplier documents and the catalog. The owner also
manages staff and the web stores. A cashier's manager action is done with a manager's approval,
for that one action (core.staff.approve); the audit names both people.

Every core operation asks `require` first, so the console, the command line, the tests and every
terminal meet the same rule; a screen only hides what `allowed` says no to.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from core.i18n import N_, _

log = logging.getLogger(__name__)

CASHIER, MANAGER, OWNER = "cashier", "manager", "owner"
ROLES = (CASHIER, MANAGER, OWNER)
RANK = {CASHIER: 1, MANAGER: 2, OWNER: 3}
ROLE_WORDS = {CASHIER: N_("cashier"), MANAGER: N_("manager"), OWNER: N_("owner")}
DEFAULT_REFUND_LIMIT = Decimal("100.00")  # a cashier's largest refund without a manager, unless set

# The table: action -> (the least role that does it alone, what it is, in the shop's words).
NEEDS: dict[str, tuple[str, str]] = {
    "sale.pickup": (CASHIER, N_("complete a pickup")),
    "sale.shipped": (CASHIER, N_("complete a shipped sale")),
    "sale.gift_card": (CASHIER, N_("issue a gift card")),
    "sale.customer": (CASHIER, N_("link or create the customer")),
    "sale.line_product": (CASHIER, N_("choose a line's product")),
    "sale.supplier_hold": (CASHIER, N_("decide who ships a supplier-tagged sale")),
    "match.decide": (CASHIER, N_("link a web listing, or mark it not sold online")),
    "match.undo": (CASHIER, N_("undo a match")),
    "match.undo_completed": (MANAGER, N_("undo a match on a completed sale")),
    "return.post": (CASHIER, N_("post a return")),
    "return.over_limit": (MANAGER, N_("post a refund over the cashier's limit")),
    "return.tax_rate": (MANAGER, N_("change a tax rate on a return")),
    "sale.cancel": (MANAGER, N_("cancel a sale")),
    "payment_type.edit": (MANAGER, N_("change payment types")),
    "gift_card.balance": (MANAGER, N_("record a gift card's balance")),
    "locations.change": (MANAGER, N_("add, rename or retire a location")),
    "supplier.change": (MANAGER, N_("record supplier documents, switch supplier fulfilment")),
    "catalog.import": (MANAGER, N_("import the catalog")),
    "rules.change": (MANAGER, N_("change a web store's rules (safety stock, in store only, prices)")),
    "sale.held_back": (MANAGER, N_("let a web order take units a rule holds back")),
    "sync.run": (CASHIER, N_("sync the web stores")),
    "staff.manage": (OWNER, N_("manage staff")),
    "channels.manage": (OWNER, N_("change web stores and their credentials")),
    "database.restore": (OWNER, N_("restore the database from a backup")),
}


_refund_limit = DEFAULT_REFUND_LIMIT


def _nobody():
    from core.audit import Actor

    return Actor("nobody", role="none")  # may do nothing: not yet known who is at the console


NOBODY = _nobody()


def set_refund_limit(amount: Decimal | None) -> None:
    """The settings' `[staff] cashier_refund_limit`, read once at start."""
    global _refund_limit
    _refund_limit = DEFAULT_REFUND_LIMIT if amount is None else Decimal(amount)


def refund_limit() -> Decimal:
    return _refund_limit


class NotAllowed(Exception):
    """The person's role does not allow this action, and no manager approved it."""

    def __init__(self, action: str, actor):
        self.action, self.actor = action, actor
        needed, what = NEEDS[action]
        super().__init__(_("{person} ({role}) may not {what}: it needs a {needed}'s approval").format(
            person=actor.user, role=_(ROLE_WORDS.get(actor.role, actor.role)), what=_(what),
            needed=_(ROLE_WORDS[needed])))

    @property
    def approvable(self) -> bool:
        """A manager (or the owner) can approve it at the counter: not the owner's own actions."""
        return NEEDS[self.action][0] != OWNER


def allowed_alone(role: str, action: str) -> bool:
    return RANK.get(role, 0) >= RANK[NEEDS[action][0]]


def allowed(actor, action: str) -> bool:
    """The actor may do it: alone, or with the approval this actor carries for it."""
    if allowed_alone(actor.role, action):
        return True
    return bool(actor.approved_by and actor.approver_role and actor.approved_for == action
                and NEEDS[action][0] != OWNER and allowed_alone(actor.approver_role, action))


def require(actor, action: str) -> None:
    if action not in NEEDS:
        raise KeyError(action)
    if not allowed(actor, action):
        log.warning("refused: %s may not %s", actor, action)
        raise NotAllowed(action, actor)


def role_lines() -> list[str]:
    """What `tandem --roles` prints and the README shows: by role, what it may do alone."""
    lines = []
    for role in ROLES:
        lines.append(_("{role} (alone):").format(role=_(ROLE_WORDS[role])))
        lines += [f"    {_(what)}" for _action, (needed, what) in NEEDS.items() if needed == role]
    return [*lines, _("A manager may also do all a cashier may, and the owner all a manager may. A cashier's manager "
                      "action is done with a manager's name and PIN at the same terminal."),
            _("A cashier refunds up to {limit} alone ([staff] cashier_refund_limit).").format(limit=refund_limit())]
