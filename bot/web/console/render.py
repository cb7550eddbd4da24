"""A console page written for its viewer: their language (``_("web.key", …)`` in a
template), their timezone (``when(at)``), the navigation, and the headers every console
page carries (no caching, no framing, scripts and forms from this origin only)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console.viewer import Viewer, viewer_of
from bot.web.pages import render
from playbooks.messages import Param, t
from playbooks.people import Role

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# The pages in the navigation, in order: (path, catalog key, admins only).
NAVIGATION = (
    ("/web/incidents", "web.nav.incidents", False),
    ("/web/releases", "web.nav.releases", False),
    ("/web/oncall", "web.nav.oncall", False),
    ("/web/reports", "web.nav.reports", False),
    ("/web/audit", "web.nav.audit", True),
)


def lang_attr(locale: str) -> str:
    return "zh-CN" if locale == "zh" else "en"


def page(
    request: web.Request,
    template: str,
    *,
    title: str,
    status: int = 200,
    topics: Iterable[str] = (),
    **values: Any,
) -> web.Response:
    """Render ``console/<template>`` (which extends ``console/base.html``) for the viewer.

    ``topics``: what the page shows, as change topics (``incident:42``, ``incidents``,
    ``release:3``, ``oncall``… see ``storage.changes``): when a change touches one, the open
    page fetches itself again and swaps its ``<main>`` (``/web/static/console.js``)."""
    viewer = viewer_of(request)
    body = render(
        f"console/{template}",
        **words_for(request, viewer),
        title=title,
        path=request.path,
        topics=" ".join(dict.fromkeys(topics)),
        **values,
    )
    return web.Response(text=body, status=status, content_type="text/html", headers=HEADERS)


def words_for(request: web.Request, viewer: Viewer) -> dict[str, Any]:
    """What every console template may use: ``_``, ``when``, ``viewer``, ``lang``, ``nav``."""
    app = request.app[APP_KEY]
    tr = app.translator(viewer.locale, viewer.tz)

    def _(key: str, **params: Param) -> str:
        return tr(t(key, **params))

    def when(at: datetime | None) -> str:
        return tr.datetime(at) if at is not None else "-"

    nav = [
        {"href": href, "label": _(key), "current": request.path.startswith(href)}
        for href, key, admins in NAVIGATION
        if not admins or viewer.can(Role.ADMIN)
    ]
    return {"_": _, "when": when, "viewer": viewer, "lang": lang_attr(viewer.locale), "nav": nav}
