"""Which URLs a worker may contact: the one place that decides, so no vendor response can
make a worker fetch an internal address.

Rules, for every URL (and again for every redirect hop):
- https only. Plain http only for hosts in SCREENTEST_INSECURE_HOSTS, a test-only list
  that may name loopback hosts and nothing else (127.0.0.0/8, ::1, localhost): a
  misconfiguration can open a test fake, never a LAN or metadata address.
- the host must be one the vendor is expected to use (exact name, or `.suffix` for a domain
  and its subdomains), given per backend in catalog params / environment.
- every address the host resolves to must be public: loopback, private, link-local, shared,
  multicast, reserved and unspecified addresses are refused, unless the host is in the
  test-only list above.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from .base import PermanentError

INSECURE_HOSTS_ENV = "SCREENTEST_INSECURE_HOSTS"
LOOPBACK_NAMES = {"localhost"}


class UnsafeURL(PermanentError):
    code = "unsafe_url"


def _is_loopback_name(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_test_hosts(environ: dict[str, str] | None = None) -> frozenset[str]:
    """The test-only allow-list. Entries that are not loopback are ignored, by design."""
    environ = os.environ if environ is None else environ
    raw = environ.get(INSECURE_HOSTS_ENV, "")
    hosts = {h.strip().lower().strip("[]") for h in raw.split(",") if h.strip()}
    return frozenset(h for h in hosts if _is_loopback_name(h))


def host_matches(host: str, allowed: list[str] | tuple[str, ...] | frozenset[str]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower().strip()
        if not pattern:
            continue
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif host == pattern:
            return True
    return False


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL(f"cannot resolve {host}: {exc.strerror}") from None
    return sorted({info[4][0] for info in infos})


def check_url(url: str, allowed_hosts, *, environ: dict[str, str] | None = None, resolver=resolve) -> str:
    """Return the URL's host when the URL may be fetched; raise UnsafeURL otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("malformed URL") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeURL("URL has no host")
    if parts.username or parts.password:
        raise UnsafeURL("URL carries credentials")
    test_hosts = insecure_test_hosts(environ)
    is_test_host = host in test_hosts
    if parts.scheme == "http":
        if not is_test_host:
            raise UnsafeURL(f"refusing plain http to {host}: only https is allowed")
    elif parts.scheme != "https":
        raise UnsafeURL(f"refusing URL scheme {parts.scheme!r}")
    if not host_matches(host, allowed_hosts):
        raise UnsafeURL(f"host {host} is not one this vendor is expected to use")
    if not is_test_host:
        port = port or (443 if parts.scheme == "https" else 80)
        for address in resolver(host, port):
            if not is_public_address(address):
                raise UnsafeURL(f"host {host} resolves to a non-public address")
    return host
