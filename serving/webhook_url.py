"""Which webhook URLs we send to: public addresses only, so a registered URL cannot make the service probe
its own network (loopback, private ranges, link-local, cloud metadata) -- checked when the URL is registered
and again, after DNS, at every send (a name may be re-pointed). Hosts the operator lists are allowed."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

_INTERNAL_NAMES = ("localhost", ".localhost", ".internal", ".local")


class UnsafeUrl(ValueError):
    pass


def _parts(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("the URL must be http:// or https:// with a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL must not carry credentials; the signature authenticates us")
    try:
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError:
        raise UnsafeUrl("the URL's port is not a number from 1 to 65535") from None
    return parts


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _allowed(host: str, allowed_hosts: list[str]) -> bool:
    return host.lower() in {h.lower() for h in allowed_hosts}


def check(url: str, allowed_hosts: list[str]) -> None:
    """Refuse a URL that is not http(s), carries credentials, or names an internal host (without DNS)."""
    parts = _parts(url)
    host = parts.hostname
    if _allowed(host, allowed_hosts):
        return
    try:
        internal = _internal(host)
    except ValueError:  # a name, not an address
        internal = host.lower().endswith(_INTERNAL_NAMES) or host.lower() == "localhost"
    if internal:
        raise UnsafeUrl(f"{host[:60]} is an internal address; webhooks go to public addresses only")


def resolve(url: str, allowed_hosts: list[str]) -> tuple[SplitResult, str]:
    """The URL's parts and the one address to connect to, checked after DNS. ``UnsafeUrl`` if not allowed;
    ``OSError`` when the name does not resolve."""
    check(url, allowed_hosts)
    parts = _parts(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    if not _allowed(parts.hostname, allowed_hosts):
        bad = [a for a in addresses if _internal(a)]
        if bad:
            raise UnsafeUrl(f"{parts.hostname[:60]} resolves to the internal address {bad[0]}")
    return parts, addresses[0]
