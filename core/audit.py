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
