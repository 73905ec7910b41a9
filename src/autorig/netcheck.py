"""Which input URLs may be fetched: the rule the worker applies before it connects, in one place
the backend can apply too (before it queues a task), so a URL the worker would refuse is refused
at once with 400 instead of failing later.

A URL is fetchable when it is http(s), names no user or password, and every address its host
resolves to is public (not private, loopback, link-local, multicast, reserved, unspecified or
otherwise non-global; IPv4 hidden in IPv6 included), unless the host (``host`` or ``host:port``)
is listed in ``allowed_hosts``. Numeric forms of an address (``2130706433``, ``0x7f000001``,
``0177.0.0.1``) resolve to the address they spell, so they are judged by it.

The functions take no settings and do no I/O except the name lookup, which a caller in an event
loop runs in a thread (``asyncio.to_thread(url_problem, ...)``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_problem(ip: Address) -> str | None:
    """What is wrong with fetching from this address ("a private address"), or None if public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner:
                return f"{inner} ({embedded} inside IPv6)"
    named = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    )
    for name, hit in named:
        if hit:
            return f"{'an' if name[0] in 'aeiou' else 'a'} {name} address"
    if not ip.is_global:
        return "not a public address"
    return None


def is_allowed(host: str, port: int, allowed_hosts: Iterable[str]) -> bool:
    """``host`` or ``host:port`` listed in allowed_hosts (case-insensitive, ``[v6]:port`` too)."""
    host = host.lower()
    bare = f"[{host}]" if ":" in host else host
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        if entry in (host, bare, f"{bare}:{port}"):
            return True
    return False


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to; ``ValueError`` when it resolves to none."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise ValueError(f"cannot resolve the input host {host!r}: {exc}") from None
    addresses: list[Address] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 zone id
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise ValueError(f"the input host {host!r} has no address")
    return addresses


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_problem(url: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why ``url`` may not be fetched (a sentence), or None when it may."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        return f"not a valid URL: {exc}"
    if parsed.scheme not in DEFAULT_PORTS:
        return f"only http and https URLs are fetched, not {parsed.scheme or 'no scheme'!r}"
    if not parsed.host:
        return "the URL has no host"
    if parsed.userinfo:
        return "URLs with a user name or password are not fetched"
    host = parsed.host
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    if is_allowed(host, port, allowed_hosts):
        return None
    try:
        addresses = resolve(host, port)
    except ValueError as exc:
        return str(exc)
    for ip in addresses:
        problem = address_problem(ip)
        if problem:
            literal = len(addresses) == 1 and is_ip(host)
            what = f"{host} is" if literal else f"{host} resolves to {ip},"
            return f"{what} {problem}; models are fetched only from public hosts"
    return None
