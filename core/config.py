"""A channel's configuration, typed: parsed once from the settings file (where `core.settings`
checks it and says what is wrong in people's words), stored with the channel's row, and read back
here only. Everything else takes a `ChannelConfig` and reads its attributes, defaults included."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.connectors import shopify_versions


class ChannelConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = ""
    platform: Literal["shopify", "woocommerce", "demo"] = "demo"
    url: str = ""
    store_location_id: str = ""  # Shopify: the primary store location's ID
    api_version: str = shopify_versions.DEFAULT  # Shopify Admin API version
    # Where the part number is: a Shopify metafield `namespace.key`, a WooCommerce meta key.
    part_number_field: str | None = None
    # What marks an order supplier-shipped: a Shopify order tag, a WooCommerce order meta key.
    supplier_tag: str | None = None
    supplier_service: str | None = None  # Shopify: a fulfilment service name that also marks it
    supplier_shipped_field: str = "supplier_shipped_at"  # WooCommerce: the supplier's ship date
    barcode_field: str | None = None  # WooCommerce: a meta key, for stores not on global_unique_id
    export_time: str = "06:00"
    time_zone: str | None = None  # None: the shop's
    holiday_country: str = "US"
    push_status: bool = False  # mark orders fulfilled on the website when completed here
    refund_on_website: bool = False  # create each posted return's refund on the website too
    seed: int | None = None  # the demo store's seed
    demo_api: Literal["shopify", "woocommerce"] = "shopify"  # which platform the demo store speaks

    @property
    def wire_platform(self) -> str:
        """The platform whose wire format (API, webhooks) the channel speaks."""
        return self.demo_api if self.platform == "demo" else self.platform

    @property
    def mpn_field(self) -> str:
        return self.part_number_field or ("mpn" if self.platform == "woocommerce" else "mm-google-shopping.mpn")

    @property
    def supplier_marker(self) -> str:
        return self.supplier_tag or ("supplier_fulfilled" if self.platform == "woocommerce" else "supplier-fulfilled")

    @classmethod
    def from_settings(cls, name: str, spec: dict) -> ChannelConfig:
        """From a channel's table in the settings file (already checked by `core.settings`)."""
        return cls.model_validate({**spec, "name": name})

    @classmethod
    def from_stored(cls, stored: str | None) -> ChannelConfig:
        """From what a channel's row keeps (`SalesChannel.settings_json`)."""
        return cls.model_validate_json(stored or "{}")

    @classmethod
    def from_row(cls, channel) -> ChannelConfig:
        """From a channel's row: its name, platform and URL, and its stored configuration."""
        stored = cls.from_stored(channel.settings_json)
        return stored.model_copy(update={"name": channel.name, "platform": channel.platform, "url": channel.base_url})

    def stored(self) -> str:
        """What the channel's row keeps: the settings that are not columns of their own."""
        return self.model_dump_json(exclude={"name", "platform", "url"}, exclude_defaults=True)
