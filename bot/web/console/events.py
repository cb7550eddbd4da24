"""``GET /web/events``: the server-sent events that keep an open console page current.

Each event is ``event: change`` with the topics that changed as its data, space-separated
(``incident:42 incidents``); ``/web/static/console.js`` refetches the page when one of them
is among those its ``<main data-topics="…">`` follows. The stream belongs to the session
that opened it: it ends (``event: ended``) when the session is signed out or expires, and
when the server stops."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp_sse import sse_response

from bot.app import Application
from bot.hooks import APP_KEY
from bot.live import Subscription
from bot.web.console.sessions import refusal, still_live
from bot.web.console.viewer import Viewer, viewer_of
from playbooks.messages import t
from storage.changes import SESSIONS

PATH = "/web/events"
# How often, with nothing published, the stream checks that its session still lives.
CHECK_SECONDS = 30.0
# Browsers reconnect after this long when a stream drops (the SSE ``retry`` field, ms).
RETRY_MS = 3000


# The streams a server has open, ended first when it stops: a browser reconnects (to
# another replica, or to this one when it is back) rather than holding the stop.
_OPEN = web.AppKey("web_event_streams", set[Subscription])
# Streams each session has open here: a browser opens one per tab; a script opening
# thousands would hold as many subscriptions and sockets. Past this, one sentence (429).
MAX_PER_SESSION = 16
_PER_SESSION = web.AppKey("web_event_streams_per_session", dict[str, int])


def routes() -> list[web.RouteDef]:
    return [web.get(PATH, _events)]


def install(web_app: web.Application) -> None:
    web_app[_OPEN] = set()
    web_app[_PER_SESSION] = {}

    async def end_streams(web_app: web.Application) -> None:
        for subscription in web_app[_OPEN]:
            subscription.close()

    web_app.on_shutdown.append(end_streams)


async def _events(request: web.Request) -> web.StreamResponse:
    viewer = viewer_of(request)
    app = request.app[APP_KEY]
    own = f"{SESSIONS}{viewer.person.handle}"
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    open_streams = request.app[_OPEN]
    per_session = request.app[_PER_SESSION]
    if per_session.get(viewer.session_id, 0) >= MAX_PER_SESSION:
        sentence = t("web.events.too_many", count=MAX_PER_SESSION)
        return refusal(request, 429, sentence, locale=viewer.locale)
    per_session[viewer.session_id] = per_session.get(viewer.session_id, 0) + 1
    try:
        return await _stream(request, app, viewer, own, headers, open_streams)
    finally:
        left = per_session.pop(viewer.session_id, 1) - 1
        if left:
            per_session[viewer.session_id] = left


async def _stream(
    request: web.Request,
    app: Application,
    viewer: Viewer,
    own: str,
    headers: dict[str, str],
    open_streams: set[Subscription],
) -> web.StreamResponse:
    async with (
        app.live.subscribe() as subscription,
        sse_response(request, headers=headers) as stream,
    ):
        open_streams.add(subscription)
        try:
            await stream.send("", event="ready", retry=RETRY_MS)
            checked = time.monotonic()
            while stream.is_connected() and not subscription.closed:
                topics = await subscription.next(within=CHECK_SECONDS)
                if subscription.closed:
                    break
                due = time.monotonic() - checked >= CHECK_SECONDS
                if own in topics or due or not topics:
                    checked = time.monotonic()
                    now = app.clock.now()
                    if not await app.db.run(
                        still_live, app.engine, id_hash=viewer.session_id, now=now
                    ):
                        await stream.send("", event="ended")
                        break
                shown = sorted(t for t in topics if not t.startswith(SESSIONS))
                if shown:
                    await stream.send(" ".join(shown), event="change")
        finally:
            open_streams.discard(subscription)
    return stream
