"""The public status page: ``GET /status`` (HTML), ``/status.json`` and
``/status/feed.atom``, no sign-in. Built from ``playbooks.incidents.status`` over what
``commands.incidents.public`` reads, which is only what was said for the public.

The Atom feed is written with the standard library's ElementTree: a dozen elements with
escaping done for us, where a feed library (feedgen) would bring lxml and dateutil along
for no more than that."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

from bot.hooks import APP_KEY
from bot.http_input import request_locale
from bot.i18n import LOCALES, Translator
from bot.web.pages import SECURITY_HEADERS, render
from commands.incidents.public import public_incidents
from playbooks.incidents.status import (
    HISTORY_DAYS,
    ComponentStatus,
    PublicIncident,
    StatusPage,
    history_since,
    status_page,
)
from playbooks.messages import t

ATOM = "http://www.w3.org/2005/Atom"
CACHE = "public, max-age=30"
ET.register_namespace("", ATOM)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/status", _html),
        web.get("/status.json", _json),
        web.get("/status/feed.atom", _atom),
    ]


def _locale(request: web.Request, default: str) -> str:
    """``?lang=zh`` or ``?lang=en`` first (anything else is ignored), then the
    Accept-Language header, then the server's language."""
    wanted = request.query.get("lang", "").strip().lower()
    if wanted in LOCALES:
        return wanted
    return request_locale(request, default)


async def _page(request: web.Request) -> tuple[StatusPage | None, Translator, str]:
    app = request.app[APP_KEY]
    locale = _locale(request, app.settings.locale)
    tr = app.translator(locale)
    settings = app.config.status
    if not settings.enabled:
        return None, tr, locale
    now = app.clock.now()
    # The incidents come from the database: read on a database thread.
    incidents = await app.db.run(
        public_incidents, app.engine, services=settings.services, since=history_since(now)
    )
    return status_page(settings, incidents, now=now), tr, locale


def _off(tr: Translator, *, as_json: bool) -> web.Response:
    if as_json:
        return web.json_response({"error": tr(t("status.off"))}, status=404)
    body = render("off.html", lang=_lang_attr(tr.locale), message=tr(t("status.off")))
    return web.Response(
        text=body, status=404, content_type="text/html", headers=dict(SECURITY_HEADERS)
    )


def _lang_attr(locale: str) -> str:
    return "zh-CN" if locale == "zh" else "en"


# ---------------------------------------------------------------- HTML


async def _html(request: web.Request) -> web.Response:
    page, tr, locale = await _page(request)
    if page is None:
        return _off(tr, as_json=False)
    app = request.app[APP_KEY]
    names = {c.component.service: c.component.name.in_(locale) for c in page.components}
    body = render(
        "status.html",
        lang=_lang_attr(locale),
        locale=locale,
        title=app.config.status.title.in_(locale),
        overall=page.overall.value,
        overall_text=tr(t(f"status.overall.{page.overall}")),
        as_of=tr(t("status.as_of", at=page.generated_at)),
        groups=_groups(page.components, tr, locale),
        maintenance=[
            tr(t("status.maintenance_until", title=m.title.in_(locale), until=m.end))
            for m in page.maintenance
        ],
        current=[_incident(i, tr, names) for i in page.current],
        past=[_incident(i, tr, names) for i in page.past],
        words={
            "components": tr(t("status.components")),
            "current": tr(t("status.current")),
            "no_current": tr(t("status.no_current")),
            "past": tr(t("status.past", days=HISTORY_DAYS)),
            "no_past": tr(t("status.no_past", days=HISTORY_DAYS)),
            "subscribe": tr(t("status.subscribe")),
            "feed": tr(t("status.feed")),
            "json": tr(t("status.json")),
            "language": tr(t("status.language")),
            "history": tr(t("status.history", days=HISTORY_DAYS)),
            "days_ago": tr(t("status.days_ago", days=HISTORY_DAYS - 1)),
            "today": tr(t("status.today")),
        },
    )
    return web.Response(
        text=body,
        content_type="text/html",
        headers={**SECURITY_HEADERS, "Cache-Control": CACHE, "Vary": "Accept-Language"},
    )


