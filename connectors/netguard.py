"""Outbound HTTP goes only to public addresses: a network backend for httpx that resolves each host itself, refuses
private, loopback, link-local and other non-global addresses, and connects to the very address it checked (so a DNS
answer that changes between the check and the connection, or a redirect to an internal host, gets nowhere).

Networks listed in GOVSOCIAL_ALLOW_PRIVATE_NETWORKS (CIDRs, comma-separated) are allowed all the same: a push service or
a Mastodon server on the agency's own network, or the local servers of the test suite. The variable is read here
rather than passed in so that every client the connectors make is guarded without anyone remembering to ask."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

ENV = "GOVSOCIAL_ALLOW_PRIVATE_NETWORKS"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["BlockedAddress", "GuardedBackend", "allowed", "check_host", "check_url", "check_url_now", "guarded_transport"]


class BlockedAddress(httpcore.ConnectError):
    """The host resolves to an address the server must not contact."""


@lru_cache(maxsize=8)
def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for item in raw.replace(";", ",").split(","):
        item = item.strip()
        if item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{ENV}: {item!r} is not a network such as 10.20.0.0/16") from None
    return tuple(out)


def allowed(ip: Address | str, extra: Iterable[str] = ()) -> bool:
    ip = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return True
    networks = _networks(os.environ.get(ENV, "")) + _networks(",".join(extra))
    return any(ip in net for net in networks)


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"{host}: cannot resolve ({exc})") from exc
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


async def check_host(host: str, port: int = 443, extra: Iterable[str] = ()) -> list[str]:
    """The host's addresses, all allowed; BlockedAddress when any is not (a mixed answer could be picked either way)."""
    addresses = await _resolve(host.strip("[]"), port)
    bad = [a for a in addresses if not allowed(a, extra)]
    if bad:
        raise BlockedAddress(f"{host} is on a private or local network ({bad[0]}); GovSocial only connects to public addresses")
    return addresses


def check_url_now(url: str, extra: Iterable[str] = ()) -> None:
    """check_url() for code that is not async (it blocks on DNS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"{url!r} is not an http(s) address")
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host).compressed]
    except ValueError:
        try:
            addresses = list(dict.fromkeys(str(i[4][0]).split("%")[0] for i in socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)))
        except OSError as exc:  # not a verdict: the connection itself is checked again when it is made
            raise httpcore.ConnectError(f"{host}: cannot resolve ({exc})") from exc
    bad = [a for a in addresses if not allowed(a, extra)]
    if bad:
        raise BlockedAddress(f"{host} is on a private or local network ({bad[0]}); GovSocial only connects to public addresses")


async def check_url(url: str, extra: Iterable[str] = ()) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"{url!r} is not an http(s) address")
    await check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), extra)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None, extra: Iterable[str] = ()):
        self._inner = inner or httpcore.AnyIOBackend()
        self._extra = tuple(extra)

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await check_host(host, port, self._extra)
        error: Exception | None = None
        for address in addresses:
            try:
                # TLS still checks the certificate against `host`: httpcore passes the origin's name as server_hostname.
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedAddress("unix sockets are not for outbound requests")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(*, extra: Iterable[str] = (), **kwargs) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection (redirects included) goes through GuardedBackend."""
    transport = httpx.AsyncHTTPTransport(**kwargs)
    pool = transport._pool
    # httpx 0.28 takes no network backend argument; the pool's is swapped before any connection exists.
    # tests/unit/test_netguard.py fails if a release stops honouring this.
    pool._network_backend = GuardedBackend(pool._network_backend, extra)
    return transport
