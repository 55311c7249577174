"""Fetching a vendor's output file: streamed to disk, size-capped, only from the vendor's
expected hosts, redirects followed by hand and re-checked hop by hop (netpolicy.check_url),
each hop connected to the very address that was checked (pinning.py), credentials only ever
sent to the origin they belong to.

Outcomes: the path of a file that starts like a video container; RetryableError for a
truncated transfer, an expired/unavailable URL or a network error (the vendor job id is
stored, so the retry re-polls the same job and usually gets a fresh URL); PermanentError for
an oversized or non-video body; UnsafeURL for a URL we must not fetch.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from .base import PermanentError, RetryableError
from .netpolicy import Resolver, check_url, resolve
from .pinning import pinned_client
from .secrets import redact

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 3
CHUNK = 256 * 1024
DEFAULT_MAX_BYTES = 500 * 1024 * 1024


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV (`ftyp` box at offset 4) or Matroska/WebM (EBML magic)."""
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def download(
    url: str,
    dest: Path,
    *,
    allowed_hosts,
    max_bytes: int = DEFAULT_MAX_BYTES,
    auth_headers: dict[str, str] | None = None,
    secrets: list[str] | tuple[str, ...] = (),
    timeout_s: float = 120.0,
    vendor: str = "vendor",
    resolver: Resolver = resolve,
) -> Path:
    auth_origin = _origin(url) if auth_headers else None
    dest = Path(dest)
    for _hop in range(MAX_REDIRECTS + 1):
        checked = check_url(url, allowed_hosts, resolver=resolver)
        headers = dict(auth_headers or {}) if _origin(url) == auth_origin else {}
        try:
            with (
                pinned_client(checked, timeout_s=timeout_s) as http,
                http.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code in REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise RetryableError(f"{vendor}: redirect without a Location", code="download_failed")
                    url = urljoin(url, location)
                    continue
                _check_status(response, vendor)
                _save(response, dest, max_bytes, vendor)
                return dest
        except httpx.HTTPError as exc:
            dest.unlink(missing_ok=True)
            text = redact(f"{vendor}: download failed: {type(exc).__name__}: {exc}", list(secrets))
            raise RetryableError(text, code="download_failed") from None
    raise PermanentError(f"{vendor}: more than {MAX_REDIRECTS} redirects", code="download_failed")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _check_status(response: httpx.Response, vendor: str) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in (403, 404, 410):
        raise RetryableError(f"{vendor}: the output URL answered {status} (expired?)", code="download_expired")
    if status == 429 or status >= 500:
        raise RetryableError(f"{vendor}: download answered {status}", code="download_failed")
    raise PermanentError(f"{vendor}: download answered {status}", code="download_failed")


def _save(response: httpx.Response, dest: Path, max_bytes: int, vendor: str) -> None:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PermanentError(f"{vendor}: output is {declared} bytes, over the {max_bytes}-byte cap", code="too_large")
    received = 0
    head = b""
    try:
        with open(dest, "wb") as fh:
            for chunk in response.iter_bytes(CHUNK):
                received += len(chunk)
                if received > max_bytes:
                    raise PermanentError(f"{vendor}: output exceeds the {max_bytes}-byte cap", code="too_large")
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                fh.write(chunk)
        if declared and declared.isdigit() and received != int(declared):
            raise RetryableError(
                f"{vendor}: download truncated ({received} of {declared} bytes)", code="download_truncated"
            )
        if not looks_like_video(head):
            raise PermanentError(f"{vendor}: the output is not a video file", code="not_a_video")
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
