"""The Textual application: holds the database and opens the home screen.

The database stack (SQLAlchemy, SQLModel, migrations) costs more to import than Textual itself,
so the app paints first and opens the database from a worker thread: staff see the screen at
once and the figures a moment later.
"""

from __future__ import annotations

import asyncio

import threading
from typing import TYPE_CHECKING

from textual.app import App
from textual.content import Content

from core.i18n import _, ngettext

from tui.actions import bindings, rebind, screen_of
from tui.commands import ScreenActions
from tui.plain import visible
from tui.screens.home import HomeScreen

if TYPE_CHECKING:
    from sqlalchemy import Engine


class TandemApp(App):
    # One stylesheet per screen, all loaded here so screens stay plain Python.
    CSS_PATH = [
        "styles/app.tcss", "styles/home.tcss", "styles/catalog.tcss", "styles/resolver.tcss", "styles/sales.tcss",
        "styles/setup.tcss", "styles/syncs.tcss",
    ]
    TITLE = "Tandem"
    # Animations cost bandwidth over SSH and distract at the counter.
    ANIMATION_LEVEL = "none"
    BINDINGS = bindings("app")
    # The registry's actions only: they hold quit and help, in the console's language.
    COMMANDS = {ScreenActions}

    def __init__(self, database: str | Engine, demo: bool = False, settings=None, refresh_seconds: float | None = None,
                 live_demo: bool = False, person=None, hears_changes: bool = True):
        super().__init__()
        from core.audit import set_session_actor
        from core.demo import DEMO_ACTOR
        from core.roles import NOBODY

        # Who is at this console: the SSH key's person (`tandem --staff NAME`), the demo's owner, or,
        # when the shop has staff, whoever signs in with their name and PIN as it opens.
        self.person = person or (DEMO_ACTOR if demo else None)
        self.from_staff_list = person is not None  # else the demo's owner, or the machine's account
        # Until the staff list is read, nobody may do anything: a console that cannot tell whether
        # the shop has staff (the database out of reach) fails closed, never as the owner.
        set_session_actor(self.person or NOBODY)
        # `tandem --demo`: customers order on the demo stores while a watcher keeps them in step.
        self.live_demo = live_demo
        self._live = None
        self.settings = settings
        # How often the console looks for changes made elsewhere (another terminal, a sync).
        self.refresh_seconds = refresh_seconds or (settings.refresh_seconds if settings is not None else 0.5)
        self.ring_bell = settings.bell if settings is not None else True
        # Changes committed elsewhere refresh the screen (a test of two terminals may turn it off).
        self.hears_changes = hears_changes
        self._changes = None  # core.changes.ChangeListener, once the database is open
        self._changed = self._listening = False
        self._newest_sale = 0
        # Keys closer together than this are a barcode scanner's, not a person's (the resolver's 1-9).
        self.scan_gap = 0.08
        self.sync_running = False
        self.sync_progress = ""  # the running sync's latest step, for the screens that show it
        self._database = database
        self._engine: Engine | None = None if isinstance(database, str) else database
        self._engine_lock = threading.Lock()
        self.demo = demo
        self.sub_title = self._who()
        # A shop's own keys (`[keys]` in the settings), by the registry's ids: the hints follow them.
        self._keymap = dict(settings.keys) if settings is not None and getattr(settings, "keys", None) else {}
        self._unknown_keys = rebind(self._keymap)

    def notify(self, message, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notice as plain text: most carry a store's words (an order number, a store's
        error, a customer's name), and the console's own notices need no markup."""
        super().notify(visible(message, lines=True), title=visible(title), severity=severity, timeout=timeout,
                       markup=False)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header line, plain: a screen's subtitle may hold an order number from a store."""
        return super().format_title(visible(title), visible(sub_title))

    def _who(self) -> str:
        if self.demo:
            return _("demo shop")
        if self.person is None or not self.from_staff_list:
            return ""  # the machine's own account, in a shop without staff: nobody to name
        from core.roles import ROLE_WORDS

        return f"{self.person.user} · {_(ROLE_WORDS.get(self.person.role, self.person.role))}"

    def on_mount(self) -> None:
        # Until the database is open, then to see that the person still works here: the changes
        # themselves are heard by a listener (core.changes), which calls _look_for_changes.
        self.set_interval(max(self.refresh_seconds, 2.0), self._look_for_changes, name="changes")
        if self.settings is not None and not self.demo:
            from core.settings import settings_stamp

            # A settings file written or edited while the console is open is read again, not only
            # at the next start: a first run's setup, a time zone, a store added.
            self._settings_stamp = settings_stamp(self.settings.config_file)
            self.set_interval(2.0, self._look_at_settings, name="settings")
        self._look_for_changes()
        if self.person is None:
            self.run_worker(self._sign_in_if_staff, thread=True, exit_on_error=False, group="sign-in")
        if self._keymap:
            unknown = self._unknown_keys
            self.set_keymap({action_id: keys for action_id, keys in self._keymap.items() if action_id not in unknown})
            if unknown:
                self.notify(_("The settings rebind keys Tandem does not have: {keys}").format(keys=", ".join(unknown)),
                            title=_("Keys"), severity="warning", timeout=15)

    def _sign_in_if_staff(self) -> None:
        """A shop with staff, reached without an SSH key's name: each person signs in with a PIN.
        A shop without staff is run by the machine's own account, as the owner."""
        from core.audit import current_actor, set_session_actor
        from core.staff import any_staff

        if any_staff(self.engine()):
            self.from_staff_list = True
            self.call_from_thread(self._ask_who)
        else:
            set_session_actor(None)
            self.call_from_thread(self.signed_in, current_actor())

    def _ask_who(self) -> None:
        from tui.dialogs.approval import ApprovalScreen

        self.push_screen(ApprovalScreen(None, None, _("Who is at the counter? Your name and PIN")), self._signed_in)

    def signed_in(self, person) -> None:
        from core.audit import set_session_actor

        self.person = person
        set_session_actor(person)
        self.sub_title = self._who()
        self.screen.refresh_bindings()

    _signed_in = signed_in

    def _look_at_settings(self) -> None:
        from core.settings import settings_stamp

        stamp = settings_stamp(self.settings.config_file)
        if stamp is None or stamp == self._settings_stamp:
            return
        self._settings_stamp = stamp
        self.run_worker(self._read_settings_again, thread=True, exclusive=True, group="settings",
                        exit_on_error=False)

    def _read_settings_again(self) -> None:
        from core.channels import apply_channel_settings
        from core.settings import reload_settings
        from core.shoptime import set_shop_zone

        try:
            fresh = reload_settings(self.settings)
            apply_channel_settings(self.engine(), fresh.channels, retire_missing=False)
        except Exception as exc:  # noqa: BLE001 - a file being edited may not parse yet: said, and kept as it was
            self.call_from_thread(self.notify, _("The settings file was changed but cannot be used: {reason}").format(
                reason=exc), title=_("Settings"), severity="warning", timeout=15)
            return
        set_shop_zone(fresh.time_zone)

        def taken() -> None:
            self.settings = fresh
            self.notify(_("Settings read again from {file}.").format(file=fresh.config_file), title=_("Settings"),
                        timeout=6)
            self._look_for_changes()
            refresh = getattr(self.screen, "refresh_from_database", None)
            if refresh is not None:
                refresh()

        self.call_from_thread(taken)

    def _check_person(self, engine) -> None:
        """A person whose role changed works with the new one from now; one retired is signed out."""
        from core.audit import set_session_actor
        from core.roles import NOBODY
        from core.staff import still_here

        person = self.person
        if person is None or self.demo or not self.from_staff_list:
            return
        now = still_here(engine, person)
        if now is None:
            set_session_actor(NOBODY)
            self.call_from_thread(self.exit, message=_("{name} no longer works here: signed out.").format(
                name=person.user))
        elif now != person:
            self.call_from_thread(self.signed_in, now)

    # --- changes made elsewhere ---------------------------------------------------------------

    def _look_for_changes(self) -> None:
        if self._engine is not None:  # not before the first screen has opened the database
            self.run_worker(self._read_changes, thread=True, exclusive=True, group="changes", exit_on_error=False)

    def _listen(self, engine: Engine) -> None:
        from core.changes import ChangeListener, newest_sale_id

        self._newest_sale, self._listening = newest_sale_id(engine), True
        if self.hears_changes:
            self._changes = ChangeListener(engine, self._heard_a_change, interval=self.refresh_seconds).start()

    def _heard_a_change(self) -> None:
        """From the listener's thread: another terminal, a sync or an import committed a change."""
        self._changed = True
        try:
            self.call_from_thread(self._look_for_changes)
        except RuntimeError:
            pass  # the console is closing

    def _read_changes(self) -> None:
        from core.changes import arrived_since

        engine = self.engine()
        self._check_person(engine)
        if not self._listening:
            self._listen(engine)
            return
        if not self._changed:
            return
        self._changed = False
        arrived = arrived_since(engine, self._newest_sale)
        self._newest_sale = max([self._newest_sale, *(sale.id for sale in arrived)])
        self.call_from_thread(self._database_changed, arrived)

    def _database_changed(self, arrived: list) -> None:
        """Every screen in view reads its rows again (keeping its cursor); new sales are announced."""
        from textual.screen import ModalScreen

        in_view = [self.screen]
        if isinstance(self.screen, ModalScreen) and len(self.screen_stack) > 1:
            in_view.append(self.screen_stack[-2])
        for screen in in_view:
            refresh = getattr(screen, "refresh_from_database", None)
            if refresh is not None:
                refresh()
        if arrived:
            numbers = ", ".join(sale.order_number for sale in arrived[:5]) + ("…" if len(arrived) > 5 else "")
            count = len(arrived)
            self.notify(ngettext("{count} new web sale to handle: {numbers}", "{count} new web sales to handle: {numbers}",
                                 count).format(count=count, numbers=numbers),
                        title=ngettext("New web sale", "New web sales", count), timeout=20)
            if self.ring_bell:
                self.bell()

    # --- a sync started from the console ------------------------------------------------------

    def start_sync(self, only: str | None = None) -> None:
        """The same sync as `tandem --sync` (same core, same lock), of every web store or `only` one,
        in a worker of the app's own: leaving the screen that started it does not stop it."""
        if self.sync_running:
            self.notify(_("A sync started here is still running."), timeout=4)
            return
        self.sync_running, self.sync_progress = True, _("starting")
        self._show_sync_progress()
        self.run_worker(lambda: self._sync(only), thread=True, group="console-sync", exit_on_error=False)

    def _sync(self, only: str | None) -> None:
        from core.db import describe_failure
        from core.sync.runner import SyncBusy, run_sync

        def log(message: str) -> None:
            self.call_from_thread(self._sync_said, message)

        secrets = self.settings.secrets_file if self.settings is not None else None
        try:
            report = run_sync(self.engine(), secrets_path=secrets, log=log, only=only, progress=log)
        except SyncBusy as exc:
            from core.watch_status import request_sync, watch_status, why_busy

            if watch_status(self.engine()).state == "running":
                # The live sync holds the lock for good: it is asked to do the whole sync now.
                try:
                    stores = request_sync(self.engine(), only)
                except Exception as refused:  # noqa: BLE001 - said on screen (a role, a database away)
                    self.call_from_thread(self._sync_done, None, _("Not started: {reason}.").format(
                        reason=describe_failure(refused)))
                    return
                self.call_from_thread(self._sync_done, None, None, _(
                    "The live sync holds the stores: it was asked to sync {stores} now; the run shows in "
                    "the sync history.").format(stores=", ".join(stores)))
                return
            self.call_from_thread(self._sync_done, None, _("Not started: {reason}.").format(
                reason=why_busy(self.engine(), exc)))
        except Exception as exc:  # noqa: BLE001 - said on screen; the sync's own rows say the rest
            self.call_from_thread(self._sync_done, None, _("The sync stopped: {reason}").format(reason=describe_failure(exc)))
        else:
            self.call_from_thread(self._sync_done, report, None)

    def _sync_said(self, message: str) -> None:
        self.sync_progress = message
        self._show_sync_progress()

    def _show_sync_progress(self) -> None:
        for screen in self.screen_stack:
            show = getattr(screen, "show_sync_progress", None)
            if show is not None:
                show()

    def _sync_done(self, report, failure: str | None, note: str | None = None) -> None:
        self.sync_running, self.sync_progress = False, ""
        if failure:
            self.notify(failure, title=_("Sync"), severity="warning", timeout=10)
        elif note:
            self.notify(note, title=_("Sync"), timeout=10)
        elif not report.channels:
            self.notify(_("No web store is set up, so there was nothing to sync."), title=_("Sync"), timeout=6)
        else:
            lines = [(_("{store}: ok") if c.status == "ok" else _("{store}: failed — {error}")).format(
                         store=c.channel, error=c.error)
                     + _("; {orders} new orders, {quantities} quantities sent").format(
                         orders=c.orders_imported, quantities=c.items_exported) for c in report.channels]
            failed = any(c.status != "ok" for c in report.channels)
            self.notify("\n".join(lines), title=_("Sync finished"), severity="warning" if failed else "information",
                        timeout=10)
        self._show_sync_progress()
        self._look_for_changes()

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=_("Search for an action…"), id="--command-palette"))

    def get_key_display(self, binding) -> str:
        """Keys written the same in the footer as in the screens' hints ("PgDn", "esc", "?")."""
        from tui.actions import KEY_NAMES

        return _(KEY_NAMES[binding.key]) if binding.key in KEY_NAMES else super().get_key_display(binding)

    def get_default_screen(self) -> HomeScreen:
        return HomeScreen()

    def action_help(self, topic: str | None = None, context: str | None = None) -> None:
        from tui.screens.faq import FaqScreen

        if isinstance(self.screen, FaqScreen):
            return
        context = context or getattr(self.screen, "HELP_CONTEXT", "home")
        self.push_screen(FaqScreen(context, topic, keys_for=screen_of(self.screen), opened_on=self.screen))

    @staticmethod
    async def _rebuild_in_language(screen) -> None:
        await screen.recompose()
        # Each screen fills its new widgets again, where it was: its own way when it has one,
        # else as it did when it opened, then with the database's rows.
        refill = getattr(screen, "language_changed", None)
        if refill is not None:
            refill()
            return
        if hasattr(screen, "on_mount"):
            screen.on_mount()
        if hasattr(screen, "refresh_from_database"):
            screen.refresh_from_database()

    async def action_switch_language(self) -> None:
        """English to French or back, on every screen at once, and remembered in the settings file."""
        from core.i18n import other_language, set_language
        from core.settings import ConfigError, remember_language

        wanted = other_language()
        configured = self.settings.language if self.settings is not None else None
        # A region set in the settings (fr_FR) is kept when coming back to its language.
        chosen = configured if configured and configured.startswith(wanted) else wanted
        set_language(chosen)
        self.sub_title = self._who()
        from textual.screen import ModalScreen

        for screen in self.screen_stack:
            screen.refresh_bindings()
            if isinstance(screen, ModalScreen):
                continue  # a dialog keeps what was typed in it; it speaks the new language next time
            # Rebuilt inside the screen's own message loop: a worker's rows posted to the screen
            # meanwhile are shown before the rebuild or after it, never into widgets half removed.
            rebuilt = asyncio.Event()

            async def rebuild(screen=screen) -> None:
                try:
                    await self._rebuild_in_language(screen)
                finally:
                    rebuilt.set()

            if screen.call_later(rebuild):
                await rebuilt.wait()
        if self.settings is not None and not self.demo:
            try:
                remember_language(self.settings.config_file, chosen)
                from core.settings import settings_stamp

                # The console's own write: not a change to read again and announce.
                self._settings_stamp = settings_stamp(self.settings.config_file)
            except (ConfigError, OSError) as exc:
                self.notify(_("The language could not be remembered: {reason}").format(reason=exc),
                            severity="warning", timeout=10)
                return
        self.notify(_("The console speaks English.") if wanted == "en" else _("The console speaks French."),
                    timeout=3)

    def engine(self) -> Engine:
        """The open, migrated database; the first call opens it. Call from worker threads."""
        with self._engine_lock:
            if self._engine is None:
                from core.db import open_database

                if self.demo:
                    from core.demo import create_demo_database

                    create_demo_database(self._database)
                self._engine = open_database(self._database)
                self._listen(self._engine)
                if self.demo and self.live_demo:
                    from core.demo_live import LiveDemo

                    self._live = LiveDemo(self._engine).start()
            return self._engine

    def on_unmount(self) -> None:
        if self._changes is not None:
            self._changes.stop()
        if self._live is not None:
            self._live.stop()
