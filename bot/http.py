"""The HTTP server: health, readiness, metrics and the inbound hooks (platform webhooks
mount here too)."""

from __future__ import annotations

from aiohttp import web

from bot import action_pages, chart_route, hooks, oncall_feed
from bot.app import Application

APP_KEY = hooks.APP_KEY


def make_web_app(app: Application) -> web.Application:
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    web_app.add_routes(
        [
            web.get("/healthz", _healthz),
            web.get("/readyz", _readyz),
            web.get("/metrics", _metrics),
            *hooks.routes(),
            *action_pages.routes(),
            *chart_route.routes(),
            *oncall_feed.routes(),
        ]
    )
    for adapter in app.adapters.values():
        web_app.add_routes(adapter.routes())
    return web_app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    if await request.app[APP_KEY].ready():
        return web.json_response({"status": "ready"})
    return web.json_response(
        {"status": "not ready", "reason": "database unreachable or migrations not current"},
        status=503,
    )


async def _metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    # Its gauges are read from the database at scrape time: rendered on a database thread.
    body = await app.db.run(app.metrics.render)
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


async def serve(app: Application, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (to clean up) and the port actually bound."""
    runner = web.AppRunner(make_web_app(app), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    return runner, bound
