"""``GET /charts/<id>.png``: a report's chart, for platforms that show images by link."""

from __future__ import annotations

from aiohttp import web

from bot.hooks import APP_KEY, json_error
from playbooks.messages import t


def routes() -> list[web.RouteDef]:
    return [web.get(r"/charts/{id:[A-Za-z0-9_-]{1,40}}.png", _chart)]


async def _chart(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    png = await app.chart_png(request.match_info["id"])  # read on a database thread
    if png is None:
        return json_error(request, 404, t("summary.chart_missing"))
    # A chart never changes once drawn; its id is unguessable, so caches may keep it.
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )
