"""One aiohttp client session for every outgoing HTTP call (metrics, traffic backends)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp


class HttpClient:
    """Opened on first use, inside the running event loop, and closed by the application."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            import aiohttp  # only once something is fetched: a drill may never need it

            self._session = aiohttp.ClientSession(
                headers={"User-Agent": "shipwatch"}, raise_for_status=False
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
