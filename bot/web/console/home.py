"""Where signing in lands, ``/web/incidents``, until the incidents page takes the path:
the console's frame (navigation, who is signed in, sign out) around a heading."""

from __future__ import annotations

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console.render import page
from bot.web.console.viewer import viewer_of
from playbooks.messages import t


def routes() -> list[web.RouteDef]:
    return [web.get("/web/incidents", _incidents)]


async def _incidents(request: web.Request) -> web.Response:
    return page(request, "home.html", title=_title(request), topics=("incidents",))


def _title(request: web.Request) -> str:
    viewer = viewer_of(request)
    return request.app[APP_KEY].translator(viewer.locale)(t("web.nav.incidents"))
