"""The `tandem` command. Headless paths import only what they need: never Textual, and for
`--help` not even the database stack, so cron jobs and scripts start quickly."""

from __future__ import annotations

import sys

import core
import tui

# Tandem's top-level `core` and `tui` share their names with other projects' packages. Installed
# into one environment with such a project, one of them overwrites the other's files without a
# word; refuse to run on someone else's code rather than fail somewhere strange later.
if getattr(core, "DISTRIBUTION", None) != "tandem" or getattr(tui, "DISTRIBUTION", None) != "tandem":
    sys.exit(f"tandem: the `core` or `tui` package found ({core.__file__ or core.__path__}) is not Tandem's: another "
             "package installed into the same environment replaced it. Install Tandem in an environment of its "
             "own (scripts/install-for-ssh.sh, or `uv tool install` from a clone), as the README says.")

from core.i18n import N_, _, ngettext  # noqa: E402
from core.plaintext import visible

import argparse
import os
import builtins

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # wrong usage or a configuration error
EXIT_BUSY = 3  # another sync holds the lock

DESCRIPTION = N_("""\
Tandem keeps the shop's point-of-sale inventory and its web store in step.
Without an action flag it opens the staff console.""")

EPILOG = N_("""\
exit codes: 0 done, 1 refused or failed (the message says why), 2 wrong usage or settings,
3 another sync is already running on this database.
environment: TANDEM_DATABASE_URL, TANDEM_CONFIG (same as --db, --config),
TANDEM_SECRET_<CHANNEL>_<NAME> (store credentials, instead of the secrets file).""")


DEMO_TIME_ZONE = "America/New_York"


def print(*values, sep: str = " ", end: str = "\n", file=None, flush: bool = False) -> None:  # noqa: A001
    """Every line the command prints, with control characters shown as symbols: a store's name or
    error message printed by --status, --sync or --watch must not drive the staff's terminal."""
    builtins.print(*(visible(value, lines=True) for value in values), sep=sep, end=end, file=file, flush=flush)


