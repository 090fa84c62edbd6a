"""Resolving a webhook URL to the address the deliverer connects to, refusing SSRF targets.

:func:`checked_target` resolves the URL's host, refuses it if any address is refused by
:mod:`domain.webhook_targets`, and returns a target pinned to the address it checked: the
request goes to that IP, with the original Host header and (for https) the original name for
SNI and certificate checks. Connecting to what was checked, rather than letting the HTTP client
resolve the name again, leaves a rebinding DNS server no window between check and connect.
Redirects are not followed (httpx's default), so a 30x cannot lead elsewhere either.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from services.abnormal_push.domain.errors import AbnormalPushError
from services.abnormal_push.domain.webhook_targets import (
    IPAddress,
    IPNetwork,
    addresses_problem,
    split_url,
)

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

# A name that takes longer than this to resolve is refused (a registration answers in time).
RESOLVE_TIMEOUT_S = 5.0


class WebhookUrlRefused(AbnormalPushError):
    """A webhook URL that may not be registered or delivered to; the message says why."""


@dataclass(frozen=True)
class PinnedTarget:
    url: str  # the URL with the checked address in place of the host name
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
        )
    except socket.gaierror as exc:
        raise WebhookUrlRefused(f"host {host!r} does not resolve: {exc.strerror}") from exc
    except TimeoutError as exc:
        raise WebhookUrlRefused(
            f"host {host!r} did not resolve within {RESOLVE_TIMEOUT_S:g} s"
        ) from exc
    except (UnicodeError, ValueError) as exc:  # e.g. an IDNA label too long
        raise WebhookUrlRefused(f"host {host!r} is not a valid host name: {exc}") from exc
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def checked_target(
    url: str, allowed: Iterable[IPNetwork], resolve: Resolver = resolve_host
) -> PinnedTarget:
    """The pinned target of ``url``; raises WebhookUrlRefused naming the reason."""
    parts, problem = split_url(url)
    if parts is None:
        raise WebhookUrlRefused(problem or "not a webhook URL")
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = await resolve(host, port)
    problem = addresses_problem(addresses, allowed)
    if problem is not None:
        raise WebhookUrlRefused(f"{host} is refused: {problem}")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = parts._replace(scheme=scheme, netloc=netloc).geturl()
    host_header = parts.netloc.rpartition("@")[2]
    extensions = {"sni_hostname": host} if scheme == "https" else {}
    return PinnedTarget(pinned, {"Host": host_header}, extensions)
