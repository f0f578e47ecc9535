"""The headless sync (`tandem --sync`), for cron or a systemd timer.

For each channel: web listings -> matching -> orders since the saved cursor -> the export, when
it is due (each channel has an export time and time zone) or when asked. Every step commits what
it stored before its cursor or mark moves, so killing the process at any moment and running again
finishes the job with nothing lost and nothing doubled. One sync runs at a time per database.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from datetime import time as clock
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from core.i18n import _, number
from core.audit import current_actor
from core.changes import current_position
from core.channels import apply_channel_settings
from core.config import ChannelConfig
from core.connectors.base import ConnectorError
from core.connectors.registry import connector_for_row
from core.db import describe_failure
from core.dbtypes import utcnow
from core.models import MatchState, SalesChannel, SaleState, SyncCursor, SyncRun, WebSale
from core.secrets import SecretsError, redact
from core.settings import ConfigError
from core.shoptime import shop_zone
from core.sync.export import run_export
from core.sync.listings import store_listings
from core.sync.matching import match_channel, match_sale_lines
from core.sync.orders import OrdersReport, store_orders
from core.sync.settle import settle_sales
from core.synclock import INTERRUPTED, SyncBusy, close_dead_runs, sync_lock

logger = logging.getLogger(__name__)

__all__ = ["SyncBusy", "sync_lock", "run_sync", "sync_channel", "apply_channel_settings"]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_BUSY = 0, 1, 2, 3
ORDERS_CURSOR, EXPORTED_ON = "orders_updated_at", "exported_on"
RATE_LIMIT_CURSOR = "rate_limit"  # the store's cost bucket as the last process saw it


@dataclass
class ChannelResult:
    channel: str
    status: str = "ok"
    listings_seen: int = 0
    matched: int = 0
    ambiguous: int = 0
    conflict: int = 0
    unmatched: int = 0
    orders_imported: int = 0
    orders_updated: int = 0
    orders_held: int = 0  # held for the supplier: waiting for their release time
    orders_for_a_person: int = 0  # held for a person to decide who ships them
    export_ran: bool = False
    items_exported: int = 0
    prices_exported: int = 0
    api_requests: int = 0
    retries: int = 0
    error: str | None = None


@dataclass
class SyncOptions:
    full: bool = False
    dry_run: bool = False
    export_now: bool = False
    print_plan: bool = True  # with dry_run: list what would be sent on stdout
    now: datetime | None = None


@dataclass
class SyncReport:
    channels: list[ChannelResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if any(c.status != "ok" for c in self.channels) else EXIT_OK

    def to_json(self) -> str:
        return json.dumps({"channels": [asdict(c) for c in self.channels], "exit_code": self.exit_code}, indent=2)


def _cursor(engine: Engine, channel_id: int, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(SyncCursor.value).where(
            SyncCursor.channel_id == channel_id, SyncCursor.name == name)).scalar()


def _save_cursor(conn, channel_id: int, name: str, value: str) -> None:
    table = SyncCursor.__table__
    if not conn.execute(update(table).where(table.c.channel_id == channel_id, table.c.name == name)
                        .values(value=value, updated_at=utcnow())).rowcount:
        conn.execute(insert(table).values(channel_id=channel_id, name=name, value=value, updated_at=utcnow()))


def _zone(name: str | None):
    if not name:
        return shop_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(_('unknown time zone {name}').format(name=repr(name))) from None


def export_due(engine: Engine, channel_id: int, config: ChannelConfig, now: datetime) -> bool:
    """Due once a day, from the channel's export time in its own time zone."""
    local = now.astimezone(_zone(config.time_zone))
    hours, _colon, minutes = config.export_time.partition(":")
    if local.time() < clock(int(hours), int(minutes or 0)):
        return False
    return (_cursor(engine, channel_id, EXPORTED_ON) or "") < local.date().isoformat()


def import_orders(conn, channel_id: int, orders: list, now: datetime | None = None) -> OrdersReport:
    """One page of orders through its stages, in the caller's transaction: stored, their lines
    matched, their sales settled (holds, states, stock)."""
    stored = store_orders(conn, channel_id, orders, now)
    match_sale_lines(conn, channel_id)
    settle_sales(conn, channel_id, now, sale_ids=list(stored.sale_ids))
    return stored


