"""Which connector speaks for a channel: one module per platform, each with a `from_config`
factory. Modules are named, not imported, so the sync never loads the demo store (nor Shopify's
documents for a WooCommerce shop) unless a channel uses it."""

from __future__ import annotations

import importlib

from core.config import ChannelConfig
from core.connectors.base import Connector
from core.secrets import channel_secrets

PLATFORMS = {
    "shopify": "core.connectors.shopify",
    "woocommerce": "core.connectors.woocommerce",
    "demo": "core.demo_store.connector",  # the demo web store, inside the process
}


def connector_for(config: ChannelConfig, secrets_path=None, policy=None) -> Connector:
    """A ready connector for the channel; its credentials come from the secrets file or the environment.
    `policy` (core.connectors.http.RetryPolicy): how long to keep retrying a request; the default's two
    minutes suit a nightly sync, a watcher wants to back off sooner."""
    module = importlib.import_module(PLATFORMS[config.platform])
    secrets = channel_secrets(secrets_path, config.name, config.platform) if config.platform != "demo" else {}
    return module.from_config(config, secrets, policy=policy)


def connector_for_row(channel, secrets_path=None, policy=None) -> Connector:
    return connector_for(ChannelConfig.from_row(channel), secrets_path, policy)
