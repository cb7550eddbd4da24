"""``GET /oncall/TEAM.ics?token=…``: a team's coming shifts as a calendar to subscribe to.

Each team's feed has its own token, read from the environment variable its
``ical_token_env`` names; the feed is closed until both are set."""

from __future__ import annotations

import os
from datetime import timedelta

from aiohttp import web

from bot.hooks import APP_KEY, json_error
from bot.http_input import request_locale, same_secret
from bot.ical import CalendarEvent, calendar
from commands.oncall.rotations import coming_shifts
from playbooks.messages import t

AHEAD = timedelta(weeks=8)
BEHIND = timedelta(days=7)  # the shift just ended stays visible for a week
LOOKBACK = timedelta(days=35)  # where shifts are counted from, so their starts stay put


def routes() -> list[web.RouteDef]:
    return [web.get(r"/oncall/{team:[A-Za-z0-9][A-Za-z0-9._-]{0,99}}.ics", _feed)]


async def _feed(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    name = request.match_info["team"].lower()
    team = app.config.teams.get(name)
    if team is None:
        return json_error(request, 404, t("ical.unknown_team", team=name))
    expected = os.environ.get(team.ical_token_env or "", "") if team.ical_token_env else ""
    if not expected:
        setting = team.ical_token_env or "ical_token_env"
        return json_error(request, 503, t("ical.closed", team=name, setting=setting))
    given = request.query.get("token", "")
    if not same_secret(given, expected):
        return json_error(request, 401, t("ical.bad_token", team=name))
    now = app.clock.now()
    # The shifts come from the database: read on a database thread.
    shifts = await app.db.run(
        coming_shifts, app.engine, team, now=now, since=now - LOOKBACK, until=now + AHEAD
    )
    tr = app.translator(request_locale(request, app.settings.locale))
    events = []
    for layer, layer_shifts in shifts.items():
        for shift in layer_shifts:
            if shift.person is None or shift.end <= now - BEHIND:
                continue
            layer_name = tr(t(f"oncall.layer.{layer}"))
            summary = tr(t("ical.summary", team=team.name, layer=layer_name, person=shift.person))
            if shift.change is not None:
                summary += tr(t("ical.changed", kind=t(f"oncall.kind.{shift.change.kind}")))
            events.append(
                CalendarEvent(
                    uid=f"{team.name}-{layer}-{shift.start:%Y%m%dT%H%M%SZ}-{shift.person}@shipwatch",
                    start=shift.start,
                    end=shift.end,
                    summary=summary,
                    description=tr(t("ical.description", team=team.name, layer=layer_name)),
                )
            )
    events.sort(key=lambda e: (e.start, e.uid))
    body = calendar(tr(t("ical.name", team=team.name)), events, now=now)
    return web.Response(
        body=body.encode("utf-8"),
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'inline; filename="{team.name}.ics"',
            "Cache-Control": "no-store",
        },
    )
