"""Pages acknowledged and not yet resolved: the timer that reminds whoever acknowledged.

A person's other reminders due within minutes (``REMIND_TOGETHER``) are said with it, in one
message: a storm's pages acknowledged one after another are one reminder, not one each.
"""

from __future__ import annotations

from datetime import timedelta

from commands.core.context import SystemContext
from commands.oncall import budget as page_budget
from commands.oncall.paging import save, team_of, to_view
from playbooks.incidents.machine import IncidentState
from playbooks.oncall import paging
from playbooks.oncall.paging import PageState, Result
from storage.models import PageRow, Timer
from storage.repositories import incidents as incident_repo
from storage.repositories import pages as repo
from storage.repositories import timers

RESOLVED = (IncidentState.RESOLVED.value, IncidentState.CLOSED.value)


def on_remind(ctx: SystemContext, timer: Timer) -> None:
    row = _still_reminding(ctx, timer)
    if row is None:
        return
    result = _remind(ctx, row, timer)
    result = page_budget.throttle(ctx, team_of(ctx, row.team), result)
    reminded = [(row, result)]
    if paging.reminder_said(result) and row.acked_by is not None:
        # Said now (not held by the page budget): whatever else is due soon goes with it.
        every = _every(timer)
        reminded += [(r, _remind(ctx, r, t)) for r, t in _due_soon(ctx, row.acked_by, every)]
    for each, its in reminded:
        save(ctx.session, each, its)
    ctx.effects += paging.remind_together([its for _, its in reminded], now=ctx.now)


def _still_reminding(ctx: SystemContext, timer: Timer) -> PageRow | None:
    """The timer's page, locked, if it is still acknowledged and its incident (if any) not
    resolved: else the reminders end with this timer."""
    # This timer's row is held already: read the incident without a lock (every other
    # path locks the incident before the timers), and lock only the page.
    row = repo.get(ctx.session, page_id=int(timer.payload["page_id"]), for_update=True)
    if row is None or row.state != PageState.ACKNOWLEDGED.value:
        return None
    if row.incident_id is not None:
        incident = incident_repo.get(ctx.session, incident_id=row.incident_id)
        if incident is not None and incident.state in RESOLVED:
            return None
    return row


def _remind(ctx: SystemContext, row: PageRow, timer: Timer) -> Result:
    return paging.remind(
        to_view(row),
        now=ctx.now,
        every=_every(timer),
        said=timer.payload.get("said"),
        due=timer.due_at,
    )


def _every(timer: Timer) -> timedelta:
    return timedelta(seconds=float(timer.payload["every"]))


def _due_soon(ctx: SystemContext, person: str, every: timedelta) -> list[tuple[PageRow, Timer]]:
    """``person``'s other reminders due soon (``paging.said_together_until``), their
    timers claimed (one another replica is firing is left to it), with their pages still
    reminding."""
    keys = [paging.remind_key(i) for i in repo.acknowledged_by(ctx.session, person=person)]
    until = paging.said_together_until(now=ctx.now, every=every)
    claimed = timers.claim_among(ctx.session, keys=keys, due_by=until, now=ctx.now)
    found = [(_still_reminding(ctx, timer), timer) for timer in claimed]
    return [(row, timer) for row, timer in found if row is not None and row.acked_by == person]


TIMER_HANDLERS = {paging.KIND_REMIND: on_remind}
