"""What each sync did, per web store, as staff read it: when, who started it, how it ended, and
its counts (listings, matches, orders, exported, errors) — from the `syncrun` rows the runner
writes, whether the sync ran from cron or from the console."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from core.i18n import N_, _, number
from core.models import SalesChannel, SyncRun

run_table = SyncRun.__table__
STATUS_WORDS = {"ok": N_("ok"), "failed": N_("failed"), "running": N_("running"), "interrupted": N_("interrupted")}


@dataclass(frozen=True)
class SyncRecord:
    id: int
    channel: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    message: str | None
    started_by: str
    counts: dict

    @property
    def summary(self) -> str:
        """One line of what it did: "412 listings · 3 to resolve · 5 new orders · 120 exported"."""
        c = self.counts
        if not c:
            return self.message or ""
        waiting = c.get("ambiguous", 0) + c.get("conflict", 0) + c.get("unmatched", 0)
        parts = [_("{count} new orders").format(count=number(c.get("orders_imported", 0)))]
        if c.get("orders_updated"):
            parts.append(_("{count} updated").format(count=number(c["orders_updated"])))
        if c.get("export_ran"):
            parts.append(_("{quantities} quantities and {prices} prices sent").format(
                quantities=number(c.get("items_exported", 0)), prices=number(c.get("prices_exported", 0))))
        parts += [_("{count} listings to resolve").format(count=number(waiting)),
                  _("{matched} of {seen} matched").format(matched=number(c.get("matched", 0)),
                                                          seen=number(c.get("listings_seen", 0)))]
        if c.get("error"):
            parts.insert(0, _("error: {error}").format(error=c["error"]))
        return " · ".join(parts)


def _records(rows) -> list[SyncRecord]:
    return [SyncRecord(row.id, row.name or "—", row.started_at, row.finished_at, row.status, row.message,
                       row.started_by, json.loads(row.counts_json or "{}")) for row in rows]


def _query():
    return (select(run_table.c.id, SalesChannel.name, run_table.c.started_at, run_table.c.finished_at,
                   run_table.c.status, run_table.c.message, run_table.c.started_by, run_table.c.counts_json)
            .outerjoin(SalesChannel, SalesChannel.id == run_table.c.channel_id))


def sync_history(engine: Engine, limit: int = 50, before_id: int | None = None) -> list[SyncRecord]:
    """The newest syncs first, a page at a time (`before_id`: the last id of the page before)."""
    query = _query().where(run_table.c.kind == "sync").order_by(run_table.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(run_table.c.id < before_id)
    with engine.connect() as conn:
        return _records(conn.execute(query))


def last_sync_per_channel(engine: Engine) -> list[SyncRecord]:
    """Each web store's latest sync, for the home screen."""
    newest = select(func.max(run_table.c.id)).where(run_table.c.kind == "sync").group_by(run_table.c.channel_id)
    with engine.connect() as conn:
        return _records(conn.execute(_query().where(run_table.c.id.in_(newest)).order_by(SalesChannel.name)))
