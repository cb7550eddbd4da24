"""The HTTP server: health, readiness, metrics and the inbound hooks (platform webhooks
mount here too)."""

from __future__ import annotations

from aiohttp import web

from bot import action_pages, chart_route, hooks, http_guard, oncall_feed
from bot import web as pages
from bot.app import Application
from bot.http_input import request_locale

APP_KEY = hooks.APP_KEY
# How long a stop waits for requests already being handled (their bodies in hand); bodies
# still arriving are given up at once (``http_guard``).
SHUTDOWN_GRACE_SECONDS = 5.0


def make_web_app(app: Application) -> web.Application:
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    http_guard.install(
        web_app,
        body_timeout=app.settings.http_body_timeout_seconds,
        translator=lambda request: app.translator(request_locale(request, app.settings.locale)),
    )
    pages.console.install(web_app)
    web_app.add_routes(
        [
            web.get("/healthz", _healthz),
            web.get("/readyz", _readyz),
            web.get("/metrics", _metrics),
            *hooks.routes(),
            *action_pages.routes(),
            *chart_route.routes(),
            *oncall_feed.routes(),
            *pages.routes(),
        ]
    )
    for adapter in app.adapters.values():
        web_app.add_routes(adapter.routes())
    return web_app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    # Which replica answered, and which one-owner duties it holds (with their fencing
    # tokens): across replicas no duty is ever named twice.
    held = app.replica.duties.held()
    replica = {"instance": app.replica.instance_id, "duties": sorted(held), "tokens": held}
    if await app.ready():
        return web.json_response({"status": "ready", **replica})
    return web.json_response(
        {
            "status": "not ready",
            "reason": "database unreachable or migrations not current",
            **replica,
        },
        status=503,
    )


async def _metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    # Its gauges are read from the database at scrape time: rendered on a database thread.
    body = await app.db.run(app.metrics.render)
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


async def serve(app: Application, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (to clean up) and the port actually bound."""
    runner = web.AppRunner(
        make_web_app(app),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        # aiohttp's default keeps an idle connection an hour.
        keepalive_timeout=app.settings.http_idle_timeout_seconds,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    return runner, bound
