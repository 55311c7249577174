"""Which URLs a worker may contact, and at which address: the one place that decides, so no
vendor response can make a worker fetch an internal address.

Rules, for every URL (and again for every redirect hop):
- https only, on port 443 (or the ports an operator lists in SCREENTEST_DOWNLOAD_PORTS).
- the host must be one the vendor is expected to use (exact name, or `.suffix` for a domain
  and its subdomains): the adapter's documented hosts, or an operator's environment.
- the host is resolved once; every address must be public (loopback, private, link-local,
  shared, multicast, reserved, unspecified refused, and so are the IPv6 forms that carry an
  IPv4 address inside: 6to4 2002::/16, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, Teredo
  2001::/32, IPv4-compatible ::/96; an IPv4-mapped address is judged by its IPv4 address).
  The caller then connects to the address returned in `CheckedURL.address` (pinning.py), so
  no second DNS answer can differ from the one checked.

Test-only allowances, both limited to loopback by design (a misconfiguration can open a test
fake, never a LAN or metadata address):
- SCREENTEST_INSECURE_HOSTS: loopback literals (127.0.0.0/8, ::1, localhost) reachable over
  plain http on any port;
- SCREENTEST_TEST_RESOLVE: "name=127.0.0.1,..." answers a real vendor hostname with a
  loopback address (like curl --resolve), so tests exercise the adapters' real default
  hosts against local fakes. Entries whose address is not loopback are ignored.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .base import PermanentError

INSECURE_HOSTS_ENV = "SCREENTEST_INSECURE_HOSTS"
TEST_RESOLVE_ENV = "SCREENTEST_TEST_RESOLVE"
PORTS_ENV = "SCREENTEST_DOWNLOAD_PORTS"
DEFAULT_PORTS = frozenset({443})
LOOPBACK_NAMES = {"localhost": "127.0.0.1"}
# IPv6 prefixes that tunnel or translate to IPv4: the embedded IPv4 address could be a private
# one, and no vendor CDN is reached through them, so they are refused outright.
EMBEDDED_IPV4_NETWORKS = tuple(
    ipaddress.ip_network(net) for net in ("2002::/16", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "::/96")
)

Resolver = Callable[[str, int], list[str]]


class UnsafeURL(PermanentError):
    code = "unsafe_url"


@dataclass(frozen=True)
class CheckedURL:
    """A URL that may be fetched, and the one address the connection must go to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    is_test_host: bool


def _loopback_address(host: str) -> str | None:
    if host in LOOPBACK_NAMES:
        return LOOPBACK_NAMES[host]
    try:
        return host if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


def insecure_test_hosts(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The test-only allow-list. Entries that are not loopback are ignored, by design."""
    environ = os.environ if environ is None else environ
    raw = environ.get(INSECURE_HOSTS_ENV, "")
    hosts = {h.strip().lower().strip("[]") for h in raw.split(",") if h.strip()}
    return frozenset(h for h in hosts if _loopback_address(h))


def loopback_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test-only name -> loopback address map. Non-loopback answers are ignored, by design."""
    environ = os.environ if environ is None else environ
    pinned: dict[str, str] = {}
    for entry in environ.get(TEST_RESOLVE_ENV, "").split(","):
        name, _, address = entry.partition("=")
        name, address = name.strip().lower().rstrip("."), address.strip().strip("[]")
        if name and address and _loopback_address(address) == address:
            pinned[name] = address
    return pinned


def allowed_ports(environ: Mapping[str, str] | None = None) -> frozenset[int]:
    environ = os.environ if environ is None else environ
    raw = environ.get(PORTS_ENV, "").strip()
    if not raw:
        return DEFAULT_PORTS
    return frozenset(int(p) for p in raw.split(",") if p.strip().isdigit() and 0 < int(p) < 65536)


def host_matches(host: str, allowed: Iterable[str]) -> bool:
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
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in EMBEDDED_IPV4_NETWORKS):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL(f"cannot resolve {host}: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(
    url: str,
    allowed_hosts: Iterable[str],
    *,
    environ: Mapping[str, str] | None = None,
    resolver: Resolver = resolve,
) -> CheckedURL:
    """The URL with the address to connect to, when it may be fetched; raise UnsafeURL otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("malformed URL") from None
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeURL("URL has no host")
    if parts.username or parts.password:
        raise UnsafeURL("URL carries credentials")
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"refusing URL scheme {parts.scheme!r}")
    port = port or (443 if parts.scheme == "https" else 80)
    if not host_matches(host, allowed_hosts):
        raise UnsafeURL(f"host {host} is not one this vendor is expected to use")
    test_address = loopback_overrides(environ).get(host)
    if test_address is None and host in insecure_test_hosts(environ):
        test_address = _loopback_address(host)
    if test_address is not None:
        return CheckedURL(url, parts.scheme, host, port, test_address, is_test_host=True)
    if parts.scheme != "https":
        raise UnsafeURL(f"refusing plain http to {host}: only https is allowed")
    if port not in allowed_ports(environ):
        raise UnsafeURL(f"refusing port {port} on {host}: allowed ports are {sorted(allowed_ports(environ))}")
    addresses = resolver(host, port)
    if not addresses:
        raise UnsafeURL(f"{host} has no address")
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeURL(f"host {host} resolves to a non-public address")
    return CheckedURL(url, parts.scheme, host, port, addresses[0], is_test_host=False)
