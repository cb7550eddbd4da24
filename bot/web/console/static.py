"""``/web/static/<name>``: the console's script, shipped in the package (no CDN, no build
step). Open without a session: it holds nothing but code."""

from __future__ import annotations

from functools import cache
from importlib import resources

from aiohttp import web

TYPES = {".js": "text/javascript", ".css": "text/css"}


def routes() -> list[web.RouteDef]:
    return [web.get("/web/static/{name}", _static)]


@cache
def _files() -> dict[str, bytes]:
    """Every file shipped in ``bot/web/static``, read once (a few kilobytes)."""
    folder = resources.files("bot.web") / "static"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}


def _read(name: str) -> bytes | None:
    return _files().get(name)


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    kind = next((t for ext, t in TYPES.items() if name.endswith(ext)), None)
    body = _read(name) if kind else None
    if body is None or kind is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=body,
        content_type=kind,
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
