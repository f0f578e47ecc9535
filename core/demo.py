"""The demo bicycle shop: its catalog loaded into two locations through the same catalog import
staff use, and its web store filled by a real sync through the connector, so the demo shows real
paths. The data itself is in core.demo_store.catalog."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import make_url

from core.audit import Actor
from core.catalog_import import import_catalog
from core.channels import add_channel
from core.config import ChannelConfig
from core.db import open_database
from core.dbtypes import utcnow
from core.demo_store.catalog import (  # noqa: F401 - the demo's names, where the demo is
    DEMO_CHANNEL,
    DEMO_SECOND_CHANNEL,
    DEMO_SEED,
    GIFT_CARD_SKU,
    LOCATIONS,
    SHIPPING_REFUND_SKU,
    catalog_csv,
    demo_catalog_rows,
)
from core.demo_store.runtime import reset_demo_stores
from core.locations import location_table
from core.models import Platform, SalesChannel
from core.sync.runner import SyncOptions, run_sync

DEMO_ACTOR = Actor("demo", role="owner")  # the demo shop is run by its owner, "demo"


def create_demo_database(url: str, seed: int = DEMO_SEED) -> None:
    """Start the demo shop afresh at `url` (an existing demo file is replaced)."""
    reset_demo_stores()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    engine = open_database(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(location_table), [{"name": name, "created_at": utcnow()} for name in LOCATIONS])
        rows = demo_catalog_rows(seed)
        import_catalog(engine, catalog_csv(rows), LOCATIONS[0], DEMO_ACTOR)
        rng = random.Random(seed + 1)
        for row in rows:
            if row["quantity"]:
                row["quantity"] = str(rng.choice([0, 0, 0, 1, 2, 5, 10]))
        import_catalog(engine, catalog_csv(rows), LOCATIONS[1], DEMO_ACTOR)
        with engine.begin() as conn:
            location = conn.execute(select(location_table.c.id).where(location_table.c.name == LOCATIONS[0])).scalar()
            channel = add_channel(conn, DEMO_CHANNEL, Platform.DEMO, "inprocess://demo-store", location)
            conn.execute(update(SalesChannel.__table__).where(SalesChannel.id == channel).values(
                settings_json=ChannelConfig(platform="demo", seed=seed, export_time="00:00").stored()))
            # A second web store on the same stock: what one sells, the other no longer offers.
            second = add_channel(conn, DEMO_SECOND_CHANNEL, Platform.DEMO, "inprocess://demo-woocommerce", location)
            conn.execute(update(SalesChannel.__table__).where(SalesChannel.id == second).values(
                settings_json=ChannelConfig(platform="demo", seed=seed, export_time="00:00",
                                            demo_api="woocommerce").stored()))
        # The demo shop takes part in supplier fulfillment: its three documents are on file.
        from core.supplier import DOCUMENTS, enable_supplier_fulfillment, record_supplier_document

        for kind in DOCUMENTS:
            record_supplier_document(engine, channel, kind, date(2026, 1, 15), DEMO_ACTOR)
        enable_supplier_fulfillment(engine, channel, DEMO_ACTOR)
        # The demo web store is filled the way a real one is: by a sync through the connector.
        run_sync(engine, options=SyncOptions(export_now=True), log=lambda message: None)
        # A little history: the first few ready sales were picked up already.
        from core.inbox import inbox
        from core.pickup import PickupChecks, complete_with_store

        for row in [r for r in inbox(engine).rows if r.state == "ready"][-3:]:
            pickup = not row.shipping > 0  # as the status says: "ready for pickup"
            complete_with_store(engine, row.sale_id, DEMO_ACTOR, row.version, pickup=pickup,
                                checks=PickupChecks(True, True, True) if pickup else None)
    finally:
        engine.dispose()
