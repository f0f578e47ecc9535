"""Who is at the keyboard, for the audit log: the OS user and, over SSH, the client address."""

from __future__ import annotations

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
