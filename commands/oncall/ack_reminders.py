"""Pages acknowledged and not yet resolved: the timer that reminds whoever acknowledged."""

from __future__ import annotations

from datetime import timedelta

from commands.core.context import SystemContext
from commands.oncall import budget as page_budget
from commands.oncall.paging import save, team_of, to_view
from playbooks.incidents.machine import IncidentState
from playbooks.oncall import paging
from playbooks.oncall.paging import PageState
from storage.models import Timer
from storage.repositories import incidents as incident_repo
from storage.repositories import pages as repo

RESOLVED = (IncidentState.RESOLVED.value, IncidentState.CLOSED.value)


def on_remind(ctx: SystemContext, timer: Timer) -> None:
    page_id = int(timer.payload["page_id"])
    every = timedelta(seconds=float(timer.payload["every"]))
    # This timer's row is held already: read the incident without a lock (every other
    # path locks the incident before the timers), and lock only the page.
    row = repo.get(ctx.session, page_id=page_id, for_update=True)
    if row is None or row.state != PageState.ACKNOWLEDGED.value:
        return
    if row.incident_id is not None:
        incident = incident_repo.get(ctx.session, incident_id=row.incident_id)
        if incident is not None and incident.state in RESOLVED:
            return
    result = paging.remind(to_view(row), now=ctx.now, every=every, said=timer.payload.get("said"))
    result = page_budget.throttle(ctx, team_of(ctx, row.team), result)
    save(ctx.session, row, result)
    ctx.effects += result.effects


TIMER_HANDLERS = {paging.KIND_REMIND: on_remind}
