"""Pages: starting one (now, or held for working hours as ``paging.held_until`` decides),
the escalation when its step is due, pages for incidents, locking in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from commands.core.observations import Reads, observing
from commands.oncall import budget as page_budget
from commands.oncall.rotations import schedule_of
from playbooks.business_time import WorkingHours
from playbooks.effects import Conversation, DirectMessage, Effect, Priority
from playbooks.errors import NotFound
from playbooks.incidents import rooms as incident_rooms
from playbooks.incidents.policy import SeverityPolicy
from playbooks.messages import message_from_json, t
from playbooks.oncall import paging
from playbooks.oncall.paging import Page, PageState, Policy, Resolver, Result, Step, Target
from playbooks.oncall.teams import PageWhen, Team, page_when
from storage.models import IncidentRow, PageEvent, PageRow, Timer
from storage.repositories import incidents as incident_repo
from storage.repositories import pages as repo
from storage.repositories import rooms as room_rows

Context = CommandContext | SystemContext


def to_view(row: PageRow) -> Page:
    assert row.id is not None
    return Page(
        id=row.id,
        title=row.title,
        state=PageState(row.state),
        policy=Policy.from_json(row.policy),
        created_at=row.created_at,
        created_by=row.created_by,
        team=row.team,
        severity=row.severity,
        incident_id=row.incident_id,
        position=row.position,
        paged=tuple(row.paged),
        acked_by=row.acked_by,
        acked_at=row.acked_at,
    )


def save(session: Session, row: PageRow, result: Result) -> None:
    """Write the page as ``result`` leaves it; the people it reached since, and whoever
    acknowledged it, are brought into its incident's room (``result.effects``)."""
    p = result.page
    reached = [person for person in p.paged if person not in row.paged]
    if p.acked_by and p.acked_by != row.acked_by:
        reached.append(p.acked_by)
    if reached and row.incident_id is not None:
        result.effects += _into_room(session, row.incident_id, reached)
    row.state, row.position, row.paged = p.state.value, p.position, list(p.paged)
    row.acked_by, row.acked_at = p.acked_by, p.acked_at
    session.add(row)
    if row.id is None:
        session.flush()  # its events need its id; the rest is written at commit
    assert row.id is not None
    for e in result.events:
        repo.add_event(
            session,
            PageEvent(
                page_id=row.id, at=e.at, kind=e.kind, person=e.person, text=e.text, late=e.late
            ),
        )


def _into_room(session: Session, incident_id: int, people: list[str]) -> list[Effect]:
    """Invitations to the incident's room, once it is asked for; at the incident's opening
    it is not yet, and the opening brings in those its page reached."""
    room = room_rows.of_incident(session, incident_id=incident_id)
    if room is None or room.state not in (room_rows.PENDING, room_rows.OPEN):
        return []
    return incident_rooms.invitations(Conversation(room.platform, room.address), people)


def team_of(ctx: Context, name: str | None) -> Team | None:
    return ctx.teams.get(name) if name else None


def channel_of(ctx: Context, team: Team | None) -> Conversation | None:
    if team is None or not team.channel:
        return None
    return Conversation.parse(team.channel, default_platform=_platform(ctx))


def _platform(ctx: Context) -> str:
    return ctx.channels_platform if isinstance(ctx, CommandContext) else ctx.home_platform


def team_hours(ctx: Context, team: Team) -> WorkingHours:
    """severity.yaml's working hours, kept by the clock of the team's timezone and on the
    working days of the team's calendar."""
    return replace(ctx.incidents.policy.hours, tz=team.tz, calendar=team.calendar)


def ack_reminder(team: Team | None) -> timedelta | None:
    """How often whoever acknowledged is reminded until resolved (None: never)."""
    return team.ack_reminder if team is not None else paging.DEFAULT_ACK_REMINDER


def in_working_hours(ctx: Context, team: Team | None) -> bool:
    return team is None or team_hours(ctx, team).is_open(ctx.now)


def opens_at(ctx: Context, team: Team | None) -> datetime | None:
    """The team's next working opening when it is outside working hours now."""
    if team is None or in_working_hours(ctx, team):
        return None
    return team_hours(ctx, team).next_opening(ctx.now)


