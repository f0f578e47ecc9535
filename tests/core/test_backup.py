"""Backups, restores and upgrades: a copy taken while a sync writes is whole, a restore refuses
while Tandem runs and keeps what it replaced, an older database is copied before its upgrade."""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text

from core import backup, copies
from core.db import MIGRATIONS_DIR, SCHEMA_HEAD, DatabaseError, current_revision, make_engine, migrate, open_database
from core.demo import DEMO_CHANNEL, create_demo_database
from core.models import WebSale, WebSaleLine
from core.secrets import save_secret
from core.settings import Settings, sqlite_url

from tests.conftest import NO_POSTGRES, POSTGRES_URL, drop_postgres_database, new_postgres_database
from tests.test_concurrency import more_orders, synced_shop

ROOT = Path(__file__).resolve().parents[2]


def settings_for(tmp_path: Path, url: str, keep_days: int = 14) -> Settings:
    return Settings(config_file=tmp_path / "config.toml", config_file_exists=False, data_dir=tmp_path / "data",
                    database_url=url, database_source="test", backup_keep_days=keep_days,
                    backup_folder=tmp_path / "backups")


def orders_in(path: Path) -> dict[str, int]:
    """Each order in a SQLite file with its number of lines."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(connection.execute(
            "SELECT s.order_number, COUNT(l.id) FROM websale s LEFT JOIN websaleline l ON l.sale_id = s.id "
            "GROUP BY s.id").fetchall())
    finally:
        connection.close()


def committed_matches_lines(path: Path) -> bool:
    """The stock ledger's own invariant: each product's committed units are its committed lines'."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return not connection.execute(
            "SELECT 1 FROM (SELECT product_id, SUM(committed) AS units FROM stock GROUP BY product_id) s "
            "LEFT JOIN (SELECT product_id, SUM(quantity) AS units FROM websaleline WHERE stock_state = 'committed' "
            "GROUP BY product_id) l ON l.product_id = s.product_id WHERE s.units != COALESCE(l.units, 0)").fetchall()
    finally:
        connection.close()


def test_a_backup_taken_while_a_sync_writes_restores_whole_with_every_committed_order(tmp_path):
    database = tmp_path / "shop.sqlite"
    url = sqlite_url(database)
    with synced_shop(url, tmp_path) as (engine, store, sync, _settings):
        assert committed_matches_lines(database), "the invariant holds on the live database to begin with"
        stop, results = threading.Event(), []

        def syncs() -> None:
            batch = 0
            while not stop.is_set():
                more_orders(store, 60, batch * 60)
                batch += 1
                results.append(subprocess.run(sync, cwd=ROOT, capture_output=True, text=True, timeout=120))

        writer = threading.Thread(target=syncs, daemon=True)
        writer.start()
        taken: list[tuple[Path, set[str]]] = []
        try:
            for round_ in range(4):
                # Wait until this round's sync is writing (new orders not yet all in), then copy.
                with engine.connect() as conn:
                    before = set(conn.execute(select(WebSale.order_number)).scalars())
                result = backup.backup(settings_for(tmp_path, url), tmp_path / f"copy-{round_}.sqlite")
                taken.append((result.path, before))
                with engine.connect() as conn:
                    grown = conn.execute(select(func.count()).select_from(WebSale)).scalar()
                while grown <= len(before) + 30 and writer.is_alive():
                    threading.Event().wait(0.2)
                    with engine.connect() as conn:
                        grown = conn.execute(select(func.count()).select_from(WebSale)).scalar()
        finally:
            stop.set()
            writer.join(timeout=180)
    assert results and all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    assert len({len(before) for _, before in taken}) > 1, "the copies were taken at different points of the syncs"
    for path, before in taken:
        assert backup.check_copy(path) == SCHEMA_HEAD  # integrity_check said ok
        held = orders_in(path)
        assert before <= set(held), "every order committed before the copy began is in it"
        assert all(lines >= 1 for lines in held.values()), "no sale without its lines: no half transaction"
        assert committed_matches_lines(path)
        assert os.stat(path).st_mode & 0o777 == 0o600
    # Put the last copy back: it opens, passes the check, and holds exactly what the copy held.
    last, _before = taken[-1]
    gc.collect()  # the engines above are gone: nothing holds the database now
    kept = backup.restore(settings_for(tmp_path, url), last)
    assert kept is not None and kept.exists() and orders_in(kept), "the replaced database is kept, whole"
    assert orders_in(database) == orders_in(last)
    restored = open_database(url)
    with restored.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert conn.execute(select(func.count()).select_from(WebSaleLine)).scalar() == sum(orders_in(last).values())
    restored.dispose()


