"""A core-function guard's source: an HTTP GET of a health check or synthetic probe URL
(seed 003 §9.1 核心功能不可用). 0 when it answers 2xx, 1 when it does not (any other
status, a timeout, no connection), so a guard with ``max: 0`` breaches while it fails.

A failing probe is a reading, not missing evidence: it must roll back after its ``for``,
not pause after ``max_unknown``. Credentials in the URL are never shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.metric_sources.base import MetricQuery, Series
from playbooks.messages import t
from playbooks.releases.guards import Reading

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

PREFIX = "probe:"
UP, DOWN = 0.0, 1.0


def is_probe(expr: str) -> bool:
    return expr.lstrip().startswith(PREFIX)


def probe_url(expr: str) -> str:
    return expr.lstrip().removeprefix(PREFIX).strip()


class ProbeSource:
    def __init__(
        self,
        *,
        timeout: timedelta,
        session: Callable[[], Awaitable[aiohttp.ClientSession]],
    ) -> None:
        self._timeout = timeout
        self._session = session

    async def query(self, query: MetricQuery, at: datetime) -> Reading:
        # aiohttp only once a probe is read: every app holds a probe source, a drill may
        # never read one.
        import aiohttp
        from yarl import URL

        url = probe_url(query.expr)
        try:
            parsed = URL(url)
        except ValueError:
            return Reading(error=t("metrics.probe_not_a_url", url=url))
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return Reading(error=t("metrics.probe_not_http", url=_shown(parsed)))
        session = await self._session()
        try:
            async with session.get(
                parsed,
                timeout=aiohttp.ClientTimeout(total=self._timeout.total_seconds()),
                allow_redirects=False,
            ) as response:
                return Reading.of(UP if 200 <= response.status < 300 else DOWN)
        except (TimeoutError, aiohttp.ClientError):
            # No answer at all is the core function down too.
            return Reading.of(DOWN)

    async def query_range(
        self, query: MetricQuery, *, start: datetime, end: datetime, step: timedelta
    ) -> Series:
        return Series(error="a probe answers now only; it has no history to chart")


def _shown(url: URL) -> str:
    return str(url.with_password(None)) if url.password else str(url)
