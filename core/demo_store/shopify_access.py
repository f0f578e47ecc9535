"""How the demo store lets an app in, as Shopify does today: the client credentials grant of a Dev
Dashboard app (tokens that expire), a legacy admin-created app's fixed token, access scopes enforced
field by field (ACCESS_DENIED naming the scope), the 60-day window on orders without
`read_all_orders`, and API versions (a retired one is answered by the oldest one still served).

Time here is the store's clock (`clock`, monotonic seconds by default) so that a test can make a
token's day last a few seconds, or a few requests."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

# The versions Shopify serves on 2026-12-07, oldest first (each for twelve months from its release).
SERVED_VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10")
RELEASE_CANDIDATE = "2027-01"
UNSTABLE = "unstable"
ORDER_WINDOW = timedelta(days=60)  # orders older than this need read_all_orders

# Which scope each field Tandem asks for needs (Shopify's documentation of each field and mutation).
# A write scope grants the read scope of the same data.
FIELD_SCOPES = [
    (re.compile(r"\b(?P<name>productVariants(Count)?)\b|\.\.\. on (?P<type>ProductVariant)\b"), "read_products"),
    (re.compile(r"\b(?P<name>inventoryItem)\s*\{"), "read_inventory"),
    (re.compile(r"\b(?P<name>orders(Count)?|order)\s*\("), "read_orders"),
    # A location's id alone needs no scope; any other field of it needs read_locations (since 2024-07).
    (re.compile(r"\.\.\. on (?P<type>Location)\s*\{[^}]*\bname\b"), "read_locations"),
    (re.compile(r"\b(?P<name>inventorySetQuantities)\s*\("), "write_inventory"),
    (re.compile(r"\b(?P<name>productVariantsBulkUpdate)\s*\("), "write_products"),
    (re.compile(r"\b(?P<name>orderCapture|refundCreate|orderCancel)\s*\("), "write_orders"),
    (re.compile(r"\b(?P<name>fulfillmentCreate)\s*\("), "write_merchant_managed_fulfillment_orders"),
    (re.compile(r"\b(?P<name>webhookSubscriptionCreate)\s*\("), "read_orders"),  # order topics
]


@dataclass
class AppAccess:
    """The app installed on the store: its credentials, the tokens it was given, its scopes."""

    client_id: str = "demo-client-id"
    token_lifetime: float = 86_399.0  # seconds, as Shopify answers `expires_in`
    clock: object = time.monotonic
    tokens: dict[str, float] = field(default_factory=dict)  # token -> when it expires (store clock)
    given: list[str] = field(default_factory=list)  # every token ever issued, for tests to look for
    issued: int = 0
    refused_tokens: int = 0  # requests refused for an unknown or expired token
    served_versions: tuple[str, ...] = SERVED_VERSIONS

    def issue(self) -> tuple[str, float]:
        token = "shpat_" + secrets.token_hex(16)
        self.tokens[token] = self.clock() + self.token_lifetime
        self.given.append(token)
        self.issued += 1
        return token, self.token_lifetime

    def accepts(self, token: str | None) -> bool:
        expires = self.tokens.get(token or "")
        return expires is not None and self.clock() < expires

    def revoke_tokens(self) -> None:
        """As when the app is reinstalled: every token given so far stops working."""
        self.tokens.clear()

    def answered_version(self, asked: str) -> str:
        """A served version answers as itself; anything else, as the oldest version still served."""
        if asked in self.served_versions or asked in (RELEASE_CANDIDATE, UNSTABLE):
            return asked
        return self.served_versions[0]


def token_endpoint(store, content_type: str, body: bytes) -> tuple[int, dict, bytes]:
    """POST /admin/oauth/access_token with grant_type=client_credentials (a form, or JSON)."""
    try:
        if content_type.startswith("application/json"):
            form = {key: str(value) for key, value in json.loads(body or b"{}").items()}
        else:
            form = {key: values[0] for key, values in parse_qs(body.decode("utf-8")).items()}
    except (ValueError, UnicodeDecodeError, AttributeError):
        form = {}
    app: AppAccess = store.app
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")
    if form.get("client_id") != app.client_id or form.get("client_secret") != store.client_secret:
        return _oauth_error(400, "invalid_client", "Client authentication failed.")
    with store.lock:
        token, lifetime = app.issue()
        store.requests["AccessToken"] += 1
    payload = {"access_token": token, "scope": ",".join(store.scopes), "expires_in": int(lifetime)}
    return 200, {}, json.dumps(payload).encode()


def _oauth_error(status: int, code: str, description: str) -> tuple[int, dict, bytes]:
    return status, {}, json.dumps({"error": code, "error_description": description}).encode()


def token_accepted(store, token: str | None) -> bool:
    """A legacy app's fixed token, or a live token of the Dev Dashboard app."""
    if token and token == store.access_token:
        return True
    with store.lock:
        accepted = store.app.accepts(token)
        if not accepted:
            store.app.refused_tokens += 1
    return accepted


def granted(store, handle: str) -> bool:
    return handle in store.scopes or (handle.startswith("read_") and "write_" + handle[5:] in store.scopes)


def denied(store, document: str, variables: dict) -> list[dict]:
    """ACCESS_DENIED errors, as Shopify words them, for each field the app's scopes do not reach; a
    bulk operation is judged by the query or mutation it runs."""
    text = document + "\n" + str(variables.get("query") or "") + "\n" + str(variables.get("mutation") or "")
    errors = []
    for pattern, scope in FIELD_SCOPES:
        match = pattern.search(text)
        if match and not granted(store, scope):
            name = match.group("name") if "name" in pattern.groupindex and match.group("name") else match.group("type")
            errors.append({
                "message": f"Access denied for {name} field. Required access: `{scope}` access scope.",
                "path": [name],
                "extensions": {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes",
                               "requiredAccess": f"`{scope}` access scope."}})
    return errors


def sees_order(store, created_at: str) -> bool:
    """Without read_all_orders an app sees only the last 60 days of orders (by creation)."""
    if "read_all_orders" in store.scopes:
        return True
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return datetime.now(UTC) - created <= ORDER_WINDOW


def sees_fulfilment_orders(store) -> bool:
    """Without the scope, Shopify returns no merchant-managed fulfilment orders (no error)."""
    return granted(store, "read_merchant_managed_fulfillment_orders")
