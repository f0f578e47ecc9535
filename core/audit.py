"""Who is at the keyboard, for the audit log: the OS user and, over SSH, the client address."""

from __future__ import annotations

from core.i18n import N_, _

import getpass
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user: str
    client: str | None = None

    def __str__(self) -> str:
        return f"{self.user}@{self.client}" if self.client else self.user


def current_actor(environ: dict[str, str] | None = None) -> Actor:
    env = os.environ if environ is None else environ
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid:{os.getuid()}"
    # SSH_CLIENT is "address port localport"; SSH_CONNECTION starts with the same address.
    ssh = env.get("SSH_CLIENT") or env.get("SSH_CONNECTION") or ""
    client = ssh.split()[0] if ssh.split() else None
    return Actor(user=user, client=client)


def record(conn, actor: Actor, action: str, entity: str, entity_id=None, field: str | None = None,
           old=None, new=None, note: str | None = None) -> None:
    """Write one audit entry (who, from where, what, old value -> new value) in the caller's transaction."""
    from sqlalchemy import insert

    from core.dbtypes import utcnow
    from core.models import AuditEntry

    def text(value):
        return None if value is None else str(value)

    conn.execute(insert(AuditEntry.__table__).values(
        at=utcnow(), actor=actor.user, client=actor.client, action=action, entity=entity,
        entity_id=text(entity_id), field=field, old_value=text(old), new_value=text(new), note=note))


# How a recorded action reads in a sale's history ("10:02 clerk refunded shipping").
ACTION_WORDS = {
    "abandon_return": N_("abandoned a return"),
    "add_payment_type": N_("added a payment type"),
    "cancel": N_("cancelled"),
    "cancel_on_website": N_("cancelled on the website"),
    "capture_failed": N_("capture failed"),
    "complete": N_("completed"),
    "complete_return": N_("refunded"),
    "create_customer": N_("created the customer"),
    "issue_gift_card": N_("issued the gift card"),
    "take_back_gift_card": N_("took money back from the gift card"),
    "gift_card_used_before_web_cancel": N_("cancelled on the web after its gift card was used"),
    "undo_line_product": N_("took back a line's product"),
    "redo_return": N_("redid a return from what was left"),
    "gift_card_spent": N_("recorded what is left on the gift card"),
    "line_product": N_("chose a line's product"),
    "link": N_("linked"),
    "link_customer": N_("linked the customer"),
    "location_added": N_("added a location"),
    "location_renamed": N_("renamed a location"),
    "location_retired": N_("retired a location"),
    "payment_type": N_("changed a payment type"),
    "restock": N_("changed a restock"),
    "shipping_refund": N_("refunded shipping"),
    "start_return": N_("started a return"),
    "supplier_document": N_("recorded a supplier document"),
    "supplier_fulfillment": N_("switched supplier fulfilment"),
    "supplier_hold_decided": N_("decided who ships"),
    "tax_rate": N_("changed a tax rate"),
    "unlink": N_("took back a link"),
    "website_refund": N_("refunded on the website"),
    "website_refund_failed": N_("website refund failed"),
}


def action_words(action: str) -> str:
    return _(ACTION_WORDS.get(action, action.replace("_", " ")))
