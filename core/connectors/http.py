"""HTTP to web stores: TLS always verified, plain http only to loopback, bounded retries.

Retries come from tenacity: connect errors, timeouts, dropped connections, 429 (after the
Retry-After the store asks for) and 5xx are tried again with exponential backoff and jitter,
up to a number of attempts and a total time. 401 and 403 stop at once.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay,
    wait_exponential_jitter,
)

from core.connectors.base import ConnectorError, CredentialError, RequestCounter

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
        raise ConnectorError(f"refusing plain http to {parts.hostname}: use https (http is only for loopback)")
    raise ConnectorError(f"not a web store address: {url!r}")


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
                 credential_hint: str = "the store credentials", sleep=time.sleep):
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

    def request(self, method: str, path: str, kind: str, **kwargs) -> httpx.Response:
        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, (httpx.TransportError, RetryableStatus))

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
            raise ConnectorError(
                f"the store kept answering HTTP {exc.response.status_code} after "
                f"{self.policy.attempts} attempts; nothing was changed for this step"
            ) from None
        except httpx.TimeoutException:
            raise ConnectorError("the store did not answer in time, even after retrying") from None
        except httpx.TransportError as exc:
            raise ConnectorError(f"could not talk to the store ({type(exc).__name__}), even after retrying") from None

    def _once(self, method: str, path: str, kind: str, **kwargs) -> httpx.Response:
        self.counter.count(kind)
        response = self._client.request(method, path, **kwargs)
        if response.status_code in (401, 403):
            raise CredentialError(
                f"the store refused the request (HTTP {response.status_code}): check {self.credential_hint}"
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableStatus(response)
        if response.status_code >= 400:
            raise ConnectorError(f"the store rejected a {kind} request (HTTP {response.status_code})")
        return response
