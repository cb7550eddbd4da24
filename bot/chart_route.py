"""``GET /charts/<id>.png``: a report's chart, for platforms that show images by link."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy.engine import Engine

from bot.hooks import APP_KEY, json_error
from playbooks.messages import t
from storage.repositories import summaries as repo
from storage.unit_of_work import unit_of_work


def _png(engine: Engine, chart_id: str) -> bytes | None:
    with unit_of_work(engine) as session:
        found = repo.chart(session, chart_id=chart_id)
        return found.png if found is not None else None


def routes() -> list[web.RouteDef]:
    return [web.get(r"/charts/{id:[A-Za-z0-9_-]{1,40}}.png", _chart)]


async def _chart(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    # The read blocks on the database: off the event loop, like every other read here.
    png = await asyncio.to_thread(_png, app.engine, request.match_info["id"])
    if png is None:
        return json_error(request, 404, t("summary.chart_missing"))
    # A chart never changes once drawn; its id is unguessable, so caches may keep it.
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )
