"""Which webhook URLs pushes may be POSTed to (pure): a guard against server-side request
forgery (SSRF).

A department registers the URL, but the platform makes the request, from inside its network:
without a guard, a department key could point the deliverer at the metadata service, Redis or
an intranet admin page and read the answers in the delivery log. So a URL must be http(s),
carry no credentials, and every address its host resolves to must be public — not loopback,
private, link-local, multicast, reserved or otherwise non-global — unless an operator put that
address's network on the allow-list (``PRT_ABNORMAL_PUSH_WEBHOOK_ALLOWED_NETWORKS``; the tests'
receivers on 127.0.0.1 need it, production leaves it empty). The check runs at registration and
again before every delivery, against the addresses the deliverer then connects to, so a DNS
answer that changes after registration (DNS rebinding) is caught too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Comma-separated networks or addresses (``127.0.0.0/8, ::1``); ValueError names a bad one."""
    networks: list[IPNetwork] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not a network or address: {exc}") from exc
    return tuple(networks)


def split_url(url: str) -> tuple[SplitResult | None, str | None]:
    """The URL's parts, or the reason it can never be a webhook target."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of range
    except ValueError as exc:
        return None, f"not a URL: {exc}"
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return None, f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if parts.username is not None or parts.password is not None:
        return None, "the URL carries credentials (user:password@); use the HMAC signature"
    if not parts.hostname:
        return None, "the URL names no host"
    if port == 0:
        return None, "port 0 is not a port a receiver listens on"
    return parts, None


def url_problem(url: str) -> str | None:
    """Why ``url`` is refused before any name is resolved, or None."""
    return split_url(url)[1]


def _unmapped(address: IPAddress) -> IPAddress:
    # ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _relayed_to(address: IPAddress) -> IPAddress | None:
    """The IPv4 address a transition address is relayed to: a 6to4 address (2002:7f00:1::
    carries 127.0.0.1, and Python counts 2002::/16 as global) or a Teredo one's client."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]  # (server, client)
    return None


def address_problem(address: IPAddress, allowed: Iterable[IPNetwork]) -> str | None:
    """Why the deliverer may not connect to ``address``, or None."""
    address = _unmapped(address)
    if any(address.version == net.version and address in net for net in allowed):
        return None
    relayed = _relayed_to(address)
    if relayed is not None:
        problem = address_problem(relayed, ())
        if problem is not None:
            return f"{address} is relayed to {relayed}: {problem}"
    for kind, flagged in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),  # before private: Python counts 240/4 as both
        ("private", address.is_private),
    ):
        if flagged:
            return f"{address} is a {kind} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def addresses_problem(addresses: Iterable[IPAddress], allowed: Iterable[IPNetwork]) -> str | None:
    """Why the host's resolved ``addresses`` are refused: any refused one refuses the host,
    since the connection may go to any of them."""
    networks = tuple(allowed)
    found = list(addresses)
    if not found:
        return "the host resolves to no address"
    for address in found:
        problem = address_problem(address, networks)
        if problem is not None:
            return problem
    return None
