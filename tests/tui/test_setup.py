"""What the shop sets up itself from the console, keyboard only at 80x24: its locations, and supplier
fulfilment with the three signed documents. Each change goes through the same core as the command."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.audit import Actor
from core.channels import add_channel
from core.locations import add_location, list_locations, retire_location
from core.models import AuditEntry, Platform, SalesChannel, SupplierDocument
from core.shoptime import today
from tui.app import TandemApp
from tui.screens.locations import LocationsScreen
from tui.screens.supplier import SupplierScreen

from tests.tui.pilot_helpers import press_and_settle, settle


async def test_staff_add_rename_and_retire_a_location(engine):
    add_location(engine, "Main Street", Actor("t"))
    app = TandemApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "l")
        assert isinstance(app.screen, LocationsScreen)
        await press_and_settle(app, pilot, "a", *"Harbour", "enter")
        assert [row[0] for row in app.screen.locations] == ["Main Street", "Harbour"]
        await press_and_settle(app, pilot, "down", "r", "end", *" Road", "enter")
        await press_and_settle(app, pilot, "d", "y")
        await press_and_settle(app, pilot, "up", "d", "y")  # the last location in use stays
        await settle(app, pilot)
    assert list_locations(engine) == [("Main Street", True, 0), ("Harbour Road", False, 0)]
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action).where(AuditEntry.entity == "location")
                               .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["location_added", "location_added", "location_renamed", "location_retired"]


async def test_a_retired_location_is_put_back_in_use_with_its_stock_records(engine):
    add_location(engine, "Main Street", Actor("t"))
    add_location(engine, "Harbour", Actor("t"))
    retire_location(engine, "Harbour", Actor("t"))
    app = TandemApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "l", "down", "u")
        assert [row[:2] for row in app.screen.locations] == [("Main Street", True), ("Harbour", True)]
        await press_and_settle(app, pilot, "u")  # already in use: refused, nothing changed
    with engine.connect() as conn:
        actions = conn.execute(select(AuditEntry.action).where(AuditEntry.entity == "location")
                               .order_by(AuditEntry.id)).scalars().all()
    assert actions[-1] == "location_restored" and actions.count("location_restored") == 1


def channel_state(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(SalesChannel.supplier_fulfillment, SalesChannel.supplier_location_id)).one())


async def test_staff_record_the_documents_and_switch_supplier_fulfilment_on_and_off(engine):
    main_street = add_location(engine, "Main Street", Actor("t"))
    with engine.begin() as conn:
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example", main_street)
    app = TandemApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "f")
        assert isinstance(app.screen, SupplierScreen)
        await press_and_settle(app, pilot, "o")
        assert isinstance(app.screen, SupplierScreen), "refused at once: no location asked for first"
        assert channel_state(engine) == (False, None), "refused while the documents are missing"
        ends = (today() + timedelta(days=200)).isoformat()
        # Signed today (the date offered), each with where its copy is kept; the contract has an end date.
        # Enter saves from whichever field has the cursor.
        await press_and_settle(app, pilot, "n", "tab", "tab", *"scan-1", "enter")
        await press_and_settle(app, pilot, "down", "n", "tab", "tab", *"scan-2", "enter")
        await press_and_settle(app, pilot, "down", "n", "tab", *ends, "tab", *"scan-3", "enter")
        assert [document.state for document in app.screen.setups[0].sets[0].documents] == ["current"] * 3
        await press_and_settle(app, pilot, "o", "enter")
        assert channel_state(engine) == (True, main_street)
        assert app.screen.setups[0].on and "Web: supplier fulfilment ON · supplier-shipped orders go to Main Street" \
            in str(app.screen.query_one("#supplier-status").render())
        await press_and_settle(app, pilot, "x", "y")
        assert channel_state(engine) == (False, main_street)
        # A brand's own set: the dialog's last field; the set shows under the web store's.
        await press_and_settle(app, pilot, "n", "tab", "tab", "tab", *"Trek", "enter")
        assert [(s.brand, [d.state for d in s.documents]) for s in app.screen.setups[0].sets] == [
            ("", ["current"] * 3), ("Trek", ["missing", "missing", "current"])]
    with engine.connect() as conn:
        documents = {row.kind: (row.signed_on, row.ends_on, row.reference) for row in conn.execute(
            select(SupplierDocument).where(SupplierDocument.brand == ""))}
    assert documents == {"internet_addendum": (today(), None, "scan-1"), "packing_slip_form": (today(), None, "scan-2"),
                         "retailer_contract": (today(), today() + timedelta(days=200), "scan-3")}, \
        "the brand's contract is its own row, the web store's stays"


async def test_a_date_that_is_not_a_date_is_refused_and_nothing_is_recorded(engine):
    main_street = add_location(engine, "Main Street", Actor("t"))
    with engine.begin() as conn:
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example", main_street)
    app = TandemApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "f", "n", *["backspace"] * 10, *"31/12/2026",
                               "enter", "enter", "enter", "enter")
        assert not isinstance(app.screen, SupplierScreen), "the dialog stays open on a bad date"
        await press_and_settle(app, pilot, "escape")
        assert isinstance(app.screen, SupplierScreen)
    with engine.connect() as conn:
        assert conn.execute(select(SupplierDocument)).first() is None


def test_locations_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "l")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)


def test_supplier_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def go(pilot):
        await press_and_settle(pilot.app, pilot, "f")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=go)
