"""The shop's staff: who they are, their role, their PIN, and a manager's approval at the counter.

PINs are stored as argon2id hashes (argon2-cffi), never logged or shown. Five wrong PINs in a row
lock that person's PIN for 15 minutes; the right PIN after that clears the count. A person retired
keeps their row, so the audit still names them, but can neither log in nor approve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, func, insert, select, update

from core.audit import Actor, record
from core.authorized_keys import STAFF_NAME
from core.dbtypes import utcnow
from core.i18n import _
from core.models import Staff
from core.roles import OWNER, ROLE_WORDS, ROLES, allowed_alone, require

MAX_WRONG_PINS = 5
LOCKED_FOR = timedelta(minutes=15)
SHORTEST_PIN, LONGEST_PIN = 4, 32
def production_hasher() -> PasswordHasher:
    """argon2id with the library's current parameters (RFC 9106's second recommendation)."""
    return PasswordHasher()


_hasher = production_hasher()
staff_table = Staff.__table__


class StaffError(Exception):
    """Something about staff that the person at the keyboard can fix; said in plain words."""


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    active: bool
    has_pin: bool
    locked_until: datetime | None
    added_at: datetime
    added_by: str


def _valid_name(name: str) -> str:
    if not STAFF_NAME.match(name or ""):  # it goes into an SSH forced command
        raise StaffError(_("a staff name is 1 to 32 letters, digits, dots, dashes or underscores, starting with a "
                           "letter or digit: {name} is not").format(name=repr(name)))
    return name


def _row(conn, name: str):
    return conn.execute(select(staff_table).where(func.lower(staff_table.c.name) == name.lower())).first()


def any_staff(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(staff_table)
                            .where(staff_table.c.active.is_(True))).scalar() > 0


def add_staff(engine: Engine, name: str, role: str, actor: Actor) -> None:
    """A new person; the very first one must be an owner, and may be added by anyone at the machine."""
    _valid_name(name)
    if role not in ROLES:
        raise StaffError(_("a role is one of {roles}").format(roles=", ".join(ROLES)))
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(staff_table)).scalar():
            require(actor, "staff.manage")
        elif role != OWNER:
            raise StaffError(_("the first person added is the owner (--role owner), who then adds the others"))
        if _row(conn, name) is not None:
            raise StaffError(_("{name} is already on the staff list (tandem --list-staff)").format(name=name))
        conn.execute(insert(staff_table).values(name=name, role=role, active=True, failed_pins=0, added_at=utcnow(),
                                                added_by=actor.user))
        record(conn, actor, "staff_added", "staff", name, "role", None, role)


def change_role(engine: Engine, name: str, role: str, actor: Actor) -> None:
    require(actor, "staff.manage")
    if role not in ROLES:
        raise StaffError(_("a role is one of {roles}").format(roles=", ".join(ROLES)))
    with engine.begin() as conn:
        row = _existing(conn, name)
        _keep_an_owner(conn, row, role)
        conn.execute(update(staff_table).where(staff_table.c.id == row.id).values(
            role=role, changed_at=utcnow(), changed_by=actor.user))
        record(conn, actor, "staff_role", "staff", row.name, "role", row.role, role)


def retire_staff(engine: Engine, name: str, actor: Actor) -> None:
    require(actor, "staff.manage")
    with engine.begin() as conn:
        row = _existing(conn, name)
        _keep_an_owner(conn, row, None)
        conn.execute(update(staff_table).where(staff_table.c.id == row.id).values(
            active=False, changed_at=utcnow(), changed_by=actor.user))
        record(conn, actor, "staff_retired", "staff", row.name, "active", True, False)


def _existing(conn, name: str):
    row = _row(conn, name)
    if row is None or not row.active:
        raise StaffError(_("nobody called {name} works here (tandem --list-staff)").format(name=repr(name)))
    return row


def _keep_an_owner(conn, row, new_role: str | None) -> None:
    """The last active owner can be neither retired nor made something else: nobody could manage staff."""
    if row.role != OWNER or new_role == OWNER:
        return
    owners = conn.execute(select(func.count()).select_from(staff_table).where(
        staff_table.c.role == OWNER, staff_table.c.active.is_(True))).scalar()
    if owners <= 1:
        raise StaffError(_("{name} is the only owner: add another owner first").format(name=row.name))


def set_pin(engine: Engine, name: str, pin: str, actor: Actor) -> None:
    """A person sets their own PIN; the owner sets anyone's."""
    if actor.user.lower() != name.lower():
        require(actor, "staff.manage")
    if not (SHORTEST_PIN <= len(pin) <= LONGEST_PIN) or not pin.isdigit():
        raise StaffError(_("a PIN is {shortest} to {longest} digits").format(shortest=SHORTEST_PIN,
                                                                              longest=LONGEST_PIN))
    with engine.begin() as conn:
        row = _existing(conn, name)
        conn.execute(update(staff_table).where(staff_table.c.id == row.id).values(
            pin_hash=_hasher.hash(pin), failed_pins=0, locked_until=None, changed_at=utcnow(), changed_by=actor.user))
        record(conn, actor, "staff_pin", "staff", row.name, note=_("PIN set"))


