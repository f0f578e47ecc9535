"""Home: the state of the shop at a glance, and the way to every other screen."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.containers import Grid
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header

from core.i18n import _, ngettext, number
from tui.actions import bindings, for_screen, menu_line
from tui.failures import ReportsFailures
from tui.widgets.key_bar import KeyBar
from tui.widgets.stat_card import StatCard
from tui.plain import styled
from tui.widgets.line import Line

if TYPE_CHECKING:
    from core.overview import Overview
    from core.watch_status import WatchStatus

LIVE_REFRESH_SECONDS = 5.0  # while a watcher runs, its line ("read 3 s ago") is read again this often


def _when(moment: datetime) -> str:
    from core.shoptime import shown

    return shown(moment, "%a %d %b %H:%M")


def sync_status(status: str) -> str:
    from core.sync_history import STATUS_WORDS

    return _(STATUS_WORDS.get(status, status))


class HomeScreen(ReportsFailures, Screen):
    HELP_CONTEXT = "home"  # which FAQ entries F1 opens on
    BINDINGS = bindings("home")

    class OverviewLoaded(Message):
        def __init__(self, overview: Overview, per_channel: list, live: WatchStatus):
            super().__init__()
            self.overview, self.per_channel, self.live = overview, per_channel, live

    class OverviewFailed(Message):
        def __init__(self, reason: str):
            super().__init__()
            self.reason = reason

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Line("", id="first-run")
        with Grid(id="cards"):
            yield StatCard(_("Catalog"), id="catalog")
            yield StatCard(_("Web sales"), id="sales")
            yield StatCard(_("Matching"), id="matching")
            yield StatCard(_("Last sync"), id="sync")
        yield Line(_("Opening the shop's database…"), id="places")
        yield Line(Content("\n").join(menu_line(action) for action in for_screen("home") if action.menu), id="menu")
        yield KeyBar()

    def action_leave(self) -> None:
        from tui.dialogs.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(_("Leave Tandem?")), lambda yes: yes and self.app.exit())

    def action_open_inbox(self) -> None:
        from tui.screens.inbox import InboxScreen

        self.app.push_screen(InboxScreen())

    def action_open_returns(self) -> None:
        from tui.screens.returns import ReturnsScreen

        self.app.push_screen(ReturnsScreen())

    def action_open_accounts(self) -> None:
        from tui.screens.accounts import AccountsScreen

        self.app.push_screen(AccountsScreen())

    def action_open_resolver(self) -> None:
        from tui.screens.resolver import ResolverScreen

        self.app.push_screen(ResolverScreen())

    def action_open_catalog(self) -> None:
        from tui.screens.catalog import CatalogScreen

        self.app.push_screen(CatalogScreen())

    def action_open_staff(self) -> None:
        from tui.dialogs.approval import run_approved
        from tui.screens.staff import StaffScreen

        run_approved(self, "staff.manage", lambda actor: self.app.push_screen(StaffScreen()))

    def action_open_locations(self) -> None:
        from tui.screens.locations import LocationsScreen

        self.app.push_screen(LocationsScreen())

    def action_open_rules(self) -> None:
        from tui.screens.rules import RulesScreen

        self.app.push_screen(RulesScreen())

    def action_open_sync_history(self) -> None:
        from tui.screens.syncs import SyncsScreen

        self.app.push_screen(SyncsScreen())

    def action_sync(self) -> None:
        self.app.start_sync()

    def show_sync_progress(self) -> None:
        if self.app.sync_running:
            self.query_one("#sync", StatCard).show(_("syncing…"), self.app.sync_progress)

    def refresh_from_database(self) -> None:
        self.action_refresh()

    def action_open_supplier(self) -> None:
        from tui.screens.supplier import SupplierScreen

        self.app.push_screen(SupplierScreen())

    def on_mount(self) -> None:
        if not hasattr(self, "_live_timer"):  # on_mount runs again after a change of language
            self._live_timer = self.set_interval(LIVE_REFRESH_SECONDS, self.action_refresh, pause=True)

    def on_screen_resume(self) -> None:
        # Also runs when the screen is first shown, and on coming back from another screen.
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_overview()

    @work(thread=True, exclusive=True, exit_on_error=False, group="overview")
    def load_overview(self) -> None:
        # Imported here, off the main thread, so the screen paints before the database stack loads.
        from core.db import DatabaseError
        from core.overview import shop_overview

        from core.sync_history import last_sync_per_channel
        from core.watch_status import watch_status

        try:
            engine = self.app.engine()
            overview = shop_overview(engine)
            per_channel = last_sync_per_channel(engine)
            live = watch_status(engine)
        except DatabaseError as exc:
            self.post_message(self.OverviewFailed(str(exc)))
        else:
            self.post_message(self.OverviewLoaded(overview, per_channel, live))

    def show_first_steps(self, overview: Overview) -> None:
        """On a shop not set up yet, what to do next, with the exact commands, instead of the cards."""
        from core.overview import first_steps

        settings = self.app.settings
        config = str(settings.config_file) if settings is not None else _("tandem --paths  (shows where it is; the README has examples)")
        time_zone_set = settings is not None and settings.time_zone is not None
        steps = [] if self.app.demo else first_steps(overview, config, time_zone_set=time_zone_set)
        self.query_one("#cards").display = not steps
        self.query_one("#places").display = not steps
        first_run = self.query_one("#first-run", Line)
        first_run.display = bool(steps)
        if steps:
            lines = [styled("[b]{mark}[/b] {what}\n    [b]{command}[/b]", mark="✓" if step.done else "→",
                            what=_(step.what), command=step.command) for step in steps]
            first_run.update(Content("\n").join([Content(_("To set up this shop:")), *lines, styled(
                _("Or try Tandem on a made-up shop first: [b]{command}[/b]"), command="tandem --demo")]))

    @on(OverviewFailed)
    def show_failure(self, event: OverviewFailed) -> None:
        self.query_one("#places", Line).update(_("The database could not be opened: {reason}").format(reason=event.reason))
        self.notify(event.reason, title=_("Database"), severity="error", timeout=30)

    @on(OverviewLoaded)
    def show_overview(self, event: OverviewLoaded) -> None:
        o = event.overview
        inactive = o.products - o.active_products
        catalog_detail = _("{count} inactive").format(count=number(inactive)) if inactive else _("all active")
        if o.invalid_barcodes:
            catalog_detail += ", " + ngettext("{count} bad barcode", "{count} bad barcodes", o.invalid_barcodes).format(
                count=number(o.invalid_barcodes))
        self.query_one("#catalog", StatCard).show(
            ngettext("{count} product", "{count} products", o.products).format(count=number(o.products)),
            catalog_detail, warn=bool(o.invalid_barcodes))
        held = " · ".join(part for part in (
            _("{count} held for the supplier").format(count=number(o.held_sales)) if o.held_sales else "",
            _("{count} for a person to decide").format(count=number(o.held_for_a_person)) if o.held_for_a_person
            else "",
            _("{count} held back by a rule").format(count=number(o.held_back)) if o.held_back else "") if part) \
            or _("none held")
        self.query_one("#sales", StatCard).show(_("{count} open").format(count=number(o.open_sales)), held)
        self.query_one("#matching", StatCard).show(
            _("{count} to resolve").format(count=number(o.unresolved_matches)),
            _("web listings waiting for a person") if o.unresolved_matches else _("nothing waiting"),
            warn=bool(o.unresolved_matches),
        )
        sync = self.query_one("#sync", StatCard)
        if o.last_sync is None:
            sync.show(_("never"), _("no web store synced yet") if o.channels else _("no web store set up yet"))
        else:
            failed = [r.channel for r in event.per_channel if r.status not in ("ok", "running")]
            detail = sync_status(o.last_sync.status) if len(event.per_channel) < 2 else (
                _("failed: {stores}").format(stores=", ".join(failed)) if failed
                else _("all {count} web stores ok").format(count=len(event.per_channel)))
            latest = event.per_channel[0] if len(event.per_channel) == 1 else None
            if latest and latest.counts:
                detail += " · " + _("{count} new orders").format(count=latest.counts.get("orders_imported", 0))
            sync.show(_when(o.last_sync.started_at), detail, warn=o.last_sync.status != "ok" or bool(failed))
        self.show_sync_progress()
        self.show_first_steps(o)
        places = ", ".join(o.locations) or _("none yet")
        stores = ", ".join(o.channels) or _("none yet")
        self.show_places(places, stores, event.live)

    def show_places(self, places: str, stores: str, live: WatchStatus) -> None:
        """The locations and web stores; while a watcher runs, what it last saw of each store instead."""
        from core.dbtypes import utcnow
        from core.watch_status import channel_line, headline

        now = utcnow()
        running = live.state == "running"
        if running:
            lines = [headline(live, now, short=True)] + [channel_line(channel, now, short=True) for channel in live.channels]
        else:
            lines = [_("Locations: {places}").format(places=places),
                     _("Web stores: {stores}").format(stores=stores) + " · " + headline(live, now, short=True)]
        block = self.query_one("#places", Line)
        block.update("\n".join(lines))
        block.set_class(running, "live")
        block.set_class(live.state == "gone" or (running and not live.healthy), "warn")
        if running:
            self._live_timer.resume()
        else:
            self._live_timer.pause()
