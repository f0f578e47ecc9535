"""One registry of actions feeds every key: the screens' bindings, the help panel's key list and the
command palette. A binding typed anywhere else, or an action missing from help or the palette,
fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.screen import Screen

import tui.dialogs
import tui.screens
from tui import actions
from tui.app import TandemApp
from tui.commands import ScreenActions
from tui.screens.faq import FaqScreen

from tests.tui.pilot_helpers import press_and_settle


def screen_classes() -> list[type]:
    found = [TandemApp]
    for package in (tui.screens, tui.dialogs):
        for module in pkgutil.iter_modules(package.__path__):
            loaded = importlib.import_module(f"{package.__name__}.{module.name}")
            found += [cls for _, cls in inspect.getmembers(loaded, inspect.isclass)
                      if issubclass(cls, Screen) and cls.__module__ == loaded.__name__]
    return found


def as_tuple(binding) -> tuple:
    return (binding.key, binding.action, binding.description, binding.id, binding.tooltip, binding.show,
            binding.priority)


def test_every_binding_of_every_screen_comes_from_the_registry():
    seen = set()
    for cls in screen_classes():
        own = cls.__dict__.get("BINDINGS", [])
        assert own, f"{cls.__name__} has no bindings of its own"
        name = actions.screen_of(cls) if cls is not TandemApp else "app"
        assert [as_tuple(b) for b in own] == [as_tuple(b) for b in actions.bindings(name)], cls.__name__
        seen.add(name)
    assert seen == {action.screen for action in actions.ACTIONS}, "every registry screen is a real screen"


def test_every_action_is_in_the_help_panels_key_list():
    for action in actions.ACTIONS:
        listed = actions.key_list(action.screen if action.screen != "app" else "home")
        line = f"{actions.key(action.id)}  {action.label} — {action.description}"
        assert line in listed.plain.split("\n"), action.id
        start = listed.plain.split("\n").index(line)
        start = sum(len(row) + 1 for row in listed.plain.split("\n")[:start])
        assert any(span.start == start and span.end == start + len(actions.key(action.id)) and span.style == "b"
                   for span in listed.spans), f"{action.id}: its key is in bold"


async def test_help_opened_on_a_screen_lists_that_screens_keys(sqlite_demo_engine):
    app = TandemApp(sqlite_demo_engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "a", "f1")
        assert isinstance(app.screen, FaqScreen) and app.screen.keys_for == "accounts"
        options = app.screen.query_one("#faq-questions")
        options.highlighted = options.option_count - 1
        await press_and_settle(app, pilot)
        shown = str(app.screen.query_one("#faq-answer").render())
        for action in actions.for_screen("accounts") + actions.for_screen("app"):
            assert f"{actions.key(action.id)}  {action.label} — {action.description}" in shown, action.id


async def test_the_command_palette_offers_what_the_screen_offers_now(sqlite_demo_engine):
    """One source: the palette lists exactly the actions the screen's own check allows (the same
    check that shows the footer's keys)."""
    app = TandemApp(sqlite_demo_engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for keys, screen in [((), "home"), (("s",), "inbox"), (("enter",), "sale")]:
            await press_and_settle(app, pilot, *keys)
            provider = ScreenActions(app.screen)
            offered = {str(hit.text) async for hit in provider.discover()}
            for action in actions.for_screen(screen) + actions.for_screen("app"):
                listed = f"{action.label} ({actions.key(action.id)})" in offered
                assert listed == actions.offered(action, app.screen), action.id
            assert "Help (F1)" in offered and "Back (esc)" in offered or screen == "home"


async def test_a_completed_sale_offers_neither_pickup_nor_shipped_anywhere(sqlite_demo_engine):
    from core.audit import Actor
    from core.inbox import inbox
    from core.pickup import complete_sale
    from tui.screens.sale import SaleScreen

    row = next(r for r in inbox(sqlite_demo_engine).rows if r.state == "ready" and r.shipping)
    complete_sale(sqlite_demo_engine, row.sale_id, Actor("anna"), row.version, pickup=False)
    app = TandemApp(sqlite_demo_engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot)
        app.push_screen(SaleScreen(row.sale_id))
        await press_and_settle(app, pilot)
        offered = {str(hit.text) async for hit in ScreenActions(app.screen).discover()}
        assert not {"Pickup (p)", "Shipped (s)", "Customer (l)", "Cancel sale (x)"} & offered, offered
        footer = {binding.action for _key, binding, enabled, _tip in app.active_bindings.values() if enabled}
        assert not {"pickup", "shipped", "customer", "cancel_sale"} & footer
        summary = str(app.screen.query_one("#sale-summary").render())
        assert "no POS customer linked (l)" not in summary, "a completed sale names no key it does not offer"
        await press_and_settle(app, pilot, "f1")
        options = app.screen.query_one("#faq-questions")
        options.highlighted = options.option_count - 1
        await press_and_settle(app, pilot)
        keys = str(app.screen.query_one("#faq-answer").render())
        assert "Complete pickup" not in keys and "Back to the inbox" in keys


async def test_a_palette_choice_runs_the_action_on_its_screen(sqlite_demo_engine):
    from tui.screens.inbox import InboxScreen

    app = TandemApp(sqlite_demo_engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot)
        provider = ScreenActions(app.screen)
        hits = [hit async for hit in provider.search("Sales")]
        await hits[0].command()
        await press_and_settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)


