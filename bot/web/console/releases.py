"""The console's release pages: ``/web/releases`` (live releases, then the past ones a
page at a time) and ``/web/releases/{id}`` (status, each guard's readings as a chart,
blockers, checklist, Go/No-Go, runbook), with promote, pause, resume, roll back, go and
tick as forms.

A form runs the chat command the person would have typed (``/release promote miniapp``)
through ``actions.run_command``: the same role checks, blockers and audit line. The
answer comes back after a redirect (303, so a reload does not send the form again) in a
short-lived cookie scoped to that release's page: the reply as catalog text, signed with
the session's form token, shown once in the viewer's language and cleared by the page
that shows it."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.hooks import APP_KEY
from bot.web.console import chart, forms
from bot.web.console.actions import run_command
from bot.web.console.numbers import row_id, whole_number
from bot.web.console.render import page
from bot.web.console.viewer import viewer_of
from commands.core.invocations import Outcome
from commands.releases import pages
from playbooks.messages import Message, Text, t

PER_PAGE = 20
# What a form may ask, as the verb of ``/release``; ``check`` takes an item number.
ACTIONS = ("go", "promote", "pause", "resume", "rollback", "check")
_MAX_REASON = 500
MAX_PAGE = 999_999
MAX_ITEM = 9999


def routes() -> list[web.RouteDef]:
    return [
        web.get("/web/releases", _list),
        web.get(r"/web/releases/{id:\d{1,12}}", _detail),
        web.post(r"/web/releases/{id:\d{1,12}}/{action:[a-z]{1,12}}", _act),
    ]


def topic(release_id: int) -> str:
    """The live-update topic a release's page listens to."""
    return f"release:{release_id}"


async def _list(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    number = _page_number(request.query.get("page", "1"))
    found = await app.db.run(
        pages.listing,
        app.runtime,
        now=app.clock.now(),
        offset=(number - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    last = max(1, -(-found.past_total // PER_PAGE))
    return page(
        request,
        "releases.html",
        title=_say(request)(t("web.releases.title")),
        say=_say(request),
        listing=found,
        now=app.clock.now(),
        page_number=min(number, last),
        last_page=last,
        topics=("releases",),
    )


def _page_number(given: str) -> int:
    """``?page=`` as a page number; anything else (a word, 0, a huge figure) is page 1."""
    return whole_number(given, maximum=MAX_PAGE) or 1


async def _detail(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    given = request.match_info["id"]
    release_id = row_id(given)
    say = _say(request)
    found = (
        None
        if release_id is None
        else await app.db.run(
            pages.detail, app.runtime, release_id, now=app.clock.now(), buckets=chart.PLOT_WIDTH
        )
    )
    if release_id is None or found is None:
        return page(
            request,
            "release_missing.html",
            title=say(t("web.releases.title")),
            status=404,
            sentence=say(t("web.releases.unknown", id=given)),
            topics=("releases",),
        )
    return page(
        request,
        "release.html",
        title=f"{found.release.service} {found.release.version}",
        say=say,
        r=found.release,
        d=found,
        charts=_charts(request, found),
        soak=_soak(found),
        actions=_actions(found),
        topics=("releases", topic(release_id)),
    )


def _say(request: web.Request) -> Any:
    """``say(text)``: catalog text in the viewer's language and timezone."""
    viewer = viewer_of(request)
    return request.app[APP_KEY].translator(viewer.locale, viewer.tz)


def _soak(d: pages.Detail) -> dict[str, Any] | None:
    """When the stage's soak ends, for ``<time data-countdown>``; None when none runs."""
    r = d.release
    left = r.soak_left(d.end)
    if not r.active or left is None or r.stage_started_at is None:
        return None
    return {"left": left, "ends": (d.end + left).isoformat()}


def _charts(request: web.Request, d: pages.Detail) -> list[tuple[str, Markup]]:
    """Each guard's chart with its caption (the guard and its bad side)."""
    say = _say(request)
    drawn = []
    for number, series in enumerate(d.series, start=1):
        guard = series.guard
        latest = series.buckets[-1].high if series.buckets else None
        words = chart.Words(
            title=say(t("web.releases.chart_title", guard=guard.name, threshold=guard.threshold)),
            summary=say(
                t(
                    "web.releases.chart_summary",
                    guard=guard.name,
                    threshold=guard.threshold,
                    count=len(series.buckets),
                    latest=guard.show(latest),
                    marks=len(d.marks),
                )
                if series.buckets
                else t("web.releases.chart_empty", guard=guard.name, threshold=guard.threshold)
            ),
            limit=say(t("web.releases.limit")),
            when=say.datetime,
        )
        drawn.append(
            (
                words.title,
                chart.guard_chart(
                    guard,
                    series.buckets,
                    start=d.start,
                    end=d.end,
                    marks=d.marks,
                    words=words,
                    chart_id=f"guard-{number}",
                ),
            )
        )
    return drawn


def _actions(d: pages.Detail) -> list[dict[str, Any]]:
    """The release's buttons as ``/release status`` offers them, as this page's forms:
    only for the service's open release, since the command names the service."""
    if not d.live:
        return []
    found = []
    for button in d.status.buttons:
        words = button.command.split()
        verb = words[1] if len(words) > 1 and words[0] == "/release" else ""
        if verb in ACTIONS and verb != "check":
            found.append({"verb": verb, "label": button.label, "style": button.style.value})
    return found


async def _act(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    given = request.match_info["id"]
    release_id = row_id(given)
    action = request.match_info["action"]
    form = await request.post()  # its token was checked by the sign-in middleware
    if action not in ACTIONS:
        raise web.HTTPNotFound(text=_say(request)(t("web.releases.no_such_action")))
    found = (
        None if release_id is None else await app.db.run(pages.release_of, app.engine, release_id)
    )
    if release_id is None or found is None:
        raise web.HTTPNotFound(text=_say(request)(t("web.releases.unknown", id=given)))
    service, live = found
    if not live:
        reply = Message.of(t("web.releases.not_live", id=release_id))
        return forms.back_with(request, _path(release_id), status="refused", reply=reply)
    command = _command(action, service, form)
    if isinstance(command, Text):
        return forms.back_with(
            request, _path(release_id), status="usage", reply=Message.of(command)
        )
    outcome = await run_command(request, command)
    return forms.back_with(request, _path(release_id), status=outcome.status, reply=_reply(outcome))


def _command(action: str, service: str, form: Any) -> str | Text:
    """The command the form stands for, or the sentence saying what is missing from it."""
    if action == "check":
        item = form.get("item", "")
        number = whole_number(item, maximum=MAX_ITEM) if isinstance(item, str) else None
        if number is None:
            return t("web.releases.item_needed")
        return f"/release check {service} {number}"
    if action == "rollback":
        given = form.get("reason", "")
        reason = " ".join(given.split())[:_MAX_REASON] if isinstance(given, str) else ""
        return (
            f"/release rollback {service} --reason {_quoted(reason)}"
            if reason
            else (t("web.releases.reason_needed"))
        )
    return f"/release {action} {service}"


def _quoted(words: str) -> str:
    """``words`` as one quoted argument, in a quote pair it does not contain."""
    for opening, closing in (('"', '"'), ("'", "'"), ("「", "」")):
        if opening not in words and closing not in words:
            return f"{opening}{words}{closing}"
    return '"' + words.replace('"', "'") + '"'


def _reply(outcome: Outcome) -> Message:
    return outcome.reply or Message.of(t("web.releases.done"))


def _path(release_id: int) -> str:
    return f"/web/releases/{release_id}"