def test_a_restore_is_refused_while_tandem_has_the_database_open(tmp_path):
    url = sqlite_url(tmp_path / "shop.sqlite")
    engine = open_database(url)
    copy = backup.backup(settings_for(tmp_path, url)).path
    with pytest.raises(backup.BackupError, match="using this database now"):
        backup.restore(settings_for(tmp_path, url), copy)
    assert not list(tmp_path.glob("shop.sqlite.replaced-*")), "nothing was moved"
    # A console in another process holds it the same way.
    engine.dispose()
    del engine
    gc.collect()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from core.db import open_database; e = open_database(sys.argv[1]); "
        "print('open', flush=True); time.sleep(60)"), url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(backup.BackupError, match="using this database now"):
            backup.restore(settings_for(tmp_path, url), copy)
    finally:
        holder.kill()
        holder.wait()
    assert backup.restore(settings_for(tmp_path, url), copy) is not None


def test_a_restore_refuses_what_is_not_a_good_copy(tmp_path):
    url = sqlite_url(tmp_path / "shop.sqlite")
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("hello")
    with pytest.raises(backup.BackupError, match="not a SQLite database"):
        backup.restore(settings_for(tmp_path, url), not_a_database)
    foreign = tmp_path / "other.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(backup.BackupError, match="not a Tandem database"):
        backup.restore(settings_for(tmp_path, url), foreign)
    newer = tmp_path / "newer.sqlite"
    engine = open_database(sqlite_url(newer))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(backup.BackupError, match="newer Tandem"):
        backup.restore(settings_for(tmp_path, url), newer)
    assert not (tmp_path / "shop.sqlite").exists()


def test_the_daily_copies_are_kept_for_the_days_set_and_no_longer(tmp_path):
    url = sqlite_url(tmp_path / "shop.sqlite")
    open_database(url).dispose()
    settings = settings_for(tmp_path, url, keep_days=3)
    start = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    for day in range(6):
        backup.backup(settings, now=start + timedelta(days=day))
    (tmp_path / "backups" / "keep-me.sqlite").write_text("mine")
    result = backup.backup(settings, now=start + timedelta(days=6))
    names = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert names == ["keep-me.sqlite", "tandem-20261204T030000Z.sqlite", "tandem-20261205T030000Z.sqlite",
                     "tandem-20261206T030000Z.sqlite", "tandem-20261207T030000Z.sqlite"]
    assert len(result.pruned) == 1


def test_the_secrets_file_is_never_in_a_backup(tmp_path):
    url = sqlite_url(tmp_path / "shop.sqlite")
    create_demo_database(url)
    save_secret(tmp_path / "secrets.toml", DEMO_CHANNEL, "access_token", "shpat_never_in_a_copy_0123456789")
    path = backup.backup(settings_for(tmp_path, url)).path
    assert b"shpat_never_in_a_copy" not in path.read_bytes()


def older_database(url: str, revision: str = "0010") -> None:
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def test_an_older_database_is_upgraded_with_a_copy_left_beside_it(tmp_path, capsys):
    database = tmp_path / "shop.sqlite"
    older_database(sqlite_url(database))
    engine = open_database(sqlite_url(database))
    assert current_revision(engine) == SCHEMA_HEAD
    before_upgrade = list(tmp_path.glob("shop.sqlite.before-upgrade-0010-*"))
    assert len(before_upgrade) == 1 and backup.check_copy(before_upgrade[0]) == "0010"
    assert "upgraded to" in capsys.readouterr().err
    engine.dispose()
    open_database(sqlite_url(database)).dispose()
    assert len(list(tmp_path.glob("shop.sqlite.before-upgrade-*"))) == 1, "an up-to-date database is not copied"


