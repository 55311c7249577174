"""An httpx transport that connects to the address netpolicy checked, not to whatever a second
DNS lookup would answer (DNS rebinding), while TLS still verifies the certificate and sends
SNI for the vendor's hostname: httpcore asks the network backend to open a TCP connection to
the URL's host, and it is the backend below that swaps the name for the pinned address;
`start_tls` is then called by httpcore with `server_hostname` = the URL's host, unchanged.

The transport only ever connects to its one checked host: a request for any other host fails
before a socket is opened (redirects are followed by hand, hop by hop, with a new check and a
new transport each time).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from .netpolicy import CheckedURL


class PinnedNetworkBackend(httpcore.NetworkBackend):
    def __init__(self, host: str, address: str, backend: httpcore.NetworkBackend | None = None):
        self.host = host.lower()
        self.address = address
        self.backend = backend or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host.lower().rstrip(".") != self.host:
            raise httpcore.ConnectError(f"refusing to connect to {host}: only {self.host} was checked")
        return self.backend.connect_tcp(
            self.address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never used for vendor traffic")

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (HTTP/1.1, certificate verification from certifi, no proxies from
    the environment) over a connection pool whose network backend is pinned."""

    def __init__(self, checked: CheckedURL, *, backend: httpcore.NetworkBackend | None = None):
        super().__init__(trust_env=False)
        context: ssl.SSLContext = httpx.create_ssl_context(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            network_backend=PinnedNetworkBackend(checked.host, checked.address, backend),
            max_connections=4,
        )


def pinned_client(checked: CheckedURL, *, timeout_s: float, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        transport=PinnedTransport(checked),
        headers=headers,
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )
