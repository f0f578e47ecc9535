"""The demo web store as a platform: a Shopify (or WooCommerce) connector talking to the demo
store inside the process, through WSGI, so the demo needs no account and no network."""

from __future__ import annotations

import httpx

from core.connectors.shopify import ShopifyConnector
from core.connectors.woocommerce import WooCommerceConnector
from core.demo_store.app import make_app
from core.demo_store.catalog import DEMO_SEED
from core.demo_store.runtime import demo_store
from core.demo_store.store import LOCATION_ID


def from_config(config, secrets: dict, policy=None) -> ShopifyConnector | WooCommerceConnector:
    """The registry's factory (see core.connectors.registry)."""
    store = demo_store(config.seed or DEMO_SEED, config.demo_api)
    if config.demo_api == "woocommerce":
        return WooCommerceConnector("http://127.0.0.1", store.consumer_key, store.consumer_secret,
                                    transport=httpx.WSGITransport(app=make_app(store)), policy=policy)
    return ShopifyConnector("http://127.0.0.1", store.access_token, location_id=LOCATION_ID,
                            transport=httpx.WSGITransport(app=make_app(store)), policy=policy)