def test_a_newer_database_is_refused_in_one_line(tmp_path):
    url = sqlite_url(tmp_path / "shop.sqlite")
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    done = subprocess.run([sys.executable, "-m", "cli", "--db", url, "--locations"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "newer Tandem (schema 0999" in done.stderr


@pytest.fixture
def postgres_url():
    url = new_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)
def test_the_readmes_postgresql_backup_line_makes_a_copy_pg_restore_puts_back(tmp_path, postgres_url):
    database_url = postgres_url
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("the PostgreSQL client tools are needed where PostgreSQL runs")
    create_demo_database(database_url)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pg_dump --format=custom --file tandem.dump" in readme and "pg_restore --clean --if-exists --no-owner" in readme
    address, env = copies.libpq_url(database_url)
    dump = tmp_path / "tandem.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), address], env=env, check=True, timeout=120)
    engine = open_database(database_url)
    with engine.connect() as conn:
        orders = conn.execute(select(func.count()).select_from(WebSale)).scalar()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM websaleline"))
    engine.dispose()
    subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", address, str(dump)],
                   env=env, check=True, timeout=120)
    engine = open_database(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WebSale)).scalar() == orders > 0
        assert conn.execute(select(func.count()).select_from(WebSaleLine)).scalar() > 0
    engine.dispose()
    # `tandem --backup` does the same through pg_dump.
    made = backup.backup(settings_for(tmp_path, database_url))
    assert made.path.suffix == ".dump" and made.size > 0


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)
def test_an_older_postgresql_database_is_dumped_before_its_upgrade(postgres_url, monkeypatch):
    database_url = postgres_url
    older_database(database_url)
    engine = make_engine(database_url)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(DatabaseError, match="pg_dump --format=custom .*TANDEM_UPGRADE_BACKED_UP=1"):
        migrate(engine)
    assert current_revision(engine) == "0010", "not upgraded without a copy"
    monkeypatch.undo()
    migrate(engine)
    assert current_revision(engine) == SCHEMA_HEAD
    from core.settings import default_data_dir

    assert list((default_data_dir() / "backups").glob("before-upgrade-0010-*.dump"))
    engine.dispose()


def test_only_the_owner_restores_and_the_restore_is_in_the_audit(tmp_path):
    from core.audit import Actor, audit_entries, set_session_actor
    from core.roles import NotAllowed

    url = sqlite_url(tmp_path / "shop.sqlite")
    open_database(url).dispose()
    copy = backup.backup(settings_for(tmp_path, url)).path
    set_session_actor(Actor("max", role="manager"))
    with pytest.raises(NotAllowed):
        backup.restore(settings_for(tmp_path, url), copy)
    assert not list(tmp_path.glob("shop.sqlite.replaced-*"))
    set_session_actor(Actor("olga", role="owner"))
    backup.restore(settings_for(tmp_path, url), copy)
    engine = open_database(url)
    entries = [entry for entry in audit_entries(engine) if entry.action == "database_restored"]
    engine.dispose()
    assert len(entries) == 1 and entries[0].actor == "olga" and str(copy) in entries[0].new


def test_a_backup_carries_each_price_rule_and_a_restore_brings_it_back(tmp_path):
    """The price_rule and safety_stock rules live in the database: a copy holds them, a restore
    puts them back as they were when it was taken."""
    from core.audit import Actor
    from core.channels import add_channel
    from core.models import ChannelRule, Platform, RuleKind, RuleScope
    from core.rules import Rule, remove_rule, save_rule

    url = sqlite_url(tmp_path / "shop.sqlite")
    engine = open_database(url)
    manager = Actor("mina", role="manager")
    with engine.begin() as conn:
        add_channel(conn, "Web", Platform.SHOPIFY, "https://shop.example.com")
    rule = Rule(RuleKind.PRICE, RuleScope.BRAND, "Acme", percent=5, ending=".99")
    save_rule(engine, "Web", rule, manager)
    copy = backup.backup(settings_for(tmp_path, url)).path
    remove_rule(engine, "Web", rule, manager)
    engine.dispose()
    del engine
    gc.collect()
    backup.restore(settings_for(tmp_path, url), copy)
    restored = open_database(url)
    with restored.connect() as conn:
        kept = conn.execute(select(ChannelRule.kind, ChannelRule.target, ChannelRule.percent, ChannelRule.ending,
                                   ChannelRule.changed_by)).all()
    restored.dispose()
    assert [tuple(row) for row in kept] == [("price", "Acme", Decimal("5.00"), ".99", "mina")]