def resolver(ctx: Context, team: Team | None) -> Resolver:
    """Who a step reaches at ``ctx.now``: the layer's holder, the manager, the person."""
    schedule = schedule_of(ctx.session, team, now=ctx.now) if team else None

    def resolve(step: Step) -> str | None:
        if step.target is Target.PERSON:
            return step.value
        if step.target is Target.MANAGER:
            return team.manager if team else None
        return schedule.who(step.value, ctx.now)[0] if schedule else None

    return resolve


def start(
    ctx: Context,
    *,
    title: str,
    team: Team | None,
    policy: Policy,
    created_by: str,
    severity: str | None = None,
    incident_id: int | None = None,
    hold: bool = False,
    defer_by_severity: bool = True,
) -> tuple[PageRow, Result]:
    """A new page, its first step run at once (the first notification commits with it);
    outside working hours, held until they open for ``hold`` or, unless an incident's
    policy decided already, a severity the team defers."""
    row = repo.add(
        ctx.session,
        PageRow(
            title=title,
            state=PageState.OPEN.value,
            team=team.name if team else None,
            severity=severity,
            incident_id=incident_id,
            policy=policy.to_json(),
            created_at=ctx.now,
            created_by=created_by,
        ),
    )
    until = paging.held_until(
        now=ctx.now,
        hours=team_hours(ctx, team) if team is not None else None,
        severity=severity,
        defer_outside_hours=team.defer_outside_hours if team and defer_by_severity else (),
        hold=hold,
    )
    if until is not None:
        result = paging.defer(to_view(row), until=until, now=ctx.now)
    else:
        result = paging.escalate_due(
            to_view(row),
            now=ctx.now,
            resolve=resolver(ctx, team),
            channel=channel_of(ctx, team),
            working_hours=in_working_hours(ctx, team),
            opens_at=opens_at(ctx, team),
        )
        result = page_budget.throttle(ctx, team, result)
    save(ctx.session, row, result)
    ctx.effects += result.effects
    return row, result


def _incident_team(ctx: Context, incident: IncidentRow) -> Team | None:
    service = ctx.releases.services.get(incident.service or "")
    return ctx.teams.get(service.team) if service and service.team else None


def page_for_incident(ctx: Context, incident: IncidentRow) -> PageRow | None:
    """Page the service's team when the incident's severity policy promises a response:
    around the clock for one in minutes or hours, in working hours for one in working
    days (a team's ``page_incidents`` may say otherwise). None when it pages nobody. One
    for working hours raised outside them is held until they open."""
    team = _incident_team(ctx, incident)
    if team is None:
        return None
    rule = SeverityPolicy.from_json(incident.policy).rule(incident.severity)
    when = page_when(team, incident.severity, rule)
    if when is PageWhen.NEVER:
        return None
    return _page_team(ctx, incident, team, hold=when is PageWhen.WORKING_HOURS)


def page_if_none(
    ctx: Context, incident: IncidentRow, *, pages: Sequence[PageRow] | None = None
) -> PageRow | None:
    """Page for the incident as its team's rule says, unless a page for it is under way
    already (a missed respond deadline, a raised severity, a reopening); ``pages`` are its
    pages where the caller has them locked already."""
    if incident.id is None:
        return None
    live = (PageState.OPEN.value, PageState.ACKNOWLEDGED.value)
    if pages is None:
        pages = repo.for_incident(ctx.session, incident_id=incident.id)
    if any(p.state in live for p in pages):
        return None
    return page_for_incident(ctx, incident)


def respond_missed(ctx: Context, incident: IncidentRow) -> None:
    """The respond deadline passed unanswered: page if nothing is under way; a page still
    held for working hours says in the team channel that it waits, and how to page now."""
    assert incident.id is not None
    pages = repo.for_incident(ctx.session, incident_id=incident.id)
    held = [row for row in pages if row.state == PageState.OPEN.value and not row.paged]
    if not held:
        page_if_none(ctx, incident, pages=pages)
        return
    team = _incident_team(ctx, incident)
    channel = channel_of(ctx, team)
    for row in held:
        result = paging.respond_missed(
            to_view(row), now=ctx.now, until=opens_at(ctx, team), channel=channel
        )
        save(ctx.session, row, result)
        ctx.effects += result.effects


