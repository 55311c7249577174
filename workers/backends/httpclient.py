"""The HTTP layer every vendor adapter uses (httpx): one base URL, auth headers, and the error
taxonomy applied to HTTP statuses.

- 429, 408, 409 and 5xx, and network errors -> RetryableError, honouring `retry-after-ms`
  and `Retry-After` (seconds or an HTTP date). A network error after the request was sent is
  `AnswerLost` (the vendor may have acted on it); one before (connect) is not.
- 401 / 403 -> PermanentError(code="auth_failed").
- other 4xx -> PermanentError(code="invalid_request"), unless the adapter's `classify` hook
  recognises a content-policy rejection (VendorPolicyRejection) or another meaning first.
- The API host is resolved and checked once (netpolicy) and every call connects to that
  address (pinning.py).
- Keys are redacted from every message; absolute URLs a vendor hands back (fal's status_url,
  Replicate's urls.get) are only followed when they point at the same origin as the base URL,
  so a response cannot make us send a key elsewhere.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .base import AnswerLost, BackendError, PermanentError, RetryableError
from .netpolicy import UnsafeURL, check_url
from .pinning import pinned_client
from .secrets import redact

RETRYABLE_STATUSES = {408, 409, 429}
# Failures before a byte of the request left: the vendor cannot have acted on it. Any other
# transport error (reset, read or write timeout, a cut-off answer) may follow a handled request.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
MAX_ERROR_TEXT = 500
# A hook an adapter passes: (response, parsed body) -> an error to raise, or None for the default.
Classifier = Callable[[httpx.Response, Any], BackendError | None]


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text[:MAX_ERROR_TEXT]


def short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_ERROR_TEXT]


class VendorClient:
    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        headers: dict[str, str],
        secrets: list[str],
        classify: Classifier | None = None,
        timeout_s: float = 30.0,
    ):
        self.vendor = vendor
        self.secrets = [s for s in secrets if s]
        self.classify = classify
        base = urlsplit(base_url)
        self.origin = (base.scheme, base.netloc)
        try:
            checked = check_url(base_url, [base.hostname or ""])
        except UnsafeURL as exc:
            raise UnsafeURL(f"{vendor}: base URL refused: {exc}") from None
        self.base_url = base_url.rstrip("/") + "/"
        # Every API call goes to this one origin (see `url`), so one pinned connection pool serves all.
        self.http = pinned_client(checked, timeout_s=timeout_s, headers=headers)

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def url(self, path_or_url: str) -> str:
        url = urljoin(self.base_url, path_or_url.lstrip("/")) if "://" not in path_or_url else path_or_url
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self.origin:
            raise UnsafeURL(f"{self.vendor}: refusing to send credentials to another origin ({parts.netloc})")
        return url

    def error_text(self, text: str) -> str:
        return redact(f"{self.vendor}: {text}", self.secrets)

    def request(self, method: str, path_or_url: str, **kwargs) -> httpx.Response:
        url = self.url(path_or_url)
        try:
            response = self.http.request(method, url, **kwargs)
        except NEVER_SENT as exc:
            raise RetryableError(
                self.error_text(f"{method} failed before sending: {type(exc).__name__}: {exc}"),
                code="vendor_unreachable",
            ) from None
        except httpx.TimeoutException as exc:
            raise AnswerLost(self.error_text(f"{method} sent, no answer in time ({type(exc).__name__})")) from None
        except httpx.HTTPError as exc:
            raise AnswerLost(self.error_text(f"{method} sent, answer lost: {type(exc).__name__}: {exc}")) from None
        if response.status_code < 300:
            return response
        raise self.error_for(response)

    def json(self, method: str, path_or_url: str, **kwargs) -> Any:
        response = self.request(method, path_or_url, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise RetryableError(
                self.error_text(f"{method} {response.status_code}: body is not JSON"), code="vendor_bad_response"
            ) from None

    def error_for(self, response: httpx.Response) -> BackendError:
        status = response.status_code
        body = body_of(response)
        if self.classify is not None:
            custom = self.classify(response, body)
            if custom is not None:
                custom.args = (self.error_text(str(custom)),)
                return custom
        text = self.error_text(f"HTTP {status}: {short(body)}")
        if status in RETRYABLE_STATUSES or status >= 500:
            code = "rate_limited" if status == 429 else "vendor_unavailable"
            return RetryableError(text, retry_after=parse_retry_after(response.headers), code=code)
        if status in (401, 403):
            return PermanentError(text, code="auth_failed")
        if 300 <= status < 400:
            return PermanentError(text, code="unexpected_redirect")
        return PermanentError(text, code="invalid_request")
