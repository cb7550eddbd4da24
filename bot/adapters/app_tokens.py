"""An app's access token (DingTalk's accessToken, Feishu's tenant_access_token): fetched
once, kept until shortly before it expires, fetched again when the platform says it is no
longer good."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.clock import Clock

# Fetched again this long before the platform's expiry, so a call never carries a token
# that runs out on the way.
MARGIN = timedelta(minutes=5)


class AppToken:
    """``fetch`` answers the token and its lifetime in seconds, or raises ``AdapterError``."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]], *, clock: Clock) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token: str | None = None
        self._until = datetime.min.replace(tzinfo=UTC)
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or self._clock.now() >= self._until:
                token, lifetime = await self._fetch()
                now = self._clock.now()
                self._token = token
                self._until = now + max(timedelta(seconds=lifetime) - MARGIN, MARGIN / 5)
            return self._token

    def forget(self, token: str) -> None:
        """The platform refused ``token``: the next ``get`` fetches a new one (unless another
        call has done so already)."""
        if self._token == token:
            self._token = None
