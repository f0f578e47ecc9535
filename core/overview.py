"""The figures on the home screen, each one query."""

from __future__ import annotations

from core.i18n import N_, _

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, text

from core.models import (
    CLOSED_SALE_STATES,
    HELD_BACK_CONDITION,
    UNRESOLVED_MATCH_STATES,
    Location,
    Product,
    Tally,
    SalesChannel,
    SaleState,
    SyncRun,
    WebListing,
    WebSale,
)


@dataclass(frozen=True)
class LastSync:
    started_at: datetime
    finished_at: datetime | None
    status: str
    message: str | None


@dataclass(frozen=True)
class Overview:
    products: int
    active_products: int
    invalid_barcodes: int
    locations: tuple[str, ...]
    channels: tuple[str, ...]
    open_sales: int
    held_sales: int  # held for the supplier, until their release time
    held_for_a_person: int  # tagged supplier-shipped while the web store may not: a person decides
    unresolved_matches: int
    last_sync: LastSync | None
    held_back: int = 0  # ordered for units a channel rule keeps from the web: a manager decides


def shop_overview(engine: Engine) -> Overview:
    product, sale, listing, run = (
        Product.__table__, WebSale.__table__, WebListing.__table__, SyncRun.__table__,
    )
    with engine.connect() as conn:
        open_states = [state.value for state in SaleState if state not in CLOSED_SALE_STATES]
        is_held = sale.c.state == SaleState.HELD

        def count(table, *where):
            return select(func.count()).select_from(table).where(*where).scalar_subquery()

        # One statement, one round trip, each count an index range or a kept tally: every console
        # reads this again on each change it hears. ix_websale_state_hold_reason covers the sales'
        # counts: SQLite takes the open states' ranges of it even when its statistics say nearly
        # every sale has one state (completed).
        products, inactive, invalid, open_sales, held, for_a_person, unresolved, held_back = conn.execute(select(
            select(Tally.value).where(Tally.name == "products").scalar_subquery(),
            count(product, product.c.active.is_(False)),
            count(product, product.c.barcode_status == "invalid"),
            count(sale, sale.c.state.in_(open_states)),
            count(sale, is_held, sale.c.hold_reason.is_(None)),
            count(sale, is_held, sale.c.hold_reason.is_not(None)),
            count(listing, listing.c.match_state.in_(UNRESOLVED_MATCH_STATES)),
            # The partial index's own condition (ix_websale_held_back), word for word.
            count(sale, text(HELD_BACK_CONDITION), sale.c.state.in_(open_states)),
        )).one()
        products = products or 0
        locations = tuple(conn.execute(select(Location.__table__.c.name).where(Location.__table__.c.active.is_(True))
                                       .order_by("id")).scalars())
        channels = tuple(conn.execute(select(SalesChannel.__table__.c.name).order_by("id")).scalars())
        last = conn.execute(
            select(run.c.started_at, run.c.finished_at, run.c.status, run.c.message)
            .order_by(run.c.started_at.desc(), run.c.id.desc())
            .limit(1)
        ).first()
    return Overview(
        products=products,
        active_products=products - inactive,
        invalid_barcodes=invalid,
        locations=locations,
        channels=channels,
        open_sales=open_sales,
        held_sales=held,
        held_for_a_person=for_a_person,
        held_back=held_back,
        unresolved_matches=unresolved,
        last_sync=_alive(engine, LastSync(*last)) if last else None,
    )


def _alive(engine: Engine, last: LastSync) -> LastSync:
    """A run row says "running" after its process was killed; with no sync holding the lock, it is not."""
    from core.synclock import INTERRUPTED, sync_running

    if last.status == "running" and not sync_running(engine):
        return LastSync(last.started_at, last.finished_at, INTERRUPTED, last.message)
    return last


def configured_channels(engine: Engine) -> list[str]:
    channel = SalesChannel.__table__
    with engine.connect() as conn:
        return list(
            conn.execute(select(channel.c.name).where(channel.c.active.is_(True)).order_by(channel.c.id)).scalars()
        )


@dataclass(frozen=True)
class Step:
    done: bool
    what: str
    command: str


def first_steps(overview: Overview, config_file: str, secrets_set: bool = False,
                time_zone_set: bool = True) -> list[Step]:
    """What a shop does first, with the exact commands, and which of it is done; [] once all is.
    The home screen shows it on a shop that is not set up yet."""
    synced = overview.last_sync is not None
    steps = [
        Step(overview.products > 0, N_("Import the shop's catalog (a CSV export of the point of sale)"),
             'tandem --import-catalog catalog.csv --location "{location}"'.format(location=_("Main Street"))),
        # Supplier holds are released, and the daily export runs, by the shop's clock, not the server's.
        Step(time_zone_set, N_("Set the shop's time zone: time_zone under [shop] in the settings file"),
             config_file),
        Step(bool(overview.channels), N_("Add the web store: a [channels.NAME] table in the settings file"),
             config_file),
        Step(secrets_set or synced, N_("Give Tandem the web store's key (kept readable by you only)"),
             "tandem --set-secret web"),
        Step(synced, N_("Check the settings, then run the first sync (then from cron, or y here)"),
             "tandem --check && tandem --sync"),
    ]
    # The time zone alone never keeps a running shop on this list (it then reads the server's clock).
    return [] if all(step.done for step in steps if step is not steps[1]) else steps
