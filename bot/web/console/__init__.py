"""The signed-in web console under ``/web``: the same incidents, releases, rotations and
reports as in chat, seen rather than read, with the same actions through the same
pipeline and the same role checks.

One module per page, each giving ``routes()``; ``viewer`` says who is looking,
``render`` writes a page in their language and timezone, ``actions`` runs a command
typed or clicked on a page as that person, on the platform ``web``."""

from __future__ import annotations

from aiohttp import web


def routes() -> list[web.RouteDef]:
    # Each page's module adds its routes here.
    from bot.web.console import releases

    return [*releases.routes()]