def _page_team(ctx: Context, incident: IncidentRow, team: Team, *, hold: bool = False) -> PageRow:
    assert incident.id is not None
    row, _ = start(
        ctx,
        title=f"#{incident.id} {incident.title}",
        team=team,
        policy=team.policy,
        created_by=incident.opened_by,
        severity=incident.severity,
        incident_id=incident.id,
        hold=hold,
        defer_by_severity=False,
    )
    return row


def stop_for_incident(ctx: Context, incident_id: int, *, actor: str) -> None:
    """The incident is resolved: its pages stop escalating."""
    for row in repo.for_incident(ctx.session, incident_id=incident_id):
        result = paging.resolve_page(to_view(row), actor=actor, now=ctx.now)
        save(ctx.session, row, result)
        ctx.effects += result.effects


def ack_for_incident(ctx: Context, incident_id: int, *, actor: str) -> None:
    """The incident was acknowledged: its open pages are answered too."""
    for row in repo.for_incident(ctx.session, incident_id=incident_id):
        p = to_view(row)
        if p.state is PageState.OPEN:
            team = team_of(ctx, p.team)
            result = paging.acknowledge(
                p,
                actor=actor,
                now=ctx.now,
                channel=channel_of(ctx, team),
                remind_after=ack_reminder(team),
            )
            save(ctx.session, row, result)
            ctx.effects += result.effects


def load_locked(ctx: Context, page_id: int) -> tuple[PageRow, Page, IncidentRow | None]:
    """The page, locked in the one order: its incident, its timers, then the page; with
    its incident's row (locked too), if it is for one."""
    peek = repo.get(ctx.session, page_id=page_id)
    incident = None
    if peek is not None and peek.incident_id is not None:
        incident = incident_repo.get(ctx.session, incident_id=peek.incident_id, for_update=True)
    row = repo.get(ctx.session, page_id=page_id, for_update=True)
    if row is None:
        raise NotFound(t("page.unknown", id=page_id))
    return row, to_view(row), incident


# ---------------------------------------------------------------- the step timer


def on_escalation_due(ctx: SystemContext, timer: Timer) -> None:
    """A step's wait is up: the page escalates to its next step."""
    row = repo.get(ctx.session, page_id=int(timer.payload["page_id"]), for_update=True)
    if row is None:
        return
    p = to_view(row)
    team = team_of(ctx, p.team)
    result = paging.escalate_due(
        p,
        now=ctx.now,
        resolve=resolver(ctx, team),
        channel=channel_of(ctx, team),
        late=ctx.late_by is not None,
        working_hours=in_working_hours(ctx, team),
        opens_at=opens_at(ctx, team),
    )
    result = page_budget.throttle(ctx, team, result)
    save(ctx.session, row, result)
    ctx.effects += result.effects


TIMER_HANDLERS = {paging.KIND_STEP: on_escalation_due}


# ---------------------------------------------------------------- a way that failed


@dataclass(frozen=True, slots=True)
class WayFailed:
    """The outbox gave up on a page's notification by one way (an email server that
    refused it, an SMS gateway that is down): said on the page's timeline, and while the
    page is open the next of the ``ways`` left is tried at once."""

    kind: ClassVar[str] = "page.way_failed"
    page_id: int
    person: str
    way: str
    reason: str
    ways_left: tuple[str, ...]
    message: dict[str, Any]


def way_failed(ctx: SystemContext, failed: WayFailed) -> None:
    row = repo.get(ctx.session, page_id=failed.page_id, for_update=True)
    if row is None:
        return
    at = f"{failed.way}: {failed.reason}"
    repo.add_event(
        ctx.session,
        PageEvent(
            page_id=failed.page_id, at=ctx.now, kind="way_failed", person=failed.person, text=at
        ),
    )
    if row.state != PageState.OPEN.value or not failed.ways_left:
        return  # answered already, or no other way to try
    ctx.effects.append(
        DirectMessage(
            failed.person,
            message_from_json(failed.message),  # its buttons get tokens for the next way
            priority=Priority.PAGE,
            ways=failed.ways_left,
            page_id=failed.page_id,
        )
    )


OBSERVATION_HANDLERS = observing(Reads(WayFailed, way_failed))
