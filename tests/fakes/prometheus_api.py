"""A local Prometheus HTTP API that answers every instant query with one healthy number and
counts the queries: enough to tell which process reads a release's guards, and how often."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve


@dataclass
class CountingPrometheus:
    value: float = 0.01
    queried_at: list[float] = field(default_factory=list)  # time.monotonic() of each query
    url: str = ""
    _runner: web.AppRunner | None = None

    @classmethod
    async def start(cls) -> CountingPrometheus:
        fake = cls()
        app = web.Application()
        app.router.add_get("/api/v1/query", fake._query)
        fake._runner, fake.url = await serve(app)
        return fake

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def count(self, since: float = 0.0) -> int:
        return sum(1 for at in self.queried_at if at >= since)

    async def _query(self, request: web.Request) -> web.Response:
        self.queried_at.append(time.monotonic())
        at = float(request.query.get("time") or time.time())
        result: list[dict[str, Any]] = [{"metric": {}, "value": [at, str(self.value)]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return web.json_response(body)
