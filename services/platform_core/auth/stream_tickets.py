"""Stream tickets: what a browser presents instead of its API key where it cannot send headers.

A browser's ``EventSource`` opens a server-sent event stream with a plain GET and no way to add
``X-API-Key``. A key in the URL instead is written into every proxy's and ingress controller's
access log, the browser's history and bookmarks, and whatever screen the address bar is shared
on; the platform's own log redaction reaches none of those. So the page asks for a ticket with
its key in a header, and opens the stream with ``?ticket=``. A ticket

- opens one stream (redeeming it deletes it) within ``TICKET_SECONDS`` of its issue: a URL read
  from a log later opens nothing;
- stands for the key it was issued to, which must still be valid when the ticket is redeemed (a
  key revoked in between is refused);
- is kept in Redis only as its SHA-256, so a copy of Redis holds no usable ticket.

A key gets at most ``TICKETS_PER_MINUTE`` tickets a minute (a fixed window per key in Redis):
the page asks for one on load and on each reconnect, with backoff, so a handful a minute is
ordinary use; a script asking in a loop would otherwise fill Redis with tickets, and is told
to wait (:class:`TicketRateExceeded`, with the seconds left in the window).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore, AuthenticationError
from services.platform_core.auth.principals import Principal

TICKET_PREFIX = "prt:auth:stream-ticket:"
ISSUED_PREFIX = "prt:auth:stream-tickets-issued:"
TICKET_SECONDS = 60
TICKETS_PER_MINUTE = 30
_TICKET_MARK = "st_"


class TicketRateExceeded(Exception):
    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"this key was issued {limit} stream tickets in the last minute, the most a key "
            f"gets; ask again in {retry_after_s} s (a ticket opens a stream that stays open: "
            "a page needs a new one only when its stream drops)"
        )
        self.limit = limit
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class StreamTicket:
    ticket: str  # shown once, to the caller who asked
    expires_at: datetime


class StreamTickets:
    def __init__(
        self,
        redis: Redis,
        keys: ApiKeyStore,
        lifetime_s: float = TICKET_SECONDS,
        per_minute: int = TICKETS_PER_MINUTE,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._lifetime_ms = int(lifetime_s * 1000)
        self._per_minute = per_minute

    @property
    def lifetime_s(self) -> float:
        return self._lifetime_ms / 1000

    async def issue(self, principal: Principal) -> StreamTicket:
        """A ticket for ``principal`` (authenticated by its key just now). Raises
        :class:`TicketRateExceeded` once the key has had its tickets for this minute."""
        now = time.time()
        window = int(now // 60)
        issued_key = f"{ISSUED_PREFIX}{principal.key_id}:{window}"
        ticket = _TICKET_MARK + secrets.token_urlsafe(24)
        expires_at = datetime.now(UTC) + timedelta(milliseconds=self._lifetime_ms)
        command: Any = self._redis.execute_command  # untyped in redis-py
        # The count and its expiry in one round trip; the window's key outlives the window
        # (120 s), so a count never lingers into a later one.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(issued_key)
            pipe.expire(issued_key, 120)
            issued, _ = await pipe.execute()
        if int(issued) > self._per_minute:
            raise TicketRateExceeded(self._per_minute, max(1, math.ceil((window + 1) * 60 - now)))
        await command("SET", _redis_key(ticket), principal.key_id, "PX", self._lifetime_ms)
        return StreamTicket(ticket, expires_at)

    async def redeem(self, ticket: str) -> Principal:
        """The principal the ticket stands for; the ticket is spent. Raises
        :class:`AuthenticationError` saying why a ticket opens nothing."""
        if not ticket.startswith(_TICKET_MARK):
            raise AuthenticationError(
                "malformed stream ticket: expected st_<…> as issued by the stream-tickets route"
            )
        command: Any = self._redis.execute_command
        key_id = await command("GETDEL", _redis_key(ticket))
        if key_id is None:
            raise AuthenticationError(
                "the stream ticket is unknown, already used or expired: a ticket opens one "
                f"stream within {self.lifetime_s:g} s of its issue; ask for a fresh one"
            )
        if isinstance(key_id, bytes):
            key_id = key_id.decode()
        return await self._keys.still_valid(key_id)


def _redis_key(ticket: str) -> str:
    return TICKET_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()
