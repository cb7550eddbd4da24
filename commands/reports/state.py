"""What a report says about incidents, releases and on-call, read from the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from commands.core.context import SystemContext
from commands.incidents.rows import to_view as incident_view
from commands.oncall.rotations import schedule_of
from commands.releases.rows import to_view as release_view
from playbooks.oncall.rotations import LAYERS
from playbooks.oncall.teams import Team
from playbooks.releases.machine import ReleaseState
from playbooks.reports.report import OnCall, ReleaseEnding, ReportState
from storage.repositories import summaries as repo


def load(ctx: SystemContext, *, only: Sequence[str], start: datetime, end: datetime) -> ReportState:
    """Incidents and releases of the services in ``only`` (every one when empty), and
    who is on call for their teams now."""
    session = ctx.session
    return ReportState(
        incidents=[
            incident_view(row)
            for row in repo.incidents_touching(session, start=start, end=end, services=only)
        ],
        releases=[release_view(row) for row in repo.live_releases(session, services=only)],
        endings=[
            ReleaseEnding(
                service=row.service,
                version=row.version,
                state=ReleaseState(event.to_state),
                at=event.at,
                reason=event.reason,
            )
            for event, row in repo.release_endings(session, start=start, end=end, services=only)
        ],
        oncall=_oncall(ctx, _teams(ctx, only)),
        running_since=repo.first_record(session),
    )


def _teams(ctx: SystemContext, only: Sequence[str]) -> list[Team]:
    if not only:
        return [ctx.teams[name] for name in sorted(ctx.teams)]
    names = {s.team for name in only if (s := ctx.releases.services.get(name)) and s.team}
    return [ctx.teams[name] for name in sorted(names) if name in ctx.teams]


def _oncall(ctx: SystemContext, teams: Sequence[Team]) -> list[OnCall]:
    found: list[OnCall] = []
    for team in teams:
        schedule = schedule_of(ctx.session, team, now=ctx.now)
        for layer in LAYERS:
            if layer in team.rotations:
                person, _ = schedule.who(layer, ctx.now)
                found.append(OnCall(team.name, layer, person))
    return found
