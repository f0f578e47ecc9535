"""How Tandem authenticates to Shopify: an app made in the Dev Dashboard (client ID and secret,
exchanged for an access token by the client credentials grant), or the access token of a custom
app made in the store admin before 2026 (which Shopify no longer lets stores create, but still
honours).

A Dev Dashboard token lives about 24 hours. It is kept in memory only, never written anywhere,
and renewed before it expires (at the latest a fifth of its life before, and at most ten minutes
before), and once more when the store answers 401 (a token revoked early, the app reinstalled).
A process that starts asks for a fresh one, which Shopify allows as often as needed.
"""

from __future__ import annotations

import threading
import time

from core.connectors.base import CredentialError, StoreRefusal, reading
from core.connectors.http import StoreClient
from core.i18n import N_, _
from core.secrets import remember

TOKEN_PATH = "/admin/oauth/access_token"
RENEW_AHEAD_SECONDS = 600.0
DEFAULT_LIFETIME = 86_399.0  # what Shopify answers today, if an answer ever lacks `expires_in`


class FixedToken:
    """A legacy admin-created app's access token: it does not expire and cannot be renewed."""

    renewable = False
    where_scopes_are = N_("in the store admin: Settings → Apps and sales channels → Develop apps → the app → "
                         "Configuration → Admin API integration, then install the app again")

    def __init__(self, value: str):
        remember(value)
        self._value = value
        self.renewals = 0

    def current(self) -> str:
        return self._value

    def renew(self, rejected: str) -> str:
        raise CredentialError(_("the store refused the access token: check the channel's Shopify access token "
                                "(tandem --set-secret CHANNEL)"))


class ClientCredentials:
    """A Dev Dashboard app's token, fetched with its client ID and secret and renewed before it ends."""

    renewable = True
    where_scopes_are = N_("in the Dev Dashboard: the app → Versions → a new version with these scopes, release it, "
                         "then accept the new access in the store admin (Settings → Apps)")

    def __init__(self, client: StoreClient, client_id: str, client_secret: str, clock=time.monotonic):
        remember(client_id)
        remember(client_secret)
        self._client = client
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._renew_at = 0.0
        self.renewals = 0  # tokens fetched after the first
        self.granted_scope: str | None = None

    def current(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch()
            return self._token

    def renew(self, rejected: str) -> str:
        """After a 401: a new token, unless another thread already replaced the one refused."""
        with self._lock:
            if self._token is None or self._token == rejected:
                self._fetch()
            return self._token

    def _fetch(self) -> None:
        asked_at = self._clock()  # the token's life counts from before the request, to be safe
        try:
            response = self._client.request("POST", TOKEN_PATH, "access token", data=self._form,
                                            headers={"Accept": "application/json"})
        except CredentialError:
            raise CredentialError(self._refused("")) from None
        except StoreRefusal as exc:  # OAuth's 400: invalid_client, an app not installed, ...
            raise CredentialError(self._refused(exc.reason or str(exc))) from None
        with reading("access token"):
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
            if not token or lifetime <= 0:
                raise ValueError
        remember(token)
        if self._token is not None:
            self.renewals += 1
        self._token, self._expires_at = token, asked_at + lifetime
        self._renew_at = self._expires_at - min(RENEW_AHEAD_SECONDS, lifetime / 5)
        self.granted_scope = body.get("scope")

    @staticmethod
    def _refused(reason: str) -> str:
        said = f" ({reason})" if reason else ""
        return _("Shopify refused the app's client ID and secret{said}: copy them again from the Dev Dashboard "
                 "(the app → Settings; a rotated secret stops the old one) and save them with "
                 "tandem --set-secret CHANNEL").format(said=said)