def sync_channel(engine: Engine, channel, connector, options: SyncOptions, log,
                 result: ChannelResult | None = None, progress=None) -> ChannelResult:
    """One channel's sync; `result` is filled as it goes, so a failure half-way still reports what was done.
    `progress`, when given, hears of each page as well (the console's live line; cron's log does not)."""
    result = result or ChannelResult(channel.name)
    config = ChannelConfig.from_row(channel)
    progress = progress or (lambda message: None)
    seen = 0
    for page in connector.listings():
        with engine.begin() as conn:
            store_listings(conn, channel.id, page)
        seen += len(page)
        progress(_('{name}: {seen} web listings read so far').format(name=channel.name, seen=number(seen)))
    result.listings_seen = seen
    log(_('{name}: {seen} web listings read').format(name=channel.name, seen=number(seen)))
    with engine.begin() as conn:
        match_channel(conn, channel.id)
        states = dict(conn.execute(text(
            "SELECT match_state, COUNT(*) FROM weblisting WHERE channel_id = :c GROUP BY match_state"),
            {"c": channel.id}).all())
    result.matched = states.get(MatchState.MATCHED.value, 0)
    result.ambiguous = states.get(MatchState.AMBIGUOUS.value, 0)
    result.conflict = states.get(MatchState.CONFLICT.value, 0)
    result.unmatched = states.get(MatchState.UNMATCHED.value, 0)
    log(_('{name}: {matched} matched, {value} waiting for a person').format(name=channel.name, matched=number(result.matched), value=number(result.ambiguous + result.conflict + result.unmatched)))

    cursor = _cursor(engine, channel.id, ORDERS_CURSOR)
    for orders, next_cursor in connector.orders_since(cursor):
        # The orders and the cursor that covers them are committed together.
        with engine.begin() as conn:
            stored = import_orders(conn, channel.id, orders, options.now)
            if next_cursor and next_cursor != cursor:
                _save_cursor(conn, channel.id, ORDERS_CURSOR, next_cursor)
        result.orders_imported += stored.new
        result.orders_updated += stored.updated
        progress(_('{name}: {orders_imported} new orders so far').format(name=channel.name, orders_imported=number(result.orders_imported)))
    # Holds that fell due and lines whose listing was just matched move on even without new orders.
    with engine.begin() as conn:
        match_sale_lines(conn, channel.id)
        settle_sales(conn, channel.id, options.now)
        result.orders_held, result.orders_for_a_person = conn.execute(
            select(func.count().filter(WebSale.hold_reason.is_(None)), func.count().filter(WebSale.hold_reason.is_not(None)))
            .select_from(WebSale).where(WebSale.channel_id == channel.id, WebSale.state == SaleState.HELD.value)).one()
    log(_('{name}: {orders_imported} new orders, {orders_updated} updated, {orders_held} held for the supplier, '
          '{for_a_person} waiting for a person').format(
        name=channel.name, orders_imported=number(result.orders_imported), orders_updated=number(result.orders_updated),
        orders_held=number(result.orders_held), for_a_person=number(result.orders_for_a_person)))

    now = options.now or utcnow()
    if options.full or options.export_now or options.dry_run or export_due(engine, channel.id, config, now):
        with engine.connect() as conn:
            # Every change before the export's plan is read is in it: the store's place in the
            # change sequence moves with it, so the watcher's next round does not plan them again.
            position = None if options.dry_run else current_position(conn)
        report, plan = run_export(engine, channel.id, connector, full=options.full, dry_run=options.dry_run,
                                  position=position)
        result.export_ran = not options.dry_run
        result.items_exported, result.prices_exported = report.quantities_sent, report.prices_sent
        if options.dry_run and options.print_plan:
            # Each with where it comes from: the shop's value, the rule, what the store gets.
            for link, item in plan.stock:
                why = plan.why.get(link)
                print(_('would set {listing_external_id} available={quantity}').format(listing_external_id=item.listing_external_id, quantity=item.quantity)
                      + (_("  ({sku}: {shop} in the shop, {rule})").format(sku=why.sku, shop=why.pos_available, rule=why.quantity_rule) if why else ""))
            for link, item in plan.prices:
                why = plan.why.get(link)
                print(_('would set {listing_external_id} price={price}').format(listing_external_id=item.listing_external_id, price=f"{item.price:.2f}")
                      + (_("  ({sku}: {shop} in the shop, {rule})").format(sku=why.sku, shop=f"{why.shop_price:.2f}", rule=why.price_rule) if why else ""))
            for item in plan.visibility:
                shown = item.external_product_id if getattr(connector, "hides_whole_products", False) \
                    else item.listing_external_id
                print((_("would publish {listing} again (its in-store-only rule is gone)") if item.visible
                       else _("would unpublish {listing} (sold in store only)")).format(listing=shown))
        if not options.dry_run:
            local = now.astimezone(_zone(config.time_zone))
            with engine.begin() as conn:
                _save_cursor(conn, channel.id, EXPORTED_ON, local.date().isoformat())
        log((_('{name}: export would send {quantities_sent} quantities and {prices_sent} prices') if options.dry_run
             else _('{name}: export sent {quantities_sent} quantities and {prices_sent} prices')).format(name=channel.name, quantities_sent=number(report.quantities_sent), prices_sent=number(report.prices_sent)))
    else:
        log(_('{name}: export not due yet').format(name=channel.name))
    return result


def _failure(exc: Exception) -> str:
    if isinstance(exc, (ConnectorError, SecretsError, ConfigError)):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return describe_failure(exc)
    # Not a fault the store or the settings explain: say what it was, in one line.
    return _("stopped by an unexpected {kind}: {error}").format(kind=type(exc).__name__, error=exc)


