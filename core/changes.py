"""What tells an open console that the database changed elsewhere — another terminal's decision,
a sync, a catalog import — without it re-reading its screen every few seconds.

`change_mark` is one cheap query (maxima, counts and a sum over indexed columns); two marks that
differ mean the screen should read its rows again. `arrived_since` lists the web sales stored
after a given one that want a person now, for the console's notice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, or_, select

from core.models import (
    CLOSED_SALE_STATES,
    UNRESOLVED_MATCH_STATES,
    AuditEntry,
    SaleState,
    SyncRun,
    WebListing,
    WebSale,
)

# A sale held for its supplier's release time waits for the clock, not for a person.
NEEDS_SOMEONE = tuple(state.value for state in SaleState
                      if state.value not in CLOSED_SALE_STATES and state != SaleState.HELD)


@dataclass(frozen=True)
class NewSale:
    id: int
    order_number: str
    state: str


def change_mark(engine: Engine) -> tuple:
    sale, listing, run = WebSale.__table__, WebListing.__table__, SyncRun.__table__
    with engine.connect() as conn:
        return tuple(conn.execute(select(
            select(func.max(AuditEntry.id)).scalar_subquery(),
            select(func.max(sale.c.id)).scalar_subquery(),
            select(func.coalesce(func.sum(sale.c.version), 0)).scalar_subquery(),
            select(func.max(run.c.id)).scalar_subquery(),
            select(func.count()).select_from(run).where(run.c.finished_at.is_not(None)).scalar_subquery(),
            select(func.count()).select_from(listing)
            .where(listing.c.match_state.in_([s.value for s in UNRESOLVED_MATCH_STATES])).scalar_subquery(),
        )).one())


def newest_sale_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(WebSale.id), 0))).scalar_one()


def arrived_since(engine: Engine, after_id: int) -> list[NewSale]:
    sale = WebSale.__table__
    with engine.connect() as conn:
        return [NewSale(*row) for row in conn.execute(
            select(sale.c.id, sale.c.order_number, sale.c.state)
            .where(sale.c.id > after_id, or_(sale.c.state.in_(NEEDS_SOMEONE), sale.c.hold_reason.is_not(None)))
            .order_by(sale.c.id))]
