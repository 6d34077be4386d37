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


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC = frozenset("0123456789abcdefx.")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host stands for when it is one, in any spelling the resolver accepts: dotted quads,
    but also ``127.1``, ``0x7f.1``, ``017700000001``, ``2130706433``, ``0`` (what ``inet_aton`` takes)."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if host and set(host.lower()) <= _NUMERIC:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries: mapped, compatible (``::a.b.c.d``), NAT64, 6to4, Teredo."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64 or ip.packed[:12] == bytes(12):
        found.append(ipaddress.IPv4Address(ip.packed[12:]))
    return [a for a in found if a is not None]


def _internal(address: str) -> bool:
    """Whether an address (any spelling) is not a public unicast one, or carries one that is not."""
    ip = _address(address)
    if ip is None:
        raise ValueError(f"{address[:60]} is not an address")
    candidates = [ip, *(_embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else ())]
    return any(not a.is_global or a.is_multicast for a in candidates)


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
    except ValueError:  # a name, not an address ("localhost." is "localhost")
        name = host.lower().rstrip(".")
        internal = name.endswith(_INTERNAL_NAMES) or name == "localhost"
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
