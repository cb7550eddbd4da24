"""The signed-in web console under ``/web``: the same incidents, releases, rotations and
reports as in chat, seen rather than read, with the same actions through the same
pipeline and the same role checks.

One module per page, each giving ``routes()``; ``viewer`` says who is looking,
``render`` writes a page in their language and timezone, ``actions`` runs a command
typed or clicked on a page as that person, on the platform ``web``. ``sessions`` is the
middleware that signs each request in (or sends it to sign in), ``sign_in`` the pages
that open and end a session, ``events`` the stream of changes an open page follows (with
``static/console.js``)."""

from __future__ import annotations

from aiohttp import web

from bot.web.console import (
    audit,
    events,
    incidents,
    oncall,
    releases,
    reports,
    sessions,
    sign_in,
    static,
)


def install(web_app: web.Application) -> None:
    """What the console adds to the HTTP server besides its routes: the sign-in
    middleware, and ending the event streams when the server stops."""
    web_app.middlewares.append(sessions.middleware)
    events.install(web_app)


def routes() -> list[web.RouteDef]:
    # Each page's module adds its routes here.
    return [
        *sign_in.routes(),
        *events.routes(),
        *static.routes(),
        *incidents.routes(),
        *releases.routes(),
        *oncall.routes(),
        *reports.routes(),
        *audit.routes(),
    ]
