"""``/web/reports``: the morning health posts, daily and weekly reports as they were
posted, newest first, a page at a time (``?kind=`` for one kind); ``/web/reports/ID``: one
report as it was sent, in the viewer's language, with its chart.

Anyone may read them, as anyone may ask for one in chat (``/summary now``)."""

from __future__ import annotations

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console.numbers import row_id, whole_number
from bot.web.console.render import page
from bot.web.console.viewer import viewer_of
from commands.reports.archive import past_report, past_reports
from playbooks.messages import t
from playbooks.reports.schedule import ReportKind

TOPICS = ("reports",)  # storage.changes: a report kept as it was posted
KINDS = tuple(k.value for k in ReportKind)
MAX_PAGE = 100_000


def routes() -> list[web.RouteDef]:
    return [
        web.get("/web/reports", _list),
        web.get(r"/web/reports/{id:\d{1,12}}", _one),
    ]


def _number(value: str) -> int:
    """A page number as given; anything else is the first page."""
    return whole_number(value, maximum=MAX_PAGE) or 1


async def _list(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    app = request.app[APP_KEY]
    wanted = request.query.get("kind", "")
    kind = ReportKind(wanted) if wanted in KINDS else None
    number = _number(request.query.get("page", "1"))
    found = await app.db.run(past_reports, app.engine, page=number, kind=kind)
    tr = app.translator(viewer.locale, viewer.tz)
    return page(
        request,
        "reports.html",
        title=tr(t("web.reports.title")),
        found=found,
        kind=kind.value if kind else "",
        kinds=KINDS,
        topics=TOPICS,
    )


async def _one(request: web.Request) -> web.Response:
    viewer = viewer_of(request)
    app = request.app[APP_KEY]
    given = request.match_info["id"]
    report_id = row_id(given)
    found = None if report_id is None else await app.db.run(past_report, app.engine, report_id)
    tr = app.translator(viewer.locale, viewer.tz)
    if found is None:
        return page(
            request,
            "missing.html",
            title=tr(t("web.reports.title")),
            status=404,
            sentence=tr(t("web.reports.unknown", id=given)),
            back="/web/reports",
            back_label=tr(t("web.reports.all")),
        )
    return page(
        request,
        "report.html",
        title=tr(t("web.reports.one_title", id=report_id, kind=t(f"summary.kind.{found.kind}"))),
        report=found,
        topics=TOPICS,
    )
