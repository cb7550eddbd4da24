"""``/web/audit``: the audit log, newest first, a page at a time, of one person and one
platform if asked (``?actor=alice&platform=web`` finds what was done on the console).
Admins only, as ``/audit`` is in chat: anyone else gets a 403 saying so."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import Engine

from bot.hooks import APP_KEY
from bot.web.console.numbers import whole_number
from bot.web.console.render import page
from bot.web.console.viewer import viewer_of
from playbooks.messages import t
from playbooks.people import Role
from storage.models import AuditEntry
from storage.repositories import audit as repo
from storage.unit_of_work import unit_of_work

PER_PAGE = 50
MAX_PAGE = 100_000
MAX_FILTER = 200


def routes() -> list[web.RouteDef]:
    return [web.get("/web/audit", _page)]


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    total: int
    page: int
    pages: int
    actors: tuple[str, ...]
    platforms: tuple[str, ...]


def read(engine: Engine, *, actor: str | None, platform: str | None, page: int) -> AuditPage:
    with unit_of_work(engine) as session:
        rows, total = repo.search(
            session, actor=actor, platform=platform, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
        )
        actors, platforms = repo.actors_and_platforms(session)
        return AuditPage(
            tuple(rows),
            total,
            page,
            max(1, -(-total // PER_PAGE)),
            tuple(actors),
            tuple(platforms),
        )


def _filter(request: web.Request, name: str) -> str | None:
    # No name holds a NUL, and PostgreSQL refuses one even in a query: left out.
    value = request.query.get(name, "").replace("\x00", "").strip()[:MAX_FILTER]
    return value.lstrip("@") or None


async def _page(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    app = request.app[APP_KEY]
    tr = app.translator(viewer.locale, viewer.tz)
    title = tr(t("web.audit.title"))
    if not viewer.can(Role.ADMIN):
        return page(
            request,
            "missing.html",
            title=title,
            status=403,
            sentence=tr(t("web.audit.admins_only")),
            back="/web/oncall",
            back_label=tr(t("web.nav.oncall")),
        )
    number = request.query.get("page", "1")
    found = await app.db.run(
        read,
        app.engine,
        actor=_filter(request, "actor"),
        platform=_filter(request, "platform"),
        page=whole_number(number, maximum=MAX_PAGE) or 1,
    )
    return page(
        request,
        "audit.html",
        title=title,
        found=found,
        topics=("audit",),
        actor=_filter(request, "actor") or "",
        platform=_filter(request, "platform") or "",
    )
