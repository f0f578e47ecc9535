"""Connectors to web stores: Shopify (Admin GraphQL) and WooCommerce (REST v3).

The demo store speaks Shopify's wire format, so a demo channel uses the Shopify connector
pointed at it in-process.
"""