# argparse's own words (usage, errors), translated through the catalogue like the rest.
ARGPARSE_WORDS = (
    N_("usage: "), N_("options"), N_("positional arguments"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"), N_("unrecognized arguments: %s"), N_("not allowed with argument %s"),
    N_("the following arguments are required: %s"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("ignored explicit argument %r"),
)


def _speak(argv: list[str]) -> None:
    """The language before the arguments are read, so `--help` and usage errors speak it too:
    the settings file's (from --config, TANDEM_CONFIG or the default place), else the locale."""
    import os
    import tomllib

    from core.i18n import set_language
    from core.settings import default_config_file

    path = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--config"), None)
    path = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("--config=")), path)
    setting = None
    try:
        with open(path or os.environ.get("TANDEM_CONFIG") or default_config_file(), "rb") as handle:
            setting = tomllib.load(handle).get("shop", {}).get("language")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        pass  # read properly, with its errors said, once the arguments are
    set_language(setting if isinstance(setting, str) else None)
    argparse._ = _
    argparse.ngettext = ngettext


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tandem", description=_(DESCRIPTION), epilog=_(EPILOG),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_argument_group(_("where things are"))
    where.add_argument("--db", metavar="URL", help=_("database URL (sqlite:///FILE or postgresql+psycopg://...)"))
    where.add_argument("--config", metavar="PATH", help=_("settings file (TOML)"))
    actions = parser.add_argument_group(_("actions (one at a time)")).add_mutually_exclusive_group()
    actions.add_argument("--demo", action="store_true",
                         help=_("open the console on a fresh demo shop (needs no account anywhere)"))
    actions.add_argument("--sync", action="store_true",
                         help=_("run the headless sync with every web store, for cron or a systemd timer"))
    actions.add_argument("--watch", action="store_true",
                         help=_("keep every web store in step within seconds, as a service (stops on SIGTERM)"))
    actions.add_argument("--status", action="store_true",
                         help=_("say whether tandem --watch runs and what it last saw of each web store "
                                "(exit 0 only when it runs and every store answers)"))
    actions.add_argument("--import-catalog", metavar="FILE.csv",
                         help=_("load or refresh products and on-hand quantities from a POS export"))
    actions.add_argument("--set-secret", metavar="CHANNEL",
                         help=_("store a web store's credentials (asked for without echo)"))
    actions.add_argument("--export-reconciliation", metavar="DATE",
                         help=_("write the payments by account for DATE (YYYY-MM-DD) to --out"))
    actions.add_argument("--check", action="store_true",
                         help=_("check the settings, secrets and each web store's connection; exit 0 when all hold"))
    actions.add_argument("--scopes", action="store_true",
                         help=_("print the Shopify access scopes Tandem needs, and what each is for"))
    actions.add_argument("--gift-card-balance", nargs=2, metavar=("NUMBER", "AMOUNT"),
                         help=_("record what the POS shows is left on a gift card after it was spent there"))
    actions.add_argument("--locations", action="store_true", help=_("list the shop's locations"))
    actions.add_argument("--add-location", metavar="NAME", help=_("open a new location (a second shop, a warehouse)"))
    actions.add_argument("--rename-location", nargs=2, metavar=("OLD", "NEW"), help=_("rename a location"))
    actions.add_argument("--retire-location", metavar="NAME",
                         help=_("stop using a location; its stock records and history are kept"))
    actions.add_argument("--restore-location", metavar="NAME",
                         help=_("put a retired location back in use, with the stock records it kept"))
    actions.add_argument("--rules", action="store_true",
                         help=_("list each web store's rules (safety stock, in store only, prices) and who set them"))
    actions.add_argument("--load-rules", metavar="FILE.toml",
                         help=_("add, change or remove web-store rules from a rules file (a manager's action)"))
    actions.add_argument("--explain", metavar="SKU",
                         help=_("show what each web store is sent for a product, and which rule made it"))
    actions.add_argument("--supplier-document", nargs=3, metavar=("CHANNEL", "KIND", "SIGNED"),
                         help=_("record a signed supplier document: KIND is internet_addendum, packing_slip_form "
                              "or retailer_contract, SIGNED a date (YYYY-MM-DD)"))
    actions.add_argument("--supplier-fulfilment", nargs=2, metavar=("CHANNEL", "on|off"),
                         help=_("switch supplier fulfilment on (needs the three documents, current) or off"))
    actions.add_argument("--add-staff", metavar="NAME", help=_("add a member of staff (with --role, and --ssh-key for SSH)"))
    actions.add_argument("--list-staff", action="store_true", help=_("list the staff, their roles, PINs and SSH keys"))
    actions.add_argument("--retire-staff", metavar="NAME", help=_("retire a member of staff (their history stays)"))
    actions.add_argument("--set-pin", metavar="NAME", help=_("set a PIN (asked twice, never shown)"))
    actions.add_argument("--roles", action="store_true", help=_("print what each role may do alone"))
    actions.add_argument("--audit", action="store_true", help=_("list who changed what: money, stock and settings"))
    actions.add_argument("--backup", metavar="FILE", nargs="?", const="",
                         help=_("copy the database, safely while Tandem runs (without FILE: a dated copy in the "
                                "backup folder, older copies deleted after [backup] keep_days)"))
    actions.add_argument("--restore", metavar="FILE",
                         help=_("put a copy back in place of the database (refused while Tandem runs; the "
                                "database replaced is kept beside it)"))
    actions.add_argument("--fix-permissions", action="store_true",
                         help=_("make the settings, secrets, database, backups and log readable by this account only"))
    actions.add_argument("--paths", action="store_true", help=_("print where the settings and data live"))
    actions.add_argument("--version", action="store_true", help=_("print the version"))
    parser.add_argument("--location", metavar="NAME",
                        help=_("location whose quantities --import-catalog sets (default: the first); with "
                             "--supplier-fulfilment on, the location that receives supplier-shipped orders"))
    documents = parser.add_argument_group(_("with --supplier-document"))
    documents.add_argument("--ends", metavar="DATE", help=_("the last day the document is valid (a contract's end)"))
    documents.add_argument("--reference", metavar="TEXT", help=_("where the signed copy is kept (a file, a folder)"))
    documents.add_argument("--brand", metavar="NAME",
                           help=_("the brand it is for, when the web store has several suppliers (default: every brand)"))
    parser.add_argument("--no-mouse", action="store_true", help=_("ignore the mouse in the console"))
    parser.add_argument("--verbose", action="store_true",
                        help=_("log every detail (DEBUG), and show the log on standard error too"))
    people = parser.add_argument_group(_("staff"))
    people.add_argument("--staff", metavar="NAME",
                        help=_("act as this member of staff (each SSH key's forced command); with --audit, only "
                               "what they did"))
    people.add_argument("--role", choices=("cashier", "manager", "owner"), help=_("with --add-staff: their role"))
    people.add_argument("--ssh-key", metavar="FILE", help=_("with --add-staff: their SSH public key (a .pub file)"))
    people.add_argument("--since", metavar="DATE", help=_("with --audit: from this day (YYYY-MM-DD)"))
    report = parser.add_argument_group(_("with --export-reconciliation"))
    report.add_argument("--to", metavar="DATE", help=_("last day of the period (default: the same day)"))
    report.add_argument("--format", choices=("csv", "iif"), default="csv", help=_("CSV, or a QuickBooks IIF deposit file"))
    report.add_argument("--out", metavar="FILE", help=_("where to write it"))
    live = parser.add_argument_group(_("with --watch"))
    live.add_argument("--listen", metavar="ADDRESS:PORT",
                      help=_("also receive the web stores' webhooks there (behind a reverse proxy with TLS)"))
    live.add_argument("--register-webhooks", metavar="URL",
                      help=_("subscribe every web store's new and changed orders to URL/webhooks/CHANNEL, then exit"))
    sync = parser.add_argument_group(_("with --sync"))
    sync.add_argument("--full", action="store_true", help=_("export every matched product, changed or not"))
    sync.add_argument("--export-now", action="store_true", help=_("export changes now, even if not due yet"))
    sync.add_argument("--dry-run", action="store_true", help=_("print what the export would send; send nothing"))
    sync.add_argument("--json", action="store_true", help=_("print a summary object on stdout (also with --audit)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _speak(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.location and not (args.import_catalog or args.supplier_fulfilment):
        parser.error(_("--location goes with --import-catalog or --supplier-fulfilment"))
    if (args.ends or args.reference or args.brand) and not args.supplier_document:
        parser.error(_("--ends, --reference and --brand go with --supplier-document"))
    if (args.full or args.export_now or args.dry_run) and not args.sync:
        parser.error(_("--full, --export-now and --dry-run go with --sync"))
    if args.json and not (args.sync or args.audit):
        parser.error(_("--json goes with --sync or --audit"))
    if (args.role or args.ssh_key) and not args.add_staff:
        parser.error(_("--role and --ssh-key go with --add-staff"))
    if args.add_staff and not args.role:
        parser.error(_("--add-staff needs --role cashier, manager or owner"))
    if args.since and not args.audit:
        parser.error(_("--since goes with --audit"))
    if (args.listen or args.register_webhooks) and not args.watch:
        parser.error(_("--listen and --register-webhooks go with --watch"))
    listen = None
    if args.listen:
        host, _colon, port = args.listen.rpartition(":")
        if not host or not port.isdigit():
            parser.error(_("--listen takes ADDRESS:PORT, for example 127.0.0.1:8787"))
        listen = (host, int(port))
    if args.export_reconciliation and not args.out:
        parser.error(_("--export-reconciliation needs --out FILE"))
    if (args.to or args.out) and not args.export_reconciliation:
        parser.error(_("--to and --out go with --export-reconciliation"))
    if args.roles:
        from core.roles import role_lines

        for line in role_lines():
            print(line)
        return EXIT_OK
    if args.scopes:
        from core.connectors.shopify_scopes import scope_lines

        for line in scope_lines():
            print(line)
        return EXIT_OK
    if args.version:
        from core import version

        print(f"tandem {version()}")
        return EXIT_OK

    from sqlalchemy.exc import SQLAlchemyError

    from core.db import DatabaseError, describe_failure, remember_database_password
    from core.secrets import SecretsError, redact
    if args.staff and os.environ.get("SSH_CONNECTION"):
        # A person over SSH: what they could send in their environment (an sshd that accepts more
        # than LANG) chooses neither the database, nor the settings, nor credentials.
        for name in [name for name in os.environ if name.startswith("TANDEM_")]:
            del os.environ[name]
    from core.roles import NotAllowed
    from core.settings import ConfigError, load_settings
    from core.staff import StaffError

    try:
        settings = load_settings(db_url=args.db, config_path=args.config)
        remember_database_password(settings.database_url)
        from core.i18n import set_language

        # Programs read --json: its messages stay English whatever the shop speaks.
        set_language("en" if args.json else settings.language, currency=settings.currency)
        from core.shoptime import set_shop_zone

        # The demo shop is in Eastern time, where supplier orders are released.
        set_shop_zone(settings.time_zone or (DEMO_TIME_ZONE if args.demo else None))
        from core.roles import set_refund_limit

        set_refund_limit(settings.cashier_refund_limit)
        from core.logs import setup_logging

        # The console's own terminal is its screen: its log goes to the file (or the journal) only.
        console = not any((args.sync, args.watch, args.status, args.check, args.backup is not None, args.restore,
                           args.import_catalog, args.export_reconciliation, args.paths, args.audit))
        setup_logging(verbose=args.verbose, echo=args.verbose and not console, demo=args.demo)
        _warn_if_readable_by_others(settings)
        if args.paths:
            return _print_paths(settings)
        if args.audit:
            return _audit(settings, args)
        if args.staff:
            who = _identify(settings, args.staff)
            if who is not None:
                return who
            over_ssh = os.environ.get("SSH_ORIGINAL_COMMAND")
            if over_ssh is not None and over_ssh.strip():
                return _ssh_request(settings, over_ssh)
        if args.sync or args.watch:
            from core.audit import SERVICE, set_session_actor

            set_session_actor(SERVICE)  # headless runs are the service, never a person
        if args.add_staff or args.list_staff or args.retire_staff or args.set_pin:
            return _staff(settings, args)
        if args.set_secret:
            return _set_secret(settings, args.set_secret)
        if args.import_catalog:
            return _import_catalog(settings, args.import_catalog, args.location)
        if args.check:
            from core.check import check_setup

            lines = check_setup(settings)
            for line in lines:
                print(line)
            return EXIT_OK if all(line.holds for line in lines) else EXIT_ERROR
        if args.gift_card_balance:
            return _gift_card_balance(settings, *args.gift_card_balance)
        if args.locations or args.add_location or args.rename_location or args.retire_location or args.restore_location:
            return _locations(settings, args)
        if args.supplier_document or args.supplier_fulfilment:
            return _supplier(settings, args)
        if args.rules or args.load_rules or args.explain:
            return _rules(settings, args)
        if args.sync:
            return _sync(settings, args)
        if args.watch:
            return _register_webhooks(settings, args.register_webhooks) if args.register_webhooks \
                else _watch(settings, listen)
        if args.status:
            return _status(settings)
        if args.backup is not None:
            return _backup(settings, args.backup)
        if args.restore:
            return _restore(settings, args.restore)
        if args.fix_permissions:
            return _fix_permissions(settings)
        if args.export_reconciliation:
            return _export_reconciliation(settings, args)
        return _console(settings, demo=args.demo, mouse=not args.no_mouse)
    except (ConfigError, SecretsError) as exc:
        print(_('tandem: {value}').format(value=redact(exc)), file=sys.stderr)
        return EXIT_USAGE
    except (NotAllowed, StaffError) as exc:
        print(_('tandem: {value}').format(value=exc), file=sys.stderr)
        return EXIT_ERROR
    except DatabaseError as exc:
        print(_('tandem: {value}').format(value=redact(exc)), file=sys.stderr)
        return EXIT_ERROR
    except SQLAlchemyError as exc:
        # Each action is one transaction: whatever went wrong, nothing of it was written.
        print(_('tandem: {value}').format(value=redact(describe_failure(exc))), file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(_('tandem: {value}{where}; nothing was written.').format(value=exc.strerror or exc, where=where), file=sys.stderr)
        return EXIT_ERROR


def _print_paths(settings) -> int:
    from core.db import redacted_url

    state = "" if settings.config_file_exists else "  " + _("(not created yet; defaults apply)")
    print(_('settings file  {config_file}{state}').format(config_file=settings.config_file, state=state))
    print(_('database       {value}  (from {database_source})').format(value=redacted_url(settings.database_url), database_source=_("default") if settings.database_source == "default" else settings.database_source))
    print(_('data directory {data_dir}').format(data_dir=settings.data_dir))
    print(_('secrets file   {secrets_file}').format(secrets_file=settings.secrets_file))
    print(_('demo database  {value}').format(value=redacted_url(settings.demo_database_url)))
    from core.logs import log_file

    print(_('backups        {path}').format(path=settings.backup_folder or settings.data_dir / "backups"))
    print(_('log            {path}').format(path=log_file()))
    return EXIT_OK


def _import_catalog(settings, path: str, location: str | None) -> int:
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        print(_('tandem: no such file: {path}').format(path=path), file=sys.stderr)
        return EXIT_ERROR
    return _run_import(settings, file, location or settings.default_location, file.name)


def _run_import(settings, source, location: str | None, label: str) -> int:
    """Import a catalog (a file, or the bytes an SSH session sent), all or nothing, and say so."""
    from core.catalog_import import CatalogImportError, import_catalog
    from core.db import open_database
    from core.locations import UnknownLocationError

    try:
        report = import_catalog(open_database(settings.database_url), source, location)
    except CatalogImportError as exc:
        print(_('tandem: {name}: {exc}; nothing was written.').format(name=label, exc=exc), file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        for warning in exc.warnings:
            print("  " + _('warning: {warning}').format(warning=warning), file=sys.stderr)
        return EXIT_ERROR
    except UnknownLocationError as exc:
        print(_('tandem: {exc}; nothing was written.').format(exc=exc), file=sys.stderr)
        return EXIT_ERROR
    for warning in report.warnings:
        print(_('warning: {warning}').format(warning=warning), file=sys.stderr)
    print(
        _('{name}: {rows} rows for {location}: {added} added, {updated} updated, {unchanged} unchanged; {stock_changed} on-hand quantities changed.').format(name=label, rows=report.rows, location=report.location, added=report.added, updated=report.updated, unchanged=report.unchanged, stock_changed=report.stock_changed)
    )
    return EXIT_OK


def _gift_card_balance(settings, number: str, balance: str) -> int:
    from core.audit import current_actor
    from core.db import open_database
    from core.gift_cards import set_gift_card_balance
    from core.i18n import money, parse_decimal
    from core.sales import SaleError

    try:
        amount = parse_decimal(balance)
    except ValueError:
        print(_("tandem: {value} is not an amount").format(value=repr(balance)), file=sys.stderr)
        return EXIT_USAGE
    try:
        spent = set_gift_card_balance(open_database(settings.database_url), number, amount, current_actor())
    except SaleError as exc:
        print(_('tandem: {exc}; nothing was changed.').format(exc=exc), file=sys.stderr)
        return EXIT_ERROR
    print(_("gift card {number}: {left} left ({spent} spent)").format(number=number, left=money(amount),
                                                                      spent=money(spent)))
    return EXIT_OK


def _locations(settings, args) -> int:
    from core.audit import current_actor
    from core.db import open_database
    from core.locations import (
        LocationError, add_location, list_locations, rename_location, restore_location, retire_location,
    )

    engine = open_database(settings.database_url)
    try:
        if args.add_location:
            add_location(engine, args.add_location, current_actor())
            print(_('location {value} added; load its counts with tandem --import-catalog FILE --location {value}').format(value=repr(args.add_location.strip())))
        elif args.rename_location:
            rename_location(engine, *args.rename_location, current_actor())
            print(_('location {value} is now {value2}').format(value=repr(args.rename_location[0]), value2=repr(args.rename_location[1].strip())))
        elif args.retire_location:
            retire_location(engine, args.retire_location, current_actor())
            print(_('location {retire_location} retired; its history is kept').format(retire_location=repr(args.retire_location)))
        elif args.restore_location:
            restore_location(engine, args.restore_location, current_actor())
            print(_('location {name} is in use again').format(name=repr(args.restore_location)))
        else:
            for name, active, units in list_locations(engine):
                print(_('{name}\t{value}\t{units} units on hand').format(name=name, value=_('in use') if active else _('retired'), units=units))
    except LocationError as exc:
        print(_('tandem: {exc}; nothing was changed.').format(exc=exc), file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _rules(settings, args) -> int:
    from pathlib import Path

    from sqlalchemy import select

    from core.audit import current_actor
    from core.db import open_database
    from core.models import Product
    from core.rules import RuleError, rule_lines
    from core.rules_view import product_on_channels
    from core.rules_file import load_rules_file

    engine = open_database(settings.database_url)
    if args.load_rules:
        try:
            for store, rule, effect in load_rules_file(engine, Path(args.load_rules), current_actor()):
                print(_("{store}: {rule}: {moves}").format(store=store, rule=rule.name, moves=effect.said(rule)))
        except RuleError as exc:
            print(_('tandem: {exc}; nothing was changed.').format(exc=exc), file=sys.stderr)
            return EXIT_ERROR
        return EXIT_OK
    if args.explain:
        with engine.connect() as conn:
            product = conn.execute(select(Product.id).where(Product.sku == args.explain)).scalar()
        if product is None:
            print(_("tandem: no product with SKU {sku}").format(sku=repr(args.explain)), file=sys.stderr)
            return EXIT_ERROR
        views = product_on_channels(engine, product)
        if not views:
            print(_("{sku} is not linked on any web store").format(sku=args.explain))
        for view in views:
            print(_("{store}: quantity {pos} in the shop → {sent} ({rule})").format(
                store=view.channel, pos=view.pos_available, sent=view.quantity.value, rule=view.quantity.rule))
            print(_("{store}: price {shop} in the shop → {sent} ({rule})").format(
                store=view.channel, shop=view.shop_price, sent=view.price.value, rule=view.price.rule))
        return EXIT_OK
    for line in rule_lines(engine):
        print(line)
    return EXIT_OK


def _supplier(settings, args) -> int:
    from datetime import date

    from sqlalchemy import select

    from core.audit import current_actor
    from core.db import open_database
    from core.locations import UnknownLocationError, resolve_location
    from core.models import SalesChannel
    from core.sales import SaleError
    from core.supplier import disable_supplier_fulfillment, enable_supplier_fulfillment, record_supplier_document
    from core.channels import apply_channel_settings

    channel_name = (args.supplier_document or args.supplier_fulfilment)[0]
    if channel_name not in settings.channels:
        known = ", ".join(settings.channels) or _("none")
        print(_('tandem: no channel {channel_name} in {config_file} (channels: {known})').format(channel_name=repr(channel_name), config_file=settings.config_file, known=known), file=sys.stderr)
        return EXIT_USAGE
    engine = open_database(settings.database_url)
    apply_channel_settings(engine, settings.channels, retire_missing=False)
    with engine.connect() as conn:
        channel_id = conn.execute(select(SalesChannel.id).where(SalesChannel.name == channel_name)).scalar_one()
    try:
        if args.supplier_document:
            _channel, kind, signed = args.supplier_document
            try:
                signed_on = date.fromisoformat(signed)
                ends_on = date.fromisoformat(args.ends) if args.ends else None
            except ValueError:
                print(_("tandem: dates are written YYYY-MM-DD"), file=sys.stderr)
                return EXIT_USAGE
            record_supplier_document(engine, channel_id, kind, signed_on, current_actor(), ends_on, args.reference,
                                     args.brand)
            what = (_("{kind} for {brand}") if args.brand else "{kind}").format(kind=kind, brand=(args.brand or "").strip())
            until = _(", valid to {day}").format(day=ends_on) if ends_on else ""
            print(_("{store}: {what} signed {day}{until} recorded").format(store=channel_name, what=what,
                                                                           day=signed_on, until=until))
            return EXIT_OK
        _channel, switch = args.supplier_fulfilment
        if switch not in ("on", "off"):
            print(_("tandem: --supplier-fulfilment CHANNEL takes on or off"), file=sys.stderr)
            return EXIT_USAGE
        if switch == "off":
            disable_supplier_fulfillment(engine, channel_id, current_actor())
            print(_('{channel_name}: supplier fulfilment off; orders tagged supplier-shipped now wait for a person').format(channel_name=channel_name))
            return EXIT_OK
        route_to = None
        if args.location:
            with engine.connect() as conn:
                route_to = resolve_location(conn, args.location)
        enable_supplier_fulfillment(engine, channel_id, current_actor(), route_to)
        print((_("{store}: supplier fulfilment on; supplier orders go to {location}") if args.location
               else _("{store}: supplier fulfilment on")).format(store=channel_name, location=args.location))
        return EXIT_OK
    except (SaleError, UnknownLocationError) as exc:
        print(_('tandem: {exc}; nothing was changed.').format(exc=exc), file=sys.stderr)
        return EXIT_ERROR


def _sync(settings, args) -> int:
    from core.db import open_database
    from core.channels import apply_channel_settings
    from core.sync.runner import SyncBusy, SyncOptions, run_sync

    engine = open_database(settings.database_url)
    for name in apply_channel_settings(engine, settings.channels):
        print(_('tandem sync: channel {name} is no longer in {config_file}: it no longer syncs; its sales and history are kept (put it back in the settings to sync it again)').format(name=repr(name), config_file=settings.config_file), file=sys.stderr)
    options = SyncOptions(full=args.full, dry_run=args.dry_run, export_now=args.export_now, print_plan=not args.json)
    try:
        if sys.stderr.isatty():
            # On a terminal, one live status line; in cron's mail or a journal, plain lines.
            from rich.console import Console

            with Console(stderr=True).status(_("tandem sync: starting")) as status:
                report = run_sync(engine, options=options, secrets_path=settings.secrets_file,
                                  log=lambda message: status.update(_('tandem sync: {message}').format(message=message)))
            for result in report.channels:
                state = _("ok") if result.status == "ok" else _("failed: {error}").format(error=result.error)
                print(_('tandem sync: {channel}: {state}; {orders_imported} new orders, {items_exported} quantities sent').format(channel=result.channel, state=state, orders_imported=result.orders_imported, items_exported=result.items_exported), file=sys.stderr)
        else:
            report = run_sync(engine, options=options, secrets_path=settings.secrets_file)
    except SyncBusy as exc:
        from core.watch_status import why_busy

        print(_('tandem: {exc}').format(exc=why_busy(engine, exc)), file=sys.stderr)
        return EXIT_BUSY
    if not report.channels:
        print(_("tandem: no web store is configured, so there is nothing to sync."), file=sys.stderr)
    if args.json:
        print(report.to_json())
    return report.exit_code


def _register_webhooks(settings, base_url: str) -> int:
    from core.channels import apply_channel_settings
    from core.connectors.base import ConnectorError
    from core.connectors.registry import connector_for_row
    from core.db import open_database
    from core.models import SalesChannel
    from core.secrets import redact, webhook_secret
    from sqlalchemy import select

    engine = open_database(settings.database_url)
    apply_channel_settings(engine, settings.channels)
    with engine.connect() as conn:
        channels = conn.execute(select(SalesChannel.__table__).where(SalesChannel.active.is_(True))).all()
    failed = False
    for channel in channels:
        connector = connector_for_row(channel, settings.secrets_file)
        url = f"{base_url.rstrip('/')}/webhooks/{channel.name}"
        try:
            made = connector.register_webhooks(url, webhook_secret(settings.secrets_file, channel.name))
            print(_("{channel}: {count} webhooks now go to {url}").format(channel=channel.name, count=len(made), url=url))
        except (ConnectorError, AttributeError) as exc:
            failed = True
            print(_("{channel}: {error}").format(channel=channel.name, error=redact(exc)), file=sys.stderr)
        finally:
            connector.close()
    return EXIT_ERROR if failed else EXIT_OK


def _watch(settings, listen=None) -> int:
    """Runs until SIGTERM or Ctrl-C; the step under way finishes first."""
    import signal
    import threading

    from core.channels import apply_channel_settings
    from core.db import open_database
    from core.secrets import redact
    from core.sync.watch import watch

    engine = open_database(settings.database_url)
    apply_channel_settings(engine, settings.channels)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    print(_("tandem watch: watching every web store; SIGTERM or Ctrl-C stops it"), file=sys.stderr)
    try:
        state = watch(engine, stop, secrets_path=settings.secrets_file, listen=listen,
                      on_listening=lambda port: print(_("tandem watch: webhooks are received on port {port}").format(
                          port=port), file=sys.stderr),
                      log=lambda message: print(_("tandem watch: {message}").format(message=redact(message)),
                                                file=sys.stderr))
    except OSError as exc:
        if listen is None:
            raise
        print(_("tandem watch: cannot listen on {address}: {reason}").format(
            address=f"{listen[0]}:{listen[1]}", reason=exc.strerror or exc), file=sys.stderr)
        return EXIT_USAGE
    print(_("tandem watch: stopped after {rounds} rounds; {orders} new orders").format(
        rounds=state.rounds, orders=state.orders), file=sys.stderr)
    return EXIT_OK


def _warn_if_readable_by_others(settings) -> None:
    from core.permissions import readable_by_others

    if settings.config_file_exists and (mode := readable_by_others(settings.config_file)) is not None:
        print(_("tandem: warning: {path} can be read by other users (mode {mode:03o}); it may hold the database's "
                "password. Fix it with: tandem --fix-permissions (or chmod 600 {path})").format(
            path=settings.config_file, mode=mode), file=sys.stderr)


def _fix_permissions(settings) -> int:
    from core.permissions import make_private

    changed = make_private(settings)
    for path in changed:
        print(_("made private: {path}").format(path=path))
    if not changed:
        print(_("nothing to change: every file and folder is readable by this account only"))
    return EXIT_OK


def _backup(settings, target: str) -> int:
    from pathlib import Path

    from core.backup import BackupError, backup

    try:
        result = backup(settings, Path(target).expanduser() if target else None)
    except BackupError as exc:
        print(_("tandem: {value}; no copy was made.").format(value=exc), file=sys.stderr)
        return EXIT_ERROR
    print(_("backup written: {path} ({size:,} bytes)").format(path=result.path, size=result.size))
    for path in result.pruned:
        print(_("deleted an old copy: {path}").format(path=path))
    return EXIT_OK


def _restore(settings, source: str) -> int:
    from pathlib import Path

    from core.backup import BackupError, restore

    try:
        kept = restore(settings, Path(source).expanduser())
    except BackupError as exc:
        print(_("tandem: {value}; nothing was changed.").format(value=exc), file=sys.stderr)
        return EXIT_ERROR
    print(_("restored from {source}").format(source=source))
    if kept is not None:
        print(_("the database it replaced is kept as {path}").format(path=kept))
    return EXIT_OK


def _status(settings) -> int:
    from core.db import open_database
    from core.dbtypes import utcnow
    from core.watch_status import channel_line, headline, watch_status

    status = watch_status(open_database(settings.database_url))
    now = utcnow()
    print(headline(status, now))
    for channel in status.channels:
        print("  " + channel_line(channel, now))
    from core.logs import log_file, under_systemd

    print(_("log: the journal (journalctl -u tandem-watch)") if under_systemd()
          else _("log: {path}").format(path=log_file()))
    return EXIT_OK if status.healthy else EXIT_ERROR


def _export_reconciliation(settings, args) -> int:
    from datetime import date
    from pathlib import Path

    from core.db import open_database
    from core.reconciliation import reconciliation, to_csv, to_iif

    try:
        first = date.fromisoformat(args.export_reconciliation)
        last = date.fromisoformat(args.to) if args.to else first
    except ValueError:
        print(_("tandem: dates are written YYYY-MM-DD"), file=sys.stderr)
        return EXIT_USAGE
    if last < first:
        print(_("tandem: --to is before the first day"), file=sys.stderr)
        return EXIT_USAGE
    entries = reconciliation(open_database(settings.database_url), first, last)
    text = to_iif(entries) if args.format == "iif" else to_csv(entries)
    try:
        Path(args.out).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        print(_('tandem: cannot write {out} ({strerror})').format(out=args.out, strerror=exc.strerror), file=sys.stderr)
        return EXIT_ERROR
    print(_('{out}: {value} account-days, {first} to {last}').format(out=args.out, value=len(entries), first=first, last=last))
    return EXIT_OK


def _set_secret(settings, channel: str) -> int:
    import getpass

    from core.secrets import NEEDED, save_secrets

    from core.audit import current_actor
    from core.roles import require

    require(current_actor(), "channels.manage")
    spec = settings.channels.get(channel)
    if spec is None:
        known = ", ".join(settings.channels) or _("none")
        print(_('tandem: no channel {channel} in {config_file} (channels: {known})').format(channel=repr(channel), config_file=settings.config_file, known=known), file=sys.stderr)
        return EXIT_USAGE
    # From a script, the values come through stdin, one line each, in the order asked.
    piped = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin

    def ask(name: str, prompt: str | None = None) -> str | None:
        value = piped.readline() if piped else getpass.getpass(
            prompt or _('{channel} {value}: ').format(channel=channel, value=name.replace('_', ' ')))
        if not value.strip():
            print(_("tandem: nothing entered; nothing was saved."), file=sys.stderr)
            return None
        return value.strip()

    values: dict[str, str] = {}
    names = NEEDED.get(spec["platform"], ((),))[0]
    if spec["platform"] == "shopify":
        # A Dev Dashboard app gives a client ID and secret; an app made in the admin before 2026, a token.
        first = ask("client_id", _("{channel} client ID (or a legacy shpat_ access token): ").format(channel=channel))
        if first is None:
            return EXIT_ERROR
        names = ("client_secret",)
        values["access_token" if first.startswith("shpat_") else "client_id"] = first
        if first.startswith("shpat_"):
            names = ()
    for name in names:
        value = ask(name)
        if value is None:
            return EXIT_ERROR
        values[name] = value
    others = {name for choice in NEEDED.get(spec["platform"], ()) for name in choice} - set(values)
    save_secrets(settings.secrets_file, channel, values, forget=others)
    print(_('saved in {secrets_file} (readable by you only)').format(secrets_file=settings.secrets_file))
    return EXIT_OK


def _identify(settings, name: str) -> int | None:
    """Act as `name` from now on (each SSH key's forced command says who): None when they work here."""
    from core.audit import current_actor, set_session_actor
    from core.db import open_database
    from core.staff import StaffError, actor_for

    try:
        person = actor_for(open_database(settings.database_url), name, current_actor().client)
    except StaffError as exc:
        print(_('tandem: {value}').format(value=exc), file=sys.stderr)
        return EXIT_USAGE
    set_session_actor(person)
    return None


# Over SSH, each key's forced command runs the console; the one other request it takes.
SSH_IMPORT = "import-catalog"
LARGEST_SSH_IMPORT = 256 << 20  # a POS export of millions of rows; beyond, a mistake


def _ssh_request(settings, request: str) -> int:
    """What a person asked for on the ssh command line: only `import-catalog [--location NAME]`,
    the POS export read from standard input (`ssh shop@host import-catalog < export.csv`)."""
    import shlex

    try:
        words = shlex.split(request)
    except ValueError:
        words = []
    if words[:1] != [SSH_IMPORT] or len(words) not in (1, 3) or (len(words) == 3 and words[1] != "--location"):
        print(_("tandem: over SSH you get the console, or `{command} < export.csv`; refused: {request}").format(
            command=SSH_IMPORT, request=visible(request[:80])), file=sys.stderr)
        return EXIT_USAGE
    from core.audit import current_actor
    from core.roles import require

    require(current_actor(), "catalog.import")  # before reading what may be a great deal
    data = sys.stdin.buffer.read(LARGEST_SSH_IMPORT + 1) if sys.stdin is not None else b""
    if len(data) > LARGEST_SSH_IMPORT:
        print(_("tandem: the file is larger than {size} MB; nothing was written").format(
            size=LARGEST_SSH_IMPORT >> 20), file=sys.stderr)
        return EXIT_USAGE
    if not data.strip():
        print(_("tandem: nothing came on standard input: ssh shop@host {command} < export.csv").format(
            command=SSH_IMPORT), file=sys.stderr)
        return EXIT_USAGE
    return _run_import(settings, data, words[2] if len(words) == 3 else settings.default_location, _("standard input"))


def _staff(settings, args) -> int:
    import getpass

    from core.audit import current_actor
    from core.db import open_database
    from core import staff

    engine, actor = open_database(settings.database_url), current_actor()
    if args.add_staff:
        key_text = None
        if args.ssh_key:
            from pathlib import Path

            from core.authorized_keys import AuthorizedKeysError, parse_public_key

            try:
                key_text = Path(args.ssh_key).read_text(encoding="utf-8")
                parse_public_key(key_text)  # refused before the person is added
            except (OSError, UnicodeDecodeError) as exc:
                print(_('tandem: cannot read {path} ({reason})').format(path=args.ssh_key, reason=exc), file=sys.stderr)
                return EXIT_USAGE
            except AuthorizedKeysError as exc:
                print(_('tandem: {value}').format(value=exc), file=sys.stderr)
                return EXIT_USAGE
        known = {person.name.lower(): person for person in staff.list_staff(engine) if person.active}
        if args.add_staff.lower() in known and key_text is not None:
            # Someone already listed: this gives them their (new) SSH key, their role unchanged.
            from core.roles import require

            require(actor, "staff.manage")
            if known[args.add_staff.lower()].role != args.role:
                staff.change_role(engine, args.add_staff, args.role, actor)
        else:
            staff.add_staff(engine, args.add_staff, args.role, actor)
            print(_("{name} added as {role}.").format(name=args.add_staff, role=args.role))
        if key_text is not None:
            from core.authorized_keys import set_staff_key

            fingerprint = set_staff_key(settings.authorized_keys, args.add_staff, key_text, program=_program())
            print(_("Their SSH key {fingerprint} opens Tandem as {name} ({path}).").format(
                fingerprint=fingerprint, name=args.add_staff, path=settings.authorized_keys))
        return EXIT_OK
    if args.retire_staff:
        staff.retire_staff(engine, args.retire_staff, actor)
        from core.authorized_keys import remove_staff_key

        removed = settings.authorized_keys.exists() and remove_staff_key(settings.authorized_keys, args.retire_staff)
        print(_("{name} retired{key}.").format(name=args.retire_staff,
                                               key=_("; their SSH key no longer opens Tandem") if removed else ""))
        return EXIT_OK
    if args.set_pin:
        piped = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin
        first = piped.readline().strip() if piped else getpass.getpass(_("New PIN for {name}: ").format(name=args.set_pin))
        second = piped.readline().strip() if piped else getpass.getpass(_("The same PIN again: "))
        if first != second:
            print(_("tandem: the two PINs differ; nothing was saved."), file=sys.stderr)
            return EXIT_ERROR
        staff.set_pin(engine, args.set_pin, first, actor)
        print(_("PIN set for {name}.").format(name=args.set_pin))
        return EXIT_OK
    from core.authorized_keys import staff_keys

    keys = {name.lower(): fingerprint for name, fingerprint in
            (staff_keys(settings.authorized_keys) if settings.authorized_keys.exists() else {}).items()}
    people = staff.list_staff(engine)
    if not people:
        print(_("Nobody on the staff list yet: tandem --add-staff NAME --role owner --ssh-key FILE.pub"))
    for person in people:
        state = _("active") if person.active else _("retired")
        pin = _("PIN set") if person.has_pin else _("no PIN")
        print(f"{person.name:<16} {_(person.role):<8} {state:<8} {pin:<8} {keys.get(person.name.lower(), '-')}")
    return EXIT_OK


def _program() -> str:
    """This very `tandem`, by its absolute path, for the forced command: sshd's PATH may not reach
    where it is installed, and another `tandem` on this PATH may not be one the account can run."""
    import shutil
    from pathlib import Path

    here = Path(sys.argv[0])
    if here.name == "tandem" and here.is_file() and os.access(here, os.X_OK):
        return str(here.absolute())  # not resolved: a link such as /usr/local/bin/tandem stays one
    found = shutil.which("tandem")
    return str(Path(found).absolute()) if found else "tandem"


def _audit(settings, args) -> int:
    import json
    from datetime import date

    from core.audit import audit_entries
    from core.db import open_database

    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        print(_("tandem: dates are written YYYY-MM-DD"), file=sys.stderr)
        return EXIT_USAGE
    entries = audit_entries(open_database(settings.database_url), since=since, person=args.staff)
    if args.json:
        print(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False, indent=1))
        return EXIT_OK
    for entry in entries:
        print(entry.line())
    return EXIT_OK


def _console(settings, demo: bool, mouse: bool) -> int:
    # The console opens the database itself, after its first paint (see tui.app).
    from tui.app import TandemApp

    url = settings.demo_database_url if demo else settings.database_url
    if not demo and settings.channels:
        from core.db import open_database
        from core.channels import apply_channel_settings

        apply_channel_settings(open_database(url), settings.channels, retire_missing=False)
    from core.audit import session_actor

    app = TandemApp(url, demo=demo, settings=settings, live_demo=demo, person=session_actor())
    app.run(mouse=mouse)
    return app.return_code or EXIT_OK
