"""``/web/oncall``: per team, who is on call now and next and a four-week calendar of
shifts in the viewer's timezone (overrides and swaps marked); the open pages, whom each
notification reached and on which platform, who acknowledged, and an Acknowledge button
that runs ``/ack ID`` as the viewer.

What anyone may see here, anyone may ask in chat (``/oncall who``, ``/oncall schedule``,
``/pages``); the button is offered to whoever ``/ack`` would let through (the people
paged, and responders), and the pipeline checks again."""

from __future__ import annotations

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console import forms
from bot.web.console.oncall_calendar import span, weeks
from bot.web.console.render import page
from bot.web.console.viewer import Viewer, viewer_of
from commands.oncall.board import OpenPage, board
from playbooks.messages import t
from playbooks.oncall.paging import PageState
from playbooks.people import Role

TOPICS = ("oncall", "pages")  # storage.changes: shifts, overrides, pages and their events


def routes() -> list[web.RouteDef]:
    return [
        web.get("/web/oncall", _page),
        web.post(r"/web/oncall/pages/{id:\d{1,12}}/ack", _ack),
    ]


def may_ack(viewer: Viewer, p: OpenPage) -> bool:
    """As ``/ack`` decides: an open page, and someone it paged or a responder."""
    person = viewer.person
    return p.page.state is PageState.OPEN and (
        person.handle in p.page.paged or person.has_role(Role.RESPONDER)
    )


async def _page(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    app = request.app[APP_KEY]
    now = app.clock.now()
    _, since, until = span(now, viewer.tz)
    found = await app.db.run(  # read on a database thread
        board,
        app.engine,
        app.config.teams,
        app.config.directory,
        now=now,
        since=min(since, now),
        until=until,
    )
    teams = [{"board": b, "weeks": weeks(b.shifts, now=now, tz=viewer.tz)} for b in found.teams]
    pages = [{"open": p, "may_ack": may_ack(viewer, p)} for p in found.pages]
    tr = app.translator(viewer.locale, viewer.tz)
    return page(
        request,
        "oncall.html",
        title=tr(t("web.oncall.title")),
        teams=teams,
        pages=pages,
        topics=TOPICS,
    )


async def _ack(request: web.Request) -> web.Response:
    page_id = int(request.match_info["id"])
    return await forms.run_and_return(
        request, f"/ack {page_id}", back=f"/web/oncall#page-{page_id}"
    )
