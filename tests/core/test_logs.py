"""The log: every kind of sync decision leaves a line naming its order or SKU, a decision rolled
back leaves none, and no secret reaches it whatever a message carries."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from core.audit import Actor
from core.logs import JournalFormatter, log_file, setup_logging, stop_logging, under_systemd, when_committed
from core.models import WebSale
from core.roles import NotAllowed, require
from core.secrets import remember
from core.sync import SyncOptions, run_sync

from tests.core.connectors.conftest import TOKEN, shopify
from tests.core.test_sync import QUIET, connectors, shop, supplier_fulfilment_on  # noqa: F401 - the shared fixture


@pytest.fixture
def logged():
    yield setup_logging()
    stop_logging()


def test_each_kind_of_sync_decision_is_logged_with_its_order_or_sku_and_no_secret(shop, logged):
    engine, store, server = shop
    assert logged == log_file() and logged.parent.stat().st_mode & 0o777 == 0o700
    supplier_fulfilment_on(engine)
    store.orders[0].tags = ["supplier-fulfilled"]
    store.orders[0].fulfilled_at = "2099-01-01T12:00:00Z"  # shipped far ahead: held
    held_number = store.orders[0].name
    assert run_sync(engine, options=SyncOptions(export_now=True), connectors=connectors(server), **QUIET).exit_code == 0
    with engine.begin() as conn:
        conn.execute(update(WebSale).where(WebSale.state == "held").values(held_until=datetime(2026, 1, 1, tzinfo=UTC)))
    assert run_sync(engine, connectors=connectors(server), **QUIET).exit_code == 0
    # Refusals: a cashier reaching for a manager's action, and a store refusing the credentials.
    with pytest.raises(NotAllowed):
        require(Actor("cara", role="cashier"), "return.tax_rate")
    wrong = "shpat_wrong_value_for_the_log_4242"
    remember(wrong)
    assert run_sync(engine, connectors={"Web": shopify(server, lambda s: None, token=wrong)}, **QUIET).exit_code == 1
    # A message that carries a token shape nobody told Tandem about is scrubbed all the same.
    logging.getLogger("core.sync.runner").info("answer header was Authorization: Bearer shpat_unknown_99887766")

    text = logged.read_text(encoding="utf-8")
    skus = [f"POS-{variant.number}" for product in store.products for variant in product.variants]
    kinds = {
        "order imported": r"order #?\S+ imported from Web: \d+ line\(s\)",
        "order held": rf"order {re.escape(held_number)} held until 2099-",
        "hold released": rf"order {re.escape(held_number)} released from its supplier hold",
        "units committed": r"order \S+: \d+ x POS-\d+ committed at Main Street",
        "quantity sent": r"Web: quantity \d+ sent for POS-\d+ \(listing ",
        "role refused": r"WARNING core\.roles: refused: cara may not return\.tax_rate",
        "store refused": r"WARNING core\.sync\.runner: Web: sync refused or failed: .*access token",
    }
    for kind, pattern in kinds.items():
        assert re.search(pattern, text), f"no {kind} line in the log"
    assert any(sku in text for sku in skus)
    for secret in (TOKEN, wrong, "shpat_unknown_99887766"):
        assert secret not in text
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO ", text), "times in UTC, whatever the host's zone"
    assert logged.stat().st_mode & 0o777 == 0o600


def test_a_decision_rolled_back_leaves_no_line(engine, caplog):
    caplog.set_level(logging.INFO, logger="core")
    logger = logging.getLogger("core.sync.orders")
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            when_committed(conn, logger, "order %s imported", "#never")
            raise RuntimeError("the page failed")
    with engine.begin() as conn:
        when_committed(conn, logger, "order %s imported", "#kept")
    assert [r.getMessage() for r in caplog.records if r.name == "core.sync.orders"] == ["order #kept imported"]


def test_under_systemd_the_log_goes_to_the_journal_with_its_priority(capsys):
    environ = {"JOURNAL_STREAM": "8:12345", "INVOCATION_ID": "abc"}
    assert under_systemd(environ) and not under_systemd({})
    formatter = JournalFormatter("%(name)s: %(message)s")
    record = logging.LogRecord("core.sync", logging.WARNING, __file__, 1, "token %s", ("shpca_abcdef123456",), None)
    assert formatter.format(record) == "<4>core.sync: token ****"
    assert setup_logging(environ=environ) is None, "no file under systemd"
    logging.getLogger("core.backup").info("written")
    assert "<6>core.backup: written" in capsys.readouterr().err
    stop_logging()


def test_the_demo_logs_apart_from_the_shop():
    try:
        demo = setup_logging(demo=True)
        assert demo.name == "demo.log" and demo != log_file()
    finally:
        stop_logging()
