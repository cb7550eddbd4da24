"""The console's incident pages: ``GET /web/incidents`` (the list, filtered and paged by
the database, PER_PAGE to a page, no total counted) and ``GET /web/incidents/{id}`` (the card of
``/incident show`` with its SLA clocks counting down, the open pages, the follow-up
actions, the timeline and the postmortem draft). The forms there (acknowledge, update,
severity, resolve, acknowledge a page) run the chat's own commands as the viewer through
``run_command``, then send the browser back to the page with the reply shown once.

Who may see what follows the chat: ``/incident list`` and ``show`` ask no role, so every
signed-in person sees every incident; the forms' commands are checked as in chat."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.hooks import APP_KEY
from bot.i18n import Translator
from bot.web.console import forms
from bot.web.console.incident_filters import RANGES, read_filters
from bot.web.console.numbers import row_id
from bot.web.console.render import page
from bot.web.console.viewer import viewer_of
from commands.core.grammar import SEVERITIES
from commands.incidents.console import (
    STATES,
    IncidentDetail,
    incident_detail,
    incident_list,
    running_clocks,
)
from playbooks.incidents.machine import IncidentState
from playbooks.messages import t

PER_PAGE = 50
LIST_TOPIC = "incidents"


def routes() -> list[web.RouteDef]:
    return [
        web.get("/web/incidents", list_page),
        web.get("/web/incidents/{id}", detail_page),
        web.post("/web/incidents/{id}/ack", _form("ack")),
        web.post("/web/incidents/{id}/update", _form("update")),
        web.post("/web/incidents/{id}/severity", _form("severity")),
        web.post("/web/incidents/{id}/resolve", _form("resolve")),
        web.post("/web/incidents/{id}/pages/{page}/ack", _form("page_ack")),
    ]


def topic_of(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _translator(request: web.Request) -> Translator:
    viewer = viewer_of(request)
    return request.app[APP_KEY].translator(viewer.locale, viewer.tz)


# ---------------------------------------------------------------- the list


async def list_page(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    viewer = viewer_of(request)
    tr = _translator(request)
    services = sorted(app.config.releases.catalog.services)
    now = app.clock.now()
    filters = read_filters(request.query, services=services, now=now, tz=viewer.tz)
    found = await app.db.run(
        incident_list,
        app.engine,
        filters.wanted,
        limit=PER_PAGE,
        offset=(filters.page - 1) * PER_PAGE,
    )
    chosen = {k: v for k, v in filters.values.items() if v}

    def link(number: int) -> str:
        return "/web/incidents?" + urlencode({**chosen, "page": number})

    rows = [
        {
            "id": i.id,
            "href": f"/web/incidents/{i.id}",
            "title": i.title,
            "severity": i.severity,
            "state": tr(t(f"incident.state.{i.state}")),
            "service": i.service or "-",
            "opened": tr.datetime(i.opened_at),
            "opened_iso": i.opened_at.isoformat(),
            "commander": i.commander,
        }
        for i in found.incidents
    ]
    return page(
        request,
        "incidents.html",
        title=tr(t("web.incidents.title")),
        status=400 if filters.problems else 200,
        topics=(LIST_TOPIC,),
        problems=[tr(p) for p in filters.problems],
        values=filters.values,
        states=STATES,
        severities=SEVERITIES,
        services=services,
        ranges=list(RANGES),
        rows=rows,
        summary=tr(t("web.incidents.page_of", page=filters.page, per_page=PER_PAGE)),
        previous=link(filters.page - 1) if filters.page > 1 else None,
        next=link(filters.page + 1) if found.more else None,
    )


# ---------------------------------------------------------------- one incident


def _incident_id(request: web.Request) -> int | None:
    return row_id(request.match_info["id"])


def _not_found(request: web.Request, value: str) -> web.Response:
    tr = _translator(request)
    return page(
        request,
        "not_found.html",
        title=tr(t("web.incidents.not_found_title")),
        status=404,
        message=tr(t("web.incidents.not_found", value=value)),
    )


async def detail_page(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    incident_id = _incident_id(request)
    if incident_id is None:
        return _not_found(request, request.match_info["id"][:40])
    detail = await app.db.run(incident_detail, app.engine, incident_id, now=app.clock.now())
    if detail is None:
        return _not_found(request, str(incident_id))
    tr = _translator(request)
    return page(
        request,
        "incident.html",
        title=tr(t("web.incidents.detail_title", id=incident_id, title=detail.incident.title)),
        topics=(topic_of(incident_id),),
        **_detail_values(detail, tr),
    )


def _detail_values(detail: IncidentDetail, tr: Translator) -> dict[str, Any]:
    i = detail.incident
    running = running_clocks(detail)
    card = [
        {
            "label": tr(f.label),
            "value": tr(f.value),
            "countdown": running[f.label.key].isoformat() if f.label.key in running else None,
        }
        for f in detail.card.fields
    ]
    timeline = [
        {"at": tr.datetime(e.at), "iso": e.at.isoformat(), "actor": e.actor, "text": tr(f.value)}
        for e, f in zip(detail.entries, detail.timeline.fields, strict=True)
    ]
    pages = [
        {
            "id": p.id,
            "title": p.title,
            "state": tr(t(f"page.state.{p.state}")),
            "open": p.state.value == "open",
            "reached": ", ".join(f"@{who}" for who in p.paged) or "-",
            "acked": (
                tr(t("web.incidents.page_acked", person=p.acked_by, at=p.acked_at))
                if p.acked_by
                else "-"
            ),
        }
        for p in detail.pages
    ]
    actions = [
        {
            "id": a.id,
            "text": a.text,
            "owner": a.owner,
            "priority": a.priority,
            "due": a.due.isoformat() if a.due else "-",
            "state": tr(t(f"action.state.{a.state}")),
        }
        for a in detail.actions
    ]
    return {
        "incident": {
            "id": i.id,
            "title": i.title,
            "severity": i.severity,
            "state": i.state.value,
            "heading": tr(detail.card.blocks[0]),
            "open": i.state is IncidentState.OPEN,
            "unresolved": i.unresolved,
        },
        "card": card,
        "timeline": timeline,
        "pages": pages,
        "actions": actions,
        "postmortem": tr(detail.postmortem),
        "severities": SEVERITIES,
    }


# ---------------------------------------------------------------- the forms


def _quoted(text: str) -> str:
    """``text`` as one word of a command line, whatever quotes it holds."""
    for opening, closing in (('"', '"'), ("'", "'"), ("「", "」"), ("“", "”")):
        if closing not in text:
            return f"{opening}{text}{closing}"
    return '"' + text.replace('"', "”") + '"'


def _command(kind: str, incident_id: int, form: Any, request: web.Request) -> str:
    text = forms.field(form, "text")
    if kind == "ack":
        return f"/incident ack {incident_id}"
    if kind == "update":
        public = " --public" if form.get("public") else ""
        return f"/incident update {incident_id}{public} {_quoted(text)}"
    if kind == "severity":
        severity = _quoted(forms.field(form, "severity"))
        return f"/incident sev {incident_id} {severity} --reason {_quoted(text)}"
    if kind == "resolve":
        return f"/incident resolve {incident_id}" + (f" --note {_quoted(text)}" if text else "")
    page_id = request.match_info["page"]
    return f"/ack {_quoted(page_id)}"


def _form(kind: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        form = await request.post()  # its token checked already (sessions.middleware)
        incident_id = _incident_id(request)
        if incident_id is None:
            return _not_found(request, request.match_info["id"][:40])
        command = _command(kind, incident_id, form, request)
        return await forms.run_and_return(request, command, back=f"/web/incidents/{incident_id}")

    return handler