async def test_a_shop_rebinds_a_key_in_its_settings(sqlite_demo_engine, tmp_path):
    from core.settings import load_settings
    from tui.screens.inbox import InboxScreen

    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"home.inbox" = "i"\n"home.nothing" = "z"\n')
    app = TandemApp(sqlite_demo_engine, demo=True, settings=load_settings(config_path=config, environ={}))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await press_and_settle(app, pilot, "s")
            assert not isinstance(app.screen, InboxScreen), "s no longer opens the inbox"
            assert "home.nothing" in " ".join(n.message for n in app._notifications)
            assert "i  Sales inbox" in str(app.screen.query_one("#menu").render()), "the menu shows the shop's key"
            await press_and_settle(app, pilot, "i")
            assert isinstance(app.screen, InboxScreen)
    finally:
        actions._rebound.clear()


async def test_typing_shortcuts_in_help_finds_the_key_list(sqlite_demo_engine):
    app = TandemApp(sqlite_demo_engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "f", "f1", *"shortcuts")
        options = app.screen.query_one("#faq-questions")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["keys"]
        assert "Record — Record the highlighted signed document" in str(app.screen.query_one("#faq-answer").render())


def footer_actions(app) -> set[str]:
    return {binding.action for _key, binding, enabled, _tip in app.active_bindings.values() if enabled}


async def test_an_empty_resolver_offers_only_the_keys_that_do_something(sqlite_demo_engine):
    from sqlalchemy import update

    from core.models import WebListing

    with sqlite_demo_engine.begin() as conn:
        conn.execute(update(WebListing).values(match_state="not_sold_online"))
    app = TandemApp(sqlite_demo_engine, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(app, pilot, "m")
        assert app.screen.item is None
        assert not {"link_highlighted", "not_sold_online", "skip", "search", "why"} & footer_actions(app)
        offered = {str(hit.text) async for hit in ScreenActions(app.screen).discover()}
        assert not {"Skip (s)", "Search (/)", "Why? (w)", "Not online (x)"} & offered


async def test_the_supplier_switch_is_offered_only_the_way_it_can_go(sqlite_demo_engine):
    from core.audit import Actor
    from core.supplier import disable_supplier_fulfillment, supplier_setup

    for _turn in ("on, as the demo has it", "off"):
        setup = supplier_setup(sqlite_demo_engine)[0]
        app = TandemApp(sqlite_demo_engine, demo=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await press_and_settle(app, pilot, "f")
            offered = footer_actions(app)
            assert ("switch_off" in offered) == setup.on and ("switch_on" in offered) == (not setup.on)
        disable_supplier_fulfillment(sqlite_demo_engine, setup.channel_id, Actor("anna"))
