"""Staff and roles, in core: each manager action is refused to a cashier whatever calls it, done
with a manager's approval given by name and PIN, and audited with both names; PINs lock after five
wrong tries for 15 minutes. (`pytest -k approval` selects these tests.)"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit import Actor, audit_entries
from core.catalog_import import import_catalog
from core.dbtypes import utcnow
from core.gift_cards import issue_gift_card, set_gift_card_balance
from core.inbox import sale_detail
from core.locations import add_location, list_locations, restore_location, retire_location
from core.models import AuditEntry, RuleKind, RuleScope
from core.rules import Rule, save_rule
from core.sales import accept_held_back
from core.payment_types import list_payment_types, update_payment_type
from core.pickup import cancel_sale, complete_sale
from core.resolver import link_listing, unlink_listing
from core.returns import complete_return, return_view, set_quantity, set_tax_rate, start_return
from core.roles import NEEDS, OWNER, NotAllowed, set_refund_limit
from core.staff import StaffError, actor_for, add_staff, approve, check_pin, retire_staff, set_pin
from core.supplier import record_supplier_document

from tests.conftest import dump
from tests.core.test_counter_safety import CHECKS, channel, line, product_id, reread, store, unmatched_listing  # noqa: F401

ROOT = Actor("root")  # the machine's own account, which adds the first owner
PINS = {"olga": "1357", "max": "2468", "cara": "1111", "cole": "2222"}


@pytest.fixture
def staff(engine, channel):  # noqa: F811 - the counter's shop, with its channel
    add_staff(engine, "olga", "owner", ROOT)
    olga = actor_for(engine, "olga")
    add_staff(engine, "max", "manager", olga)
    add_staff(engine, "cara", "cashier", olga)
    add_staff(engine, "cole", "cashier", olga)
    for name, pin in PINS.items():
        set_pin(engine, name, pin, olga)
    set_refund_limit(Decimal("20.00"))
    yield {name: actor_for(engine, name, "192.0.2.7") for name in PINS}
    set_refund_limit(None)


def completed_sale(engine, channel, number=1):  # noqa: F811
    sale = store(engine, channel, number, line(1, "WHEEL", 1, "26.00", tax="2.14"), line(2, "TUBE", 1, "8.99"))
    complete_sale(engine, sale.id, Actor("anna"), sale.version, checks=CHECKS)
    return sale


def draft_return(engine, channel, units=1):  # noqa: F811
    sale = completed_sale(engine, channel)
    return_id = start_return(engine, sale.id, Actor("anna"))
    for view_line in return_view(engine, return_id).lines[:units]:
        set_quantity(engine, view_line.id, 1, Actor("anna"))
    return return_id


# Each manager action: how to set it up, and how to do it as `actor`.
def _cancel(engine, channel):  # noqa: F811
    sale = store(engine, channel, 9, line(1, "TUBE", 1, "8.99"))
    return lambda actor: cancel_sale(engine, sale.id, actor, reread(engine, sale.id).version)


def _tax_rate(engine, channel):  # noqa: F811
    return_id = draft_return(engine, channel)
    line_id = return_view(engine, return_id).lines[0].id
    return lambda actor: set_tax_rate(engine, line_id, Decimal("5"), "customer is exempt", actor)


def _refund_over_limit(engine, channel):  # noqa: F811
    return_id = draft_return(engine, channel)  # 26.00 + 2.14 back: over the cashier's 20.00
    return lambda actor: complete_return(engine, return_id, actor, return_view(engine, return_id).version)


def _undo_completed_match(engine, channel):  # noqa: F811
    listing = unmatched_listing(engine, channel, "Wheel, web name")
    sale = store(engine, channel, 2, line(1, "Wheel, web name", 1, "26.00", listing="L1"))
    link_listing(engine, listing.id, product_id(engine, "WHEEL"), Actor("anna"), listing.version)
    complete_sale(engine, sale.id, Actor("anna"), reread(engine, sale.id).version, checks=CHECKS)
    return lambda actor: unlink_listing(engine, listing.id, actor)


def _location(engine, channel):  # noqa: F811
    return lambda actor: add_location(engine, "Riverside", actor)


def _supplier_document(engine, channel):  # noqa: F811
    return lambda actor: record_supplier_document(engine, channel, "retailer_contract", date(2026, 1, 5), actor)


def _payment_type(engine, channel):  # noqa: F811
    kind = list_payment_types(engine)[0]
    return lambda actor: update_payment_type(engine, kind.id, actor, kind.version, account="1210 Card clearing")


def _gift_card_balance(engine, channel):  # noqa: F811
    sale = store(engine, channel, 3, line(1, "GIFT-CARD", 1, "50.00", rate="0"))
    issue_gift_card(engine, sale_detail(engine, sale.id).lines[0].id, "GC-1001", Actor("anna"))
    return lambda actor: set_gift_card_balance(engine, "GC-1001", Decimal("10.00"), actor)


def _catalog_import(engine, channel):  # noqa: F811
    return lambda actor: import_catalog(engine, b"sku,description,price,quantity\nBELL,Bell,9.00,3\n", "Main Street",
                                        actor)


def _rule_change(engine, channel):  # noqa: F811
    rule = Rule(RuleKind.SAFETY_STOCK, RuleScope.PRODUCT, "TUBE", units=2)
    return lambda actor: save_rule(engine, channel, rule, actor)


def _accept_held_back(engine, channel):  # noqa: F811
    save_rule(engine, channel, Rule(RuleKind.IN_STORE_ONLY, RuleScope.PRODUCT, "TUBE"), Actor("owner", role=OWNER))
    sale = store(engine, channel, 9, line(1, "TUBE", 1, "8.99"))
    assert reread(engine, sale.id).held_back_reason
    return lambda actor: accept_held_back(engine, sale.id, actor, reread(engine, sale.id).version)


MANAGER_ACTIONS = {
    "rules.change": _rule_change, "sale.held_back": _accept_held_back,
    "sale.cancel": _cancel, "return.tax_rate": _tax_rate, "return.over_limit": _refund_over_limit,
    "match.undo_completed": _undo_completed_match, "locations.change": _location,
    "supplier.change": _supplier_document, "payment_type.edit": _payment_type,
    "gift_card.balance": _gift_card_balance, "catalog.import": _catalog_import,
}


def test_putting_a_retired_location_back_is_a_managers_and_refused_to_a_cashier(engine, channel, staff):  # noqa: F811
    add_location(engine, "Riverside", Actor("owner", role=OWNER))
    retire_location(engine, "Riverside", Actor("owner", role=OWNER))
    before = dump(engine)
    with pytest.raises(NotAllowed) as refused:
        restore_location(engine, "Riverside", staff["cara"])
    assert refused.value.action == "locations.change"
    assert dump(engine) == before, "refused in core: nothing written, not even an audit line"
    restore_location(engine, "Riverside", approve(engine, staff["cara"], "locations.change", "max", PINS["max"]))
    assert ("Riverside", True, 0) in list_locations(engine)


def test_approval_covers_every_action_the_roles_table_gives_managers():
    managers = {action for action, (needed, _what) in NEEDS.items() if needed == "manager"}
    assert managers == set(MANAGER_ACTIONS)


@pytest.mark.parametrize("action", sorted(MANAGER_ACTIONS))
def test_approval_a_cashier_is_refused_in_core_and_a_manager_lets_it_through(engine, channel, staff, action):  # noqa: F811
    do = MANAGER_ACTIONS[action](engine, channel)
    before = dump(engine)
    with pytest.raises(NotAllowed) as refused:
        do(staff["cara"])
    assert refused.value.action == action and "cara (cashier) may not" in str(refused.value)
    assert dump(engine) == before, "a refused action writes nothing, not even an audit line"
    approved = approve(engine, staff["cara"], action, "max", PINS["max"])
    do(approved)
    with engine.connect() as conn:
        lines = conn.execute(select(AuditEntry.actor, AuditEntry.approved_by, AuditEntry.client)
                             .where(AuditEntry.id > max((row.id for row in before["auditlog"]), default=0))).all()
    assert lines and all(row == ("cara", "max", "192.0.2.7") for row in lines), lines


@pytest.mark.parametrize("action", sorted(MANAGER_ACTIONS))
def test_approval_is_not_needed_by_a_manager(engine, channel, staff, action):  # noqa: F811
    MANAGER_ACTIONS[action](engine, channel)(staff["max"])
    entries = [entry for entry in audit_entries(engine, person="max") if entry.action not in ("staff_pin",)]
    assert entries and all(entry.approved_by is None for entry in entries)


def test_approval_is_given_by_a_manager_or_the_owner_only_never_by_oneself(engine, channel, staff):  # noqa: F811
    with pytest.raises(StaffError, match="cole is a cashier"):
        approve(engine, staff["cara"], "sale.cancel", "cole", PINS["cole"])
    with pytest.raises(StaffError, match="cannot approve their own"):
        approve(engine, staff["max"], "sale.cancel", "max", PINS["max"])
    assert approve(engine, staff["cara"], "sale.cancel", "olga", PINS["olga"]).approved_by == "olga"
    retire_staff(engine, "max", staff["olga"])
    with pytest.raises(StaffError, match="do not match"):
        approve(engine, staff["cara"], "sale.cancel", "max", PINS["max"])


def test_approval_is_for_that_one_action(engine, channel, staff):  # noqa: F811
    approved = approve(engine, staff["cara"], "locations.change", "max", PINS["max"])
    add_location(engine, "Riverside", approved)
    sale = store(engine, channel, 9, line(1, "TUBE", 1, "8.99"))
    with pytest.raises(NotAllowed):
        cancel_sale(engine, sale.id, approved, sale.version)  # approved for a location, not for a cancel


def test_approval_cannot_open_the_owners_actions(engine, channel, staff):  # noqa: F811
    with pytest.raises(StaffError, match="max is a manager"):
        approve(engine, staff["cara"], "staff.manage", "max", PINS["max"])
    approved_by_owner = staff["max"].approved("olga", OWNER, "staff.manage")
    with pytest.raises(NotAllowed):
        add_staff(engine, "zoe", "cashier", approved_by_owner)


def test_approval_pins_lock_after_five_wrong_tries_for_fifteen_minutes(engine, channel, staff):  # noqa: F811
    now = utcnow()
    for _try in range(5):
        with pytest.raises(StaffError, match="do not match"):
            approve(engine, staff["cara"], "sale.cancel", "max", "0000", now)
    with pytest.raises(StaffError, match="locked after 5 wrong tries"):
        approve(engine, staff["cara"], "sale.cancel", "max", PINS["max"], now + timedelta(minutes=14, seconds=59))
    assert approve(engine, staff["cara"], "sale.cancel", "max", PINS["max"],
                   now + timedelta(minutes=15, seconds=1)).approved_by == "max"
    assert [entry.action for entry in audit_entries(engine, person="max")].count("staff_pin_locked") == 1
    # The count starts again: four wrong tries and the right PIN do not lock.
    for _try in range(4):
        with pytest.raises(StaffError):
            check_pin(engine, "max", "9999", now + timedelta(minutes=20))
    assert check_pin(engine, "max", PINS["max"], now + timedelta(minutes=20)).user == "max"
    with pytest.raises(StaffError, match="do not match"):
        check_pin(engine, "max", "9999", now + timedelta(minutes=20))  # one wrong after the right one: not locked


def test_approval_pins_are_stored_as_argon2id_hashes_never_as_given(engine, channel, staff):  # noqa: F811
    text = repr(dump(engine))
    assert "$argon2id$" in text and not any(f"'{pin}'" in text for pin in PINS.values())


def test_approval_staff_are_managed_by_the_owner_only(engine, channel, staff):  # noqa: F811
    with pytest.raises(NotAllowed):
        add_staff(engine, "zoe", "cashier", staff["max"])
    with pytest.raises(NotAllowed):
        set_pin(engine, "cara", "4444", staff["max"])
    set_pin(engine, "cara", "4444", staff["cara"])  # one's own PIN
    with pytest.raises(StaffError, match="only owner"):
        retire_staff(engine, "olga", staff["olga"])


def test_approval_starts_from_an_owner_added_by_the_machines_account(tmp_path):
    from core.db import open_database

    engine = open_database(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with pytest.raises(StaffError, match="first person added is the owner"):
        add_staff(engine, "first", "cashier", ROOT)
    with pytest.raises(StaffError, match="a staff name is"):
        add_staff(engine, 'x" --role owner', "owner", ROOT)
    add_staff(engine, "first", "owner", ROOT)
    with pytest.raises(NotAllowed):
        add_staff(engine, "second", "cashier", actor_for(engine, "first").__class__("nobody", role="cashier"))


def test_approval_the_refund_limit_counts_all_of_a_sales_refunds(engine, channel, staff):  # noqa: F811
    """Several small returns of one sale add up: the second goes over the limit with the first."""
    sale = store(engine, channel, 5, line(1, "TUBE", 3, "8.99"))
    complete_sale(engine, sale.id, Actor("anna"), sale.version, checks=CHECKS)

    def one_unit_return():
        return_id = start_return(engine, sale.id, staff["cara"])
        set_quantity(engine, return_view(engine, return_id).lines[0].id, 1, staff["cara"])
        return return_id

    first = one_unit_return()  # 9.73 back: under the cashier's 20.00
    complete_return(engine, first, staff["cara"], return_view(engine, first).version)
    second = one_unit_return()
    complete_return(engine, second, staff["cara"], return_view(engine, second).version)  # 19.46 in all
    third = one_unit_return()
    with pytest.raises(NotAllowed, match="refund over the cashier's limit"):
        complete_return(engine, third, staff["cara"], return_view(engine, third).version)  # 29.19: over


def test_approval_a_retired_or_changed_person_is_read_again(engine, channel, staff):  # noqa: F811
    from core.staff import change_role, still_here

    change_role(engine, "max", "cashier", staff["olga"])
    assert still_here(engine, staff["max"]).role == "cashier"
    retire_staff(engine, "cara", staff["olga"])
    assert still_here(engine, staff["cara"]) is None


def test_approval_pins_are_hashed_at_argon2ids_recommended_cost_in_production():
    """The suite hashes with the cheapest parameters (tests/conftest.py); the product never does."""
    from argon2 import Type

    from core.staff import production_hasher

    hasher = production_hasher()
    assert hasher.type is Type.ID
    assert hasher.time_cost >= 3 and hasher.memory_cost >= 64 * 1024 and hasher.parallelism >= 1
    assert hasher.hash("4821").startswith("$argon2id$v=19$m=65536,t=3")
