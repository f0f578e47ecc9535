"""The match resolver, driven from the keyboard as staff would, checked in the database."""

from sqlalchemy import select

from core.models import AuditEntry, Product, ProductLink, WebListing
from tui.app import TandemApp
from tui.screens.resolver import ResolverScreen, WhyScreen

from tests.tui.pilot_helpers import press_and_settle, settle


def current(app):
    return app.screen.item


def link_of(engine, listing_id):
    with engine.connect() as conn:
        return conn.execute(
            select(ProductLink.manual, ProductLink.product_id, Product.sku)
            .outerjoin(Product, Product.id == ProductLink.product_id)
            .where(ProductLink.listing_id == listing_id)
        ).first()


def state_of(engine, listing_id):
    with engine.connect() as conn:
        return conn.execute(select(WebListing.match_state).where(WebListing.id == listing_id)).scalar()


async def open_resolver(app, pilot):
    await press_and_settle(app, pilot, "m")
    assert isinstance(app.screen, ResolverScreen)


async def test_a_digit_links_that_candidate_and_u_undoes_it(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        item = current(app)
        second = app.screen.candidates[1]
        await press_and_settle(app, pilot, "2")
        assert link_of(demo_engine, item.listing_id) == (True, second.product_id, second.sku)
        assert state_of(demo_engine, item.listing_id) == "matched"
        assert current(app).listing_id != item.listing_id, "the next listing is shown"
        await press_and_settle(app, pilot, "u")
        assert link_of(demo_engine, item.listing_id) is None or not link_of(demo_engine, item.listing_id).manual
        assert state_of(demo_engine, item.listing_id) in ("unmatched", "ambiguous", "conflict")


async def test_enter_links_the_highlighted_candidate_and_j_k_move(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        item = current(app)
        await press_and_settle(app, pilot, "j", "j", "k")
        chosen = app.screen.candidates[1]
        await press_and_settle(app, pilot, "enter")
        assert link_of(demo_engine, item.listing_id)[1:] == (chosen.product_id, chosen.sku)


async def test_x_marks_not_sold_online_and_s_skips(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        first = current(app)
        await press_and_settle(app, pilot, "s")
        second = current(app)
        assert second.listing_id != first.listing_id
        assert state_of(demo_engine, first.listing_id) == first.state, "skipping changes nothing"
        await press_and_settle(app, pilot, "x")
        if second.waiting_lines:  # sales wait on it: Tandem asks first
            await press_and_settle(app, pilot, "y")
        assert state_of(demo_engine, second.listing_id) == "not_sold_online"
        assert link_of(demo_engine, second.listing_id) == (True, None, None)
        with demo_engine.connect() as conn:
            action = conn.execute(select(AuditEntry.action).where(
                AuditEntry.entity_id == str(second.listing_id))).scalar()
        assert action == "not_sold_online"


async def test_slash_searches_the_whole_catalog_and_a_result_can_be_linked(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        item = current(app)
        await pilot.press("slash", *"GIFT")
        await settle(app, pilot, 0.3)
        assert [c.sku for c in app.screen.candidates] == ["GIFT-CARD"]
        assert app.screen.candidates[0].why == "search"
        await press_and_settle(app, pilot, "enter", "1")
        assert link_of(demo_engine, item.listing_id)[2] == "GIFT-CARD"


async def test_w_explains_why(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        await press_and_settle(app, pilot, "w")
        assert isinstance(app.screen, WhyScreen)
        assert app.screen.reason
        await press_and_settle(app, pilot, "escape")
        assert isinstance(app.screen, ResolverScreen)


async def test_two_people_resolving_the_same_listing(demo_engine):
    """The second person's screen still shows the listing (they press before the change reaches
    it: the screen does not hear it here); their link is refused, not applied."""
    from core.audit import Actor
    from core.resolver import link_listing

    app = TandemApp(demo_engine, hears_changes=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        item = current(app)
        first = app.screen.candidates[0]
        link_listing(demo_engine, item.listing_id, first.product_id, Actor("colleague"), item.version)
        await press_and_settle(app, pilot, "2")
        assert link_of(demo_engine, item.listing_id)[1] == first.product_id
        messages = [n.message for n in app._notifications]
        assert any("colleague already resolved" in m for m in messages), messages


def test_resolver_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def open_it(pilot):
        await press_and_settle(pilot.app, pilot, "m")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=open_it)


def test_why_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def open_it(pilot):
        await press_and_settle(pilot.app, pilot, "m", "w")

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=open_it)


async def test_skipping_past_a_page_reads_the_next_one_from_the_database(demo_engine):
    from core.resolver import QUEUE_PAGE

    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_resolver(app, pilot)
        first_page = [i.listing_id for i in app.screen.page.items]
        assert len(first_page) == QUEUE_PAGE
        await press_and_settle(app, pilot, *["s"] * QUEUE_PAGE)
        assert current(app).listing_id not in first_page
        status = str(app.screen.query_one("#resolver-status").render())
        assert status.startswith(f"{QUEUE_PAGE + 1} of 726 waiting")
