from sqlalchemy import insert

from core.dbtypes import utcnow
from core.models import SaleState, SalesChannel, WebSale
from tui.app import TandemApp
from tui.screens.home import HomeScreen, StatCard

from tests.tui.pilot_helpers import settle


def card_text(app, card_id: str) -> str:
    card = app.screen.query_one(f"#{card_id}", StatCard)
    return " / ".join(str(s.render()) for s in card.query("Static"))


async def test_home_shows_the_shop_at_a_glance(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert card_text(app, "catalog") == "3,015 products / 100 inactive, 5 bad barcodes"
        assert card_text(app, "sales") == "37 open / 3 held for the supplier"
        assert card_text(app, "sync") == "Fri 27 Nov 06:00 / all 2 web stores ok"
        assert card_text(app, "matching") == "726 to resolve / web listings waiting for a person"


async def test_refresh_reads_the_figures_again(demo_engine):
    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        with demo_engine.begin() as conn:
            channel = conn.execute(insert(SalesChannel.__table__).values(
                name="Web", platform="demo", base_url="http://127.0.0.1", created_at=utcnow())
            ).inserted_primary_key[0]
            conn.execute(insert(WebSale.__table__), [
                {"channel_id": channel, "external_id": str(n), "order_number": f"#{n}", "state": state,
                 "ordered_at": utcnow(), "imported_at": utcnow()}
                for n, state in enumerate([SaleState.READY, SaleState.HELD, SaleState.COMPLETED])
            ])
        await pilot.press("r")
        await settle(app, pilot)
        assert card_text(app, "sales") == "39 open / 4 held for the supplier"


async def test_q_on_home_asks_before_quitting(demo_engine):
    from tui.dialogs.confirm import ConfirmScreen

    app = TandemApp(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen), "q asks first"
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.return_code == 0


def test_home_snapshot_80x24(snap_compare, sqlite_demo_engine):
    async def loaded(pilot):
        await settle(pilot.app, pilot)

    assert snap_compare(TandemApp(sqlite_demo_engine, demo=True), terminal_size=(80, 24), run_before=loaded)


async def test_the_demo_shop_is_built_after_the_first_paint(tmp_path):
    app = TandemApp(f"sqlite:///{tmp_path / 'demo.sqlite'}", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert card_text(app, "catalog") == "… / "
        await settle(app, pilot)
        assert card_text(app, "catalog").startswith("3,015 products")
        assert app.sub_title == "demo shop"


async def test_a_database_that_cannot_be_opened_is_explained_on_screen(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    app = TandemApp(f"sqlite:///{blocker / 'shop.sqlite'}")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        message = str(app.screen.query_one("#places").render())
        assert message.startswith("The database could not be opened:")


async def test_home_shows_the_live_sync_and_what_it_saw_of_each_store(sqlite_demo_engine):
    from datetime import timedelta

    from sqlalchemy import select

    from core.watch_status import channel_seen, watch_started

    app = TandemApp(sqlite_demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        places = str(app.screen.query_one("#places").render())
        assert "Web stores: Demo web store, Demo WooCommerce · live sync off" in places
        with sqlite_demo_engine.connect() as conn:
            web, woo = conn.execute(select(SalesChannel.id).order_by(SalesChannel.id)).scalars().all()
        watch_started(sqlite_demo_engine, "127.0.0.1:8787")
        now = utcnow()
        channel_seen(sqlite_demo_engine, web, read_at=now, order_at=now - timedelta(minutes=3), lag_seconds=1.25)
        channel_seen(sqlite_demo_engine, woo, error="HTTP 503 from the store", error_at=now,
                     retry_at=now + timedelta(seconds=40))
        await pilot.press("r")
        await settle(app, pilot)
        lines = str(app.screen.query_one("#places").render()).splitlines()
        assert lines[0].startswith("Live sync on ") and lines[0].endswith(": 0 new orders · webhooks")
        assert lines[1] == "Demo web store: read 0 s ago · last order 3 min ago, 1.2 s to arrive"
        assert lines[2].startswith("Demo WooCommerce: error: HTTP 503 from the store (asked again in ")
        assert app.screen.query_one("#places").has_class("warn"), "a store in error stands out"