def _groups(components: tuple[ComponentStatus, ...], tr: Translator, locale: str) -> list[Any]:
    """The components under their groups, in the order status.yaml lists them (a group
    where its first component is)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in components:
        group = c.component.group.in_(locale) if c.component.group else ""
        name = c.component.name.in_(locale)
        groups.setdefault(group, []).append(
            {
                "name": name,
                "state": c.state.value,
                "state_text": tr(t(f"status.state.{c.state}")),
                "history_label": tr(t("status.history_of", component=name, days=HISTORY_DAYS)),
                "bars": [
                    {
                        "state": bar.state.value,
                        "label": tr(
                            t(
                                "status.bar",
                                day=bar.day.isoformat(),
                                state=t(f"status.state.{bar.state}"),
                            )
                        ),
                    }
                    for bar in c.history
                ],
            }
        )
    return [{"name": name, "components": items} for name, items in groups.items()]


def _incident(i: PublicIncident, tr: Translator, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": i.id,
        "title": tr(i.title()),
        "state": i.state.value,
        "state_text": tr(t(f"status.state.{i.state}")),
        "affects": tr(t("status.affects", component=names.get(i.service, ""))),
        "started": tr(t("status.started", at=i.opened_at)),
        "resolved": tr(t("status.resolved_at", at=i.resolved_at)) if i.resolved_at else "",
        "updates": [
            {"at": tr.datetime(u.at), "iso": u.at.isoformat(), "text": u.text}
            for u in reversed(i.updates)
        ]
        or ([] if i.resolved_at else [{"at": "", "iso": "", "text": tr(t("status.no_updates"))}]),
    }


# ---------------------------------------------------------------- JSON


async def _json(request: web.Request) -> web.Response:
    page, tr, locale = await _page(request)
    if page is None:
        return _off(tr, as_json=True)
    app = request.app[APP_KEY]
    names = {c.component.service: c.component.name.in_(locale) for c in page.components}
    body = {
        "title": app.config.status.title.in_(locale),
        "lang": locale,
        "generated_at": page.generated_at.isoformat(),
        "status": {"state": page.overall.value, "text": tr(t(f"status.overall.{page.overall}"))},
        "components": [
            {
                "id": c.component.service,
                "name": c.component.name.in_(locale),
                "group": c.component.group.in_(locale) if c.component.group else None,
                "state": c.state.value,
                "history": [
                    {"date": bar.day.isoformat(), "state": bar.state.value} for bar in c.history
                ],
            }
            for c in page.components
        ],
        "incidents": [_incident_json(i, tr, names) for i in (*page.current, *page.past)],
        "maintenance": [
            {
                "title": m.title.in_(locale),
                "components": [s for s in m.services if s in names],
                "start": m.start.isoformat(),
                "end": m.end.isoformat(),
            }
            for m in page.maintenance
        ],
    }
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers={"Cache-Control": CACHE, "Vary": "Accept-Language"},
    )


def _incident_json(i: PublicIncident, tr: Translator, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": i.id,
        "title": tr(i.title()),
        "impact": i.state.value,
        "component": i.service,
        "component_name": names.get(i.service),
        "started_at": i.opened_at.isoformat(),
        "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
        "updates": [{"at": u.at.isoformat(), "text": u.text} for u in i.updates],
    }


# ---------------------------------------------------------------- Atom


async def _atom(request: web.Request) -> web.Response:
    page, tr, locale = await _page(request)
    if page is None:
        return _off(tr, as_json=True)
    app = request.app[APP_KEY]
    base = app.settings.public_url.rstrip("/")
    lang = "" if locale == "en" else f"?lang={locale}"
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": locale})
    _sub(feed, "id", f"{base}/status")
    _sub(feed, "title", app.config.status.title.in_(locale))
    incidents = (*page.current, *page.past)
    _sub(feed, "updated", _stamp(max((_last(i) for i in incidents), default=page.generated_at)))
    _link(feed, f"{base}/status{lang}", rel="alternate", type_="text/html")
    _link(feed, f"{base}/status/feed.atom{lang}", rel="self", type_="application/atom+xml")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _sub(author, "name", app.config.status.title.in_(locale))
    for i in incidents:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _sub(entry, "id", f"{base}/status#incident-{i.id}")
        _sub(entry, "title", tr(i.title()))
        _sub(entry, "published", _stamp(i.opened_at))
        _sub(entry, "updated", _stamp(_last(i)))
        _link(entry, f"{base}/status{lang}#incident-{i.id}", rel="alternate", type_="text/html")
        lines = [f"{tr.datetime(u.at)}: {u.text}" for u in reversed(i.updates)]
        if i.resolved_at is not None:
            lines.insert(0, f"{tr.datetime(i.resolved_at)}: {tr(t('status.feed_resolved'))}")
        lines.append(tr(t(f"status.state.{i.state}")))
        _sub(entry, "content", "\n".join(lines), type="text")
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return web.Response(
        text='<?xml version="1.0" encoding="utf-8"?>\n' + body,
        content_type="application/atom+xml",
        headers={"Cache-Control": CACHE},
    )


def _sub(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _link(parent: ET.Element, href: str, *, rel: str, type_: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"href": href, "rel": rel, "type": type_})


def _last(i: PublicIncident) -> datetime:
    resolved = [i.resolved_at] if i.resolved_at else []
    return max([i.opened_at, *(u.at for u in i.updates), *resolved])


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
