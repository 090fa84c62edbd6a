"""An open event stream's key, looked at again while the stream lasts.

A key was good when the stream opened; one revoked since, or ended by a rotation's overlap,
must not go on receiving. Each stream (the dashboard's, a partner's seat requests) asks
:meth:`KeyRecheck.ended` in its loop: None while the key holds, else the ``unauthenticated``
event to end the stream with (data ``{"message"}``: why, in the key store's words)."""

from __future__ import annotations

import json
import time

from services.platform_core.auth.api_keys import ApiKeyStore, AuthenticationError

UNAUTHENTICATED = "unauthenticated"


def key_no_longer_valid_notice(exc: AuthenticationError) -> dict[str, str]:
    """The stream's last event once its key is revoked or expired; no SSE ``id``."""
    return {"event": UNAUTHENTICATED, "data": json.dumps({"message": str(exc)})}


class KeyRecheck:
    def __init__(self, keys: ApiKeyStore, key_id: str, interval_s: float) -> None:
        self._keys = keys
        self._key_id = key_id
        self._interval_s = interval_s
        self._checked = time.monotonic()

    def seconds_to_next(self) -> float:
        """How long until the key is to be looked at again (0 when it is due)."""
        return max(0.0, self._interval_s - (time.monotonic() - self._checked))

    async def ended(self) -> dict[str, str] | None:
        """The ``unauthenticated`` event if the key, looked at again now that it is due, no
        longer holds; None while it holds (or is not due)."""
        if self.seconds_to_next() > 0:
            return None
        try:
            await self._keys.still_valid(self._key_id)
        except AuthenticationError as exc:
            return key_no_longer_valid_notice(exc)
        self._checked = time.monotonic()
        return None
