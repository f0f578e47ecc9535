"""Who is at the keyboard, for the audit log: the OS user and, over SSH, the client address."""

from __future__ import annotations

from core.i18n import N_, _

import getpass
import os
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Actor:
    user: str
    client: str | None = None
    # What this actor may do alone (core.roles). A person's comes from the staff table; the
    # machine's own account at a shell (which installs and runs Tandem) is the owner.
    role: str = "owner"
    approved_by: str | None = None  # the manager who approved this one action
    approver_role: str | None = None
    approved_for: str | None = None  # that action (core.roles), and no other

    def __str__(self) -> str:
        return f"{self.user}@{self.client}" if self.client else self.user

    def approved(self, name: str, role: str, action: str) -> Actor:
        return replace(self, approved_by=name, approver_role=role, approved_for=action)


# Headless runs (`--sync`, `--watch`) act as the service, never as a person.
SERVICE = Actor("tandem service", role="owner")
_session: Actor | None = None


def set_session_actor(actor: Actor | None) -> None:
    """Who this process acts as: a person (`tandem --staff NAME`), or the service."""
    global _session
    _session = actor


def session_actor() -> Actor | None:
    """The person (or service) this process was started as, if any."""
    return _session


def current_actor(environ: dict[str, str] | None = None) -> Actor:
    if _session is not None and environ is None:
        return _session
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
        entity_id=text(entity_id), field=field, old_value=text(old), new_value=text(new), note=note,
        approved_by=actor.approved_by))


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
    "location_restored": N_("put a location back in use"),
    "sync_requested": N_("asked the live sync to sync a store now"),
    "staff_added": N_("added a member of staff"),
    "staff_role": N_("changed a role"),
    "staff_retired": N_("retired a member of staff"),
    "staff_pin": N_("set a PIN"),
    "staff_pin_locked": N_("locked a PIN after wrong tries"),
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


@dataclass(frozen=True)
class Entry:
    at: object
    actor: str
    client: str | None
    approved_by: str | None
    action: str
    entity: str
    entity_id: str | None
    field: str | None
    old: str | None
    new: str | None
    note: str | None

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "actor": self.actor, "client": self.client,
                "approved_by": self.approved_by, "action": self.action, "entity": self.entity,
                "entity_id": self.entity_id, "field": self.field, "old": self.old, "new": self.new, "note": self.note}

    def line(self) -> str:
        from core.plaintext import visible
        from core.shoptime import local

        approval = _("(approved by {name})").format(name=self.approved_by) if self.approved_by else ""
        who = f"{self.actor} {approval}".strip()
        what = f"{self.entity} {self.entity_id or ''}".strip()
        change = f" {self.field}: {self.old} → {self.new}" if self.field else ""
        note = f" — {self.note}" if self.note else ""
        return visible(f"{local(self.at):%Y-%m-%d %H:%M}  {who}  {_(ACTION_WORDS.get(self.action, self.action))}  "
                       f"{what}{change}{note}")


def audit_entries(engine, since=None, person: str | None = None, limit: int | None = None) -> list[Entry]:
    """The audit log, oldest first: from `since` (a date, the shop's day), by or approved by `person`."""
    from datetime import datetime, time

    from sqlalchemy import func, or_, select

    from core.models import AuditEntry
    from core.shoptime import shop_zone

    table = AuditEntry.__table__
    query = select(table).order_by(table.c.at, table.c.id)
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=shop_zone())
        query = query.where(table.c.at >= start)
    if person:
        query = query.where(or_(func.lower(table.c.actor) == person.lower(),
                                func.lower(table.c.approved_by) == person.lower()))
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Entry(row.at, row.actor, row.client, row.approved_by, row.action, row.entity, row.entity_id, row.field,
                  row.old_value, row.new_value, row.note) for row in rows]
