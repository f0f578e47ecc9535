"""HTTP to web stores: TLS always verified, plain http only to loopback, bounded retries.

Retries come from tenacity: connect errors, timeouts, dropped connections, 429 (after the
Retry-After the store asks for) and 5xx are tried again with exponential backoff and jitter,
up to a number of attempts and a total time. 401 and 403 stop at once.

A request that changes the store in a way that must not happen twice (a refund, a capture) is
sent with `idempotent=False`: it is retried only when it surely never reached the store (the
connection could not be made, or 429). Any other failure raises OutcomeUnknown, and the
connector reads the store's state before deciding to send it again.

A refusal the store explains (WooCommerce's `{"code", "message"}` body, even under HTTP 500, as
when a payment gateway cannot refund) is shown as the store gave it and is not retried.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay,
    wait_exponential_jitter,
)

from core.i18n import N_, _
from core.connectors.base import ConnectorError, CredentialError, OutcomeUnknown, RequestCounter, StoreRefusal

USER_AGENT = "Tandem (point-of-sale sync)"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    total_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 30.0


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


# Failures after which the request surely never reached the store.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# WordPress's own code for a crash, which may pass; any other code under a 5xx is the store's decision.
PASSING_CODES = {"internal_server_error"}
REASON_LENGTH = 300
TAGS, SPACES = re.compile(r"<[^>]*>"), re.compile(r"\s+")


def store_reason(response: httpx.Response) -> tuple[str | None, str | None]:
    """The store's own (code, reason) from an error answer, as short one-line text, if it gave one."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    code, message = None, None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = body.get("message")
        errors = body.get("errors")
        if message is None and isinstance(body.get("error"), str):
            # OAuth's answer (RFC 6749 §5.2): an error code, and maybe a description.
            code = body["error"]
            message = f"{code}: {body['error_description']}" if isinstance(body.get("error_description"), str) else code
        if message is None and errors:
            first = errors[0] if isinstance(errors, list) and errors else errors
            message = first.get("message") if isinstance(first, dict) else first
    if not isinstance(message, str) or not message.strip():
        return code, None
    text = SPACES.sub(" ", TAGS.sub(" ", message)).strip()
    return code, (text[:REASON_LENGTH] + "…" if len(text) > REASON_LENGTH else text) or None


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url.rstrip("/")
    if parts.scheme == "http":
        raise ConnectorError(_('refusing plain http to {hostname}: use https (http is only for loopback)').format(hostname=parts.hostname))
    raise ConnectorError(_('not a web store address: {url}').format(url=repr(url)))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class StoreClient:
    """An httpx client with the retry policy; counts every request made."""

    def __init__(self, base_url: str, *, headers: dict | None = None, auth: httpx.Auth | None = None,
                 transport: httpx.BaseTransport | None = None, policy: RetryPolicy | None = None,
                 timeout: float = 30.0, counter: RequestCounter | None = None,
                 credential_hint: str = N_("the store credentials"), sleep=time.sleep):
        self.base_url = check_url(base_url)
        self.policy = policy or RetryPolicy()
        self.counter = counter or RequestCounter()
        self.credential_hint = credential_hint
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.base_url, headers={"User-Agent": USER_AGENT, **(headers or {})}, auth=auth,
            transport=transport, timeout=timeout, verify=True, follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def _wait(self, state: RetryCallState) -> float:
        exception = state.outcome.exception() if state.outcome else None
        if isinstance(exception, RetryableStatus):
            asked = _retry_after(exception.response)
            if asked is not None:
                return min(asked, self.policy.max_wait)
        return wait_exponential_jitter(multiplier=self.policy.initial_wait, max=self.policy.max_wait,
                                       jitter=self.policy.initial_wait)(state)

    def request(self, method: str, path: str, kind: str, *, idempotent: bool = True, **kwargs) -> httpx.Response:
        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, RetryableStatus):
                return idempotent or exc.response.status_code == 429
            if isinstance(exc, httpx.TransportError):
                return idempotent or isinstance(exc, NOT_SENT)
            return False

        def before_sleep(state: RetryCallState) -> None:
            self.counter.retries += 1
            self.counter.waited_seconds += state.upcoming_sleep

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self.policy.attempts) | stop_after_delay(self.policy.total_seconds),
            wait=self._wait, sleep=self._sleep, before_sleep=before_sleep, reraise=True,
        )
        try:
            return retrying(self._once, method, path, kind, **kwargs)
        except RetryableStatus as exc:
            if not idempotent and exc.response.status_code != 429:
                raise OutcomeUnknown(_('the store answered HTTP {status_code} to the {kind}; it may or may not have been made').format(status_code=exc.response.status_code, kind=kind)) from None
            raise ConnectorError(
                _('the store kept answering HTTP {status_code} after {attempts} attempts; nothing was changed for this step').format(status_code=exc.response.status_code, attempts=self.policy.attempts)
            ) from None
        except httpx.TransportError as exc:
            if not idempotent and not isinstance(exc, NOT_SENT):
                raise OutcomeUnknown(_('the connection was lost during the {kind}; it may or may not have been made').format(kind=kind)) from None
            if isinstance(exc, httpx.TimeoutException):
                raise ConnectorError(_("the store did not answer in time, even after retrying")) from None
            raise ConnectorError(_('could not talk to the store ({name__}), even after retrying').format(name__=type(exc).__name__)) from None

    def _once(self, method: str, path: str, kind: str, **kwargs) -> httpx.Response:
        self.counter.count(kind)
        response = self._client.request(method, path, **kwargs)
        if response.status_code in (401, 403):
            raise CredentialError(
                _('the store refused the request (HTTP {status_code}): check {credential_hint}').format(status_code=response.status_code, credential_hint=_(self.credential_hint))
            )
        if response.status_code == 429:
            raise RetryableStatus(response)
        if response.status_code >= 400:
            code, reason = store_reason(response)
            if response.status_code >= 500 and (code is None or code in PASSING_CODES or reason is None):
                raise RetryableStatus(response)
            if reason:
                raise StoreRefusal(_('the store refused the {kind}: {reason}').format(kind=kind, reason=reason), reason=reason)
            raise StoreRefusal(_('the store rejected a {kind} request (HTTP {status_code})').format(kind=kind, status_code=response.status_code))
        return response
