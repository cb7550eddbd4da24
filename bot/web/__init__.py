"""Pages served by ``shipwatch run``'s HTTP server: server-rendered with Jinja2 from the
templates shipped in this package, no script and nothing fetched from elsewhere."""

from __future__ import annotations

from aiohttp import web

from bot.web import console, status


def routes() -> list[web.RouteDef]:
    return [*status.routes(), *console.routes()]
