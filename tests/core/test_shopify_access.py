"""Going live on Shopify as it is today: a Dev Dashboard app's client credentials (tokens that expire
and are renewed), a legacy admin-created app's token, the scopes Tandem needs (one list, printed by
`tandem --scopes` and shown in the README), the API version the store answers with, and the 60-day
window on orders. All against the project's Shopify double on loopback, over real HTTP."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cli import main
from core.audit import Actor
from core.catalog_import import import_catalog
from core.connectors.base import ConnectorError, CredentialError, StockUpdate
from core.connectors.shopify import ShopifyConnector, ScopeMissing
from core.connectors.shopify_scopes import HANDLES, scope_lines
from core.db import open_database
from core.demo_store.app import LoopbackServer
from core.demo_store.store import LOCATION_ID, DemoOrder, DemoOrderLine
from core.secrets import save_secret, save_secrets, webhook_secret
from core.sync import SyncOptions, apply_channel_settings, run_sync
from core.sync.watch import WatchState, watch

from tests.conftest import dump
from tests.core.connectors.conftest import CLIENT_ID, CLIENT_SECRET, FAST, TOKEN, make_store
from tests.core.test_sync import catalog_for
from tests.waiting import until

README = Path(__file__).resolve().parents[2] / "README.md"
TODAY = date(2026, 12, 7)
WAIT = 60.0


class StoreClock:
    """Time as the store and the connector both read it: each reading is one second after the one
    before, so a token of ten seconds lives a handful of requests, whatever the machine's speed."""

    def __init__(self):
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            self.now += 1.0
            return self.now


def readme_scopes() -> tuple[list[str], list[str]]:
    """The README's scope block, as lines, and the handles it asks the shop to grant."""
    block = README.read_text(encoding="utf-8").split("<!-- scopes -->", 1)[1].split("<!-- /scopes -->", 1)[0]
    lines = block.strip().removeprefix("```text").removesuffix("```").strip("\n").splitlines()
    handles = next(line for line in lines if line.startswith("all, comma-separated:")).split(":", 1)[1].strip()
    return lines, handles.split(",")


def dev_dashboard_connector(server, clock=None, **kwargs) -> ShopifyConnector:
    return ShopifyConnector(server.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, location_id=LOCATION_ID,
                            policy=kwargs.pop("policy", FAST), sleep=lambda s: None, token_clock=clock, **kwargs)


def write_config(tmp_path, url: str, api_version: str | None = None) -> Path:
    config = tmp_path / "config.toml"
    version = f'api_version = "{api_version}"\n' if api_version else ""
    config.write_text(f'[channels.Web]\nplatform = "shopify"\nurl = "{url}"\nlocation = "Main Street"\n'
                      f'store_location_id = "{LOCATION_ID}"\nexport_time = "00:00"\n{version}')
    config.chmod(0o600)  # as a shop keeps it (tandem --fix-permissions); else --check warns
    return config


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.setattr("core.check.shop_today", lambda: TODAY)
    store = make_store(products=12, orders=3)
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    import_catalog(open_database(url), catalog_for(store), "Main Street", Actor("t"))
    with LoopbackServer(store) as server:
        yield tmp_path, url, store, server


def run(capfd, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capfd.readouterr()
    return code, captured.out, captured.err


# The scopes: one list, printed, shown in the README, enforced by --check.

def test_the_readme_shows_exactly_what_tandem_scopes_prints(capfd):
    code, out, _err = run(capfd, "--scopes")
    lines, handles = readme_scopes()
    assert code == 0 and out.splitlines() == scope_lines() == lines
    assert handles == list(HANDLES)
    assert {"read_locations", "read_all_orders", "write_orders", "write_inventory"} <= set(handles)


def test_check_passes_with_exactly_the_readmes_scopes(shop, capfd):
    tmp_path, url, store, server = shop
    store.scopes = readme_scopes()[1]
    save_secrets(tmp_path / "secrets.toml", "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    code, out, err = run(capfd, "--check", "--config", str(write_config(tmp_path, server.url)), "--db", url)
    assert code == 0, out + err
    assert all(line.startswith("ok") for line in out.splitlines()), out
    assert f"the app has every scope Tandem needs ({len(HANDLES)})" in out
    assert "client ID and secret are accepted by 'Demo web store'" in out


@pytest.mark.parametrize("removed", readme_scopes()[1])
def test_check_fails_and_names_each_scope_removed(shop, capfd, removed):
    tmp_path, url, store, server = shop
    store.scopes = [scope for scope in readme_scopes()[1] if scope != removed]
    save_secrets(tmp_path / "secrets.toml", "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    code, out, err = run(capfd, "--check", "--config", str(write_config(tmp_path, server.url)), "--db", url)
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert code == 1 and len(failed) == 1, out + err
    assert f"lacks the scope {removed}," in failed[0] and "Dev Dashboard" in failed[0]


def test_a_legacy_token_is_told_where_its_scopes_are_set(shop, capfd):
    tmp_path, url, store, server = shop
    store.scopes = ["write_products", "write_inventory", "write_orders"]
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, out, _err = run(capfd, "--check", "--config", str(write_config(tmp_path, server.url)), "--db", url)
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert code == 1 and [re.search(r"scope (\w+),", line).group(1) for line in failed] == [
        "read_locations", "read_all_orders", "write_merchant_managed_fulfillment_orders"]
    assert all("Develop apps" in line for line in failed)
    assert "access token is accepted" in out and TOKEN not in out


def test_a_request_the_scopes_do_not_cover_names_the_scope(shop):
    _tmp, _url, store, server = shop
    store.scopes = ["write_products", "write_orders"]
    connector = dev_dashboard_connector(server)
    with pytest.raises(ScopeMissing, match="lacks the scope write_inventory, which catalog export, several "
                                           "locations need: add it in the Dev Dashboard"):
        connector.set_stock([StockUpdate(listing_external_id=store.products[0].variants[0].gid, quantity=1,
                                         inventory_item_id=store.products[0].variants[0].inventory_item)])
    with pytest.raises(ScopeMissing, match="read_locations"):
        connector._graphql("check_locations", {"locations": [LOCATION_ID]})


def test_without_read_all_orders_the_store_hides_orders_older_than_60_days(shop):
    _tmp, _url, store, server = shop
    old = (datetime.now(UTC) - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    variant = store.products[0].variants[0]
    store.orders.append(DemoOrder(number=777, name="#777", created_at=old, updated_at=old, email=None,
                                  customer=None, phone=None, address=[], financial_status="PAID",
                                  lines=[DemoOrderLine(7770, variant, "Item", 1, Decimal("5.00"))]))
    connector = dev_dashboard_connector(server)
    assert "gid://shopify/Order/777" in [o.external_id for page, _ in connector.orders_since(None) for o in page]
    store.scopes = [scope for scope in store.scopes if scope != "read_all_orders"]
    assert "gid://shopify/Order/777" not in [o.external_id for page, _ in connector.orders_since(None) for o in page]
    with pytest.raises(ConnectorError, match="no longer has this order"):
        connector.refund("gid://shopify/Order/777", Decimal("5.00"), "r1")


# Client credentials: fetched, renewed before they end, and once more on a 401.

def test_a_sync_with_client_credentials_makes_no_failed_request(shop, capfd):
    tmp_path, url, store, server = shop
    save_secrets(tmp_path / "secrets.toml", "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    code, out, err = run(capfd, "--sync", "--json", "--db", url, "--config", str(write_config(tmp_path, server.url)))
    report = json.loads(out)["channels"][0]
    assert code == 0 and report["status"] == "ok", err
    assert report["orders_imported"] == 3 and report["items_exported"] == 12
    assert store.app.issued == 1 and store.app.refused_tokens == 0 and store.requests["AccessToken"] == 1


def short_lived_tokens(shop, lifetime: float):
    """The shop's database with its channel, and a connector to a store whose tokens live `lifetime`
    readings of the clock they share."""
    _tmp, url, store, server = shop
    clock = StoreClock()
    store.app.clock, store.app.token_lifetime = clock, lifetime
    engine = open_database(url)
    apply_channel_settings(engine, {"Web": {"platform": "shopify", "url": server.url, "location": "Main Street",
                                            "store_location_id": LOCATION_ID, "export_time": "00:00"}})
    return engine, store, dev_dashboard_connector(server, clock)


def test_tokens_are_renewed_before_they_expire_during_a_sync(shop):
    engine, store, connector = short_lived_tokens(shop, 6.0)
    report = run_sync(engine, options=SyncOptions(export_now=True), connectors={"Web": connector},
                      log=lambda message: None)
    assert report.channels[0].status == "ok", report.channels[0].error
    assert connector.auth.renewals >= 1, "a token of six seconds is renewed during the sync"
    assert store.app.refused_tokens == 0 and connector.counter.retries == 0


def test_watch_runs_across_many_renewals_without_a_failed_request(shop):
    engine, store, connector = short_lived_tokens(shop, 10.0)
    state, stop, said = WatchState(), threading.Event(), []
    watcher = threading.Thread(target=watch, args=(engine, stop), kwargs={
        "connectors": {"Web": connector}, "poll_seconds": 0.01, "state": state, "log": said.append})
    watcher.start()
    try:
        assert until(lambda: connector.auth.renewals >= 6), "six tokens came and went"
    finally:
        stop.set()
        watcher.join(timeout=WAIT)
    assert not watcher.is_alive()
    assert state.rounds >= 6 and state.errors == {}, state.errors
    assert store.app.refused_tokens == 0 and connector.counter.retries == 0, "no request was refused or retried"
    everything = "\n".join(said) + repr(dump(engine))
    assert store.app.given and not any(token in everything for token in store.app.given)


def test_a_token_revoked_early_is_replaced_once_and_the_request_goes_through(shop):
    _tmp, _url, store, server = shop
    connector = dev_dashboard_connector(server)
    assert len([listing for page in connector.listings() for listing in page]) == 12
    store.app.revoke_tokens()  # the app reinstalled: the token in hand no longer works
    assert len([listing for page in connector.listings() for listing in page]) == 12
    assert store.app.issued == 2 and store.app.refused_tokens == 1 and connector.auth.renewals == 1


def test_a_revoked_client_secret_is_one_clear_line_and_a_failed_exit(shop, capfd):
    tmp_path, url, store, server = shop
    store.client_secret = "shpss_rotated_in_the_dev_dashboard"
    save_secrets(tmp_path / "secrets.toml", "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    config = str(write_config(tmp_path, server.url))
    code, out, err = run(capfd, "--sync", "--db", url, "--config", config)
    said = [line for line in err.splitlines() if "client ID and secret" in line]
    assert code != 0 and len(said) == 1, err
    assert "Shopify refused the app's client ID and secret (" in said[0] and "invalid_client" in said[0]
    assert "tandem --set-secret" in said[0]
    code, out, err = run(capfd, "--check", "--db", url, "--config", config)
    assert code == 1 and sum("refused the app's client ID and secret" in line for line in out.splitlines()) == 1
    everything = out + err + repr(dump(open_database(url)))
    assert CLIENT_SECRET not in everything and "shpss_rotated" not in everything


def test_no_token_or_client_secret_shows_anywhere(shop, capfd):
    tmp_path, url, store, server = shop
    save_secrets(tmp_path / "secrets.toml", "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    config = str(write_config(tmp_path, server.url))
    outputs = [run(capfd, "--sync", "--json", "--db", url, "--config", config),
               run(capfd, "--check", "--db", url, "--config", config),
               run(capfd, "--status", "--db", url, "--config", config)]
    store.fail_next("pass", "echo")  # after the token, a store (or proxy) quoting the request, headers and all
    outputs.append(run(capfd, "--sync", "--json", "--db", url, "--config", config))
    everything = "".join(out + err for _code, out, err in outputs) + repr(dump(open_database(url)))
    assert store.app.issued == 3  # --status reads the database only
    for secret in (*store.app.given, CLIENT_SECRET):
        assert secret not in everything
    assert "****" in everything, "the echoed request was shown, masked"


def test_tokens_are_kept_in_memory_only(shop, capfd):
    tmp_path, url, store, server = shop
    save_secrets(tmp_path / "secrets.toml", "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    run(capfd, "--sync", "--db", url, "--config", str(write_config(tmp_path, server.url)))
    written = "".join(path.read_text(errors="replace") for path in tmp_path.rglob("*") if path.is_file()
                      and path.suffix != ".sqlite")
    assert store.app.given and not any(token in written for token in store.app.given)


def test_a_dev_dashboard_apps_webhooks_are_checked_with_its_client_secret(tmp_path):
    path = tmp_path / "secrets.toml"
    save_secrets(path, "Web", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert webhook_secret(path, "Web", environ={}) == CLIENT_SECRET
    save_secret(path, "Web", "webhook_secret", "set-apart")
    assert webhook_secret(path, "Web", environ={}) == "set-apart"


def test_set_secret_takes_client_credentials_or_a_legacy_token(tmp_path, capfd, monkeypatch):
    import io

    from core.secrets import channel_secrets

    config = write_config(tmp_path, "https://shop.example.com")
    path = tmp_path / "secrets.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{CLIENT_ID}\n{CLIENT_SECRET}\n"))
    assert main(["--set-secret", "Web", "--config", str(config)]) == 0
    assert set(channel_secrets(path, "Web", "shopify", environ={})) == {"client_id", "client_secret"}
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{TOKEN}\n"))
    assert main(["--set-secret", "Web", "--config", str(config)]) == 0
    assert set(channel_secrets(path, "Web", "shopify", environ={})) == {"access_token"}, "the other way is dropped"
    assert CLIENT_SECRET not in capfd.readouterr().out


# API versions: the default is served; --check reads the version the store answered with.

def test_check_warns_when_the_store_answers_another_version(shop, capfd):
    tmp_path, url, _store, server = shop
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, out, _err = run(capfd, "--check", "--db", url,
                          "--config", str(write_config(tmp_path, server.url, api_version="2025-01")))
    warned = [line for line in out.splitlines() if line.startswith("WARN")]
    assert code == 0 and len(warned) == 1, out
    assert "answered with API version 2026-01, not 2025-01" in warned[0] and 'api_version = "2026-10"' in warned[0]


def test_check_warns_three_months_before_the_version_retires(shop, capfd, monkeypatch):
    tmp_path, url, _store, server = shop
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    config = str(write_config(tmp_path, server.url, api_version="2026-01"))
    code, out, _err = run(capfd, "--check", "--db", url, "--config", config)
    assert code == 0 and "WARN  Web: API version 2026-01 is retired by Shopify on 2027-01-01" in out
    monkeypatch.setattr("core.check.shop_today", lambda: date(2026, 9, 30))  # 93 days before
    code, out, _err = run(capfd, "--check", "--db", url, "--config", config)
    assert code == 0 and "ok    Web: API version 2026-01, served by Shopify until 2027-01-01" in out


def test_the_default_version_is_served_and_checked_ok(shop, capfd):
    tmp_path, url, _store, server = shop
    save_secret(tmp_path / "secrets.toml", "Web", "access_token", TOKEN)
    code, out, _err = run(capfd, "--check", "--db", url, "--config", str(write_config(tmp_path, server.url)))
    assert code == 0 and "ok    Web: API version 2026-10, served by Shopify until 2027-10-01" in out


def test_an_api_version_that_is_not_one_is_refused_with_the_settings(tmp_path, capfd):
    code, _out, err = run(capfd, "--check", "--config",
                          str(write_config(tmp_path, "https://shop.example.com", api_version="2026-02")))
    assert code == 2 and "api_version must be a Shopify API version like 2026-10" in err


def test_a_connector_without_credentials_says_what_it_needs():
    with pytest.raises(ConnectorError, match="client ID and secret, or a legacy access token"):
        ShopifyConnector("https://shop.example.com", location_id=LOCATION_ID)


def test_a_legacy_token_refused_is_not_renewed(shop):
    _tmp, _url, store, server = shop
    connector = ShopifyConnector(server.url, "shpat_unknown_0123456789", location_id=LOCATION_ID, policy=FAST,
                                 sleep=lambda s: None)
    with pytest.raises(CredentialError, match="access token"):
        list(connector.listings())
    assert store.requests["AccessToken"] == 0