def run_sync(engine: Engine, *, options: SyncOptions | None = None, secrets_path=None, connectors=None,
             log=None, only: str | None = None, progress=None) -> SyncReport:
    """Sync every active channel (or `only` the one of that name). `connectors` maps channel names
    to ready connectors (tests, demo).

    A channel that fails never stops the others, and its run row is always closed: "ok", "failed"
    with the reason, or "interrupted" when the process is stopped meanwhile. Rows of syncs that were
    killed outright are marked interrupted by the next sync. No secret reaches a log line, the
    report or the database: every message goes through `redact`.
    """
    options = options or SyncOptions()
    write = log or (lambda message: print(_('tandem sync: {message}').format(message=message), file=sys.stderr))

    def log(message: str) -> None:
        logger.info("%s", message)
        write(redact(message))

    with sync_lock(engine):
        return sync_holding_lock(engine, options=options, secrets_path=secrets_path, connectors=connectors,
                                 log=log, only=only, progress=progress)


def sync_holding_lock(engine: Engine, *, options: SyncOptions, secrets_path=None, connectors=None,
                      log, only: str | None = None, progress=None) -> SyncReport:
    """`run_sync`'s work, for a caller that holds the sync lock already (tandem --watch)."""
    report = SyncReport()
    actor = str(current_actor())
    if close_dead_runs(engine):
        log(_("an earlier sync had stopped before finishing; this one carries on from what it saved"))
    with engine.connect() as conn:
        channels = conn.execute(select(SalesChannel.__table__).where(
            SalesChannel.active.is_(True), *([SalesChannel.name == only] if only else []))
            .order_by(SalesChannel.id)).all()
    for channel in channels:
        with engine.begin() as conn:
            run_id = conn.execute(insert(SyncRun.__table__).values(
                channel_id=channel.id, kind="sync", status="running", started_at=utcnow(), started_by=actor,
                counts_json="{}")).inserted_primary_key[0]
        connector = None
        result = ChannelResult(channel.name)
        status = INTERRUPTED  # what the row says if this process is stopped before the end
        try:
            connector = (connectors or {}).get(channel.name) or connector_for_row(channel, secrets_path)
            _resume_rate_limit(engine, channel.id, connector)
            sync_channel(engine, channel, connector, options, log, result,
                         progress=(lambda message: progress(redact(message))) if progress else None)
            status = result.status
        except Exception as exc:  # noqa: BLE001 - one channel's fault must not stop the others
            result.status, result.error = "failed", redact(_failure(exc))
            status = "failed"
            logger.warning("%s: sync refused or failed: %s", channel.name, result.error,
                           exc_info=not isinstance(exc, (ConnectorError, SecretsError, ConfigError)))
            log(_('{name}: failed: {error}').format(name=channel.name, error=result.error))
        finally:
            if connector is not None:
                result.api_requests, result.retries = connector.counter.requests, connector.counter.retries
                _remember_rate_limit(engine, channel.id, connector)
                if not connectors:
                    try:
                        connector.close()
                    except Exception:  # noqa: BLE001 - closing a socket must not hide the result
                        pass
            _finish_run(engine, run_id, status, result, log)
        report.channels.append(result)
    return report


def _resume_rate_limit(engine: Engine, channel_id: int, connector) -> None:
    """The store's rate-limit figures as the last process left them (core.connectors.shopify_cost)."""
    bucket = getattr(connector, "bucket", None)
    if bucket is None or not hasattr(bucket, "resume"):
        return
    kept = _cursor(engine, channel_id, RATE_LIMIT_CURSOR)
    if kept:
        try:
            bucket.resume(json.loads(kept))
        except ValueError:
            pass


def _remember_rate_limit(engine: Engine, channel_id: int, connector) -> None:
    figures = getattr(getattr(connector, "bucket", None), "remembered", lambda: None)()
    if figures is None:
        return
    try:
        with engine.begin() as conn:
            _save_cursor(conn, channel_id, RATE_LIMIT_CURSOR, json.dumps(figures))
    except SQLAlchemyError:
        pass  # only a courtesy to the next process: the run's own result matters more


def _finish_run(engine: Engine, run_id: int, status: str, result: ChannelResult, log) -> None:
    message = result.error if status != INTERRUPTED else _("this sync was stopped before it finished")
    try:
        with engine.begin() as conn:
            conn.execute(update(SyncRun.__table__).where(SyncRun.id == run_id).values(
                status=status, finished_at=utcnow(), message=redact(message) if message else None,
                counts_json=json.dumps(asdict(result))))
    except SQLAlchemyError as exc:
        # The next sync marks the row interrupted; the channel's own result still goes out.
        log(_('{channel}: could not record the end of this sync ({value})').format(channel=result.channel, value=describe_failure(exc)))