def list_staff(engine: Engine) -> list[Person]:
    with engine.connect() as conn:
        rows = conn.execute(select(staff_table).order_by(staff_table.c.active.desc(), staff_table.c.name)).all()
    return [Person(row.name, row.role, row.active, bool(row.pin_hash), row.locked_until, row.added_at, row.added_by)
            for row in rows]


def actor_for(engine: Engine, name: str, client: str | None = None) -> Actor:
    """The person `name` acting at this terminal (their role from the staff list)."""
    with engine.connect() as conn:
        row = _existing(conn, name)
    return Actor(row.name, client, role=row.role)


def still_here(engine: Engine, actor: Actor) -> Actor | None:
    """`actor` as the staff list has them now (a role changed), or None once they are retired."""
    with engine.connect() as conn:
        row = _row(conn, actor.user)
    if row is None or not row.active:
        return None
    return actor if row.role == actor.role else Actor(row.name, actor.client, role=row.role)


def check_pin(engine: Engine, name: str, pin: str, now: datetime | None = None) -> Actor:
    """The person, if `pin` is theirs. Five wrong PINs in a row lock their PIN for 15 minutes."""
    now = now or utcnow()
    refused: str | None = None
    with engine.begin() as conn:  # a wrong try is counted and committed before it is refused
        # The person's row is locked (PostgreSQL) so tries made at once are all counted.
        row = conn.execute(select(staff_table).where(func.lower(staff_table.c.name) == name.lower())
                           .with_for_update()).first()
        if row is None or not row.active or not row.pin_hash:
            _hasher.hash(pin)  # the same time spent whether or not the name exists
            refused = _("that name and PIN do not match")
        elif row.locked_until is not None and row.locked_until > now:
            refused = _("{name}'s PIN is locked after {count} wrong tries, until {time} UTC").format(
                name=row.name, count=MAX_WRONG_PINS, time=row.locked_until.strftime("%H:%M"))
        elif not _matches(row.pin_hash, pin):
            failed = conn.execute(update(staff_table).where(staff_table.c.id == row.id)
                                  .values(failed_pins=staff_table.c.failed_pins + 1)
                                  .returning(staff_table.c.failed_pins)).scalar_one()
            locked = now + LOCKED_FOR if failed >= MAX_WRONG_PINS else None
            if locked:  # the count starts again after a lock
                conn.execute(update(staff_table).where(staff_table.c.id == row.id).values(
                    failed_pins=0, locked_until=locked))
            if locked:
                record(conn, Actor(row.name, role=row.role), "staff_pin_locked", "staff", row.name, "locked_until",
                       None, locked.isoformat())
            refused = _("that name and PIN do not match")
        elif row.failed_pins or row.locked_until:
            conn.execute(update(staff_table).where(staff_table.c.id == row.id).values(failed_pins=0, locked_until=None))
    if refused:
        raise StaffError(refused)
    return Actor(row.name, role=row.role)


def _matches(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def approve(engine: Engine, actor: Actor, action: str, approver: str, pin: str, now: datetime | None = None) -> Actor:
    """`actor`, approved for `action` by `approver` (a manager or the owner, not the actor), once."""
    person = check_pin(engine, approver, pin, now)
    if person.user.lower() == actor.user.lower():
        raise StaffError(_("someone else must approve: {name} cannot approve their own action").format(
            name=person.user))
    if not allowed_alone(person.role, action):
        raise StaffError(_("{name} is a {role}: a manager or the owner must approve").format(
            name=person.user, role=_(ROLE_WORDS[person.role])))
    return actor.approved(person.user, person.role, action)

