"""/page, /ack, /escalate, /pages; the escalation step timer; pages for incidents."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session

from commands import page_budget
from commands.context import CommandContext, SystemContext
from commands.grammar import Integer, Mention, SeverityLevel, Word, free_text
from commands.incident_rows import save as save_incident
from commands.incident_rows import to_view as incident_view
from commands.oncall import schedule_of, team_named
from commands.people import person_named
from commands.registry import Arg, CommandSpec, Flag, ParsedCommand
from playbooks import incidents as lifecycle
from playbooks import paging
from playbooks.business_time import WorkingHours
from playbooks.effects import Conversation
from playbooks.errors import InvalidTransition, NotFound, PermissionDenied
from playbooks.messages import Message, MessageField, raw, t, zoned
from playbooks.paging import Page, PageState, Policy, Resolver, Result, Step, Target
from playbooks.people import Role
from playbooks.teams import PageWhen, Team
from storage.models import IncidentRow, PageEvent, PageRow, Timer
from storage.repositories import incidents as incident_repo
from storage.repositories import pages as repo

MAX_TITLE = 200
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
    p = result.page
    row.state, row.position, row.paged = p.state.value, p.position, list(p.paged)
    row.acked_by, row.acked_at = p.acked_by, p.acked_at
    session.add(row)
    session.flush()
    assert row.id is not None
    for e in result.events:
        repo.add_event(
            session,
            PageEvent(
                page_id=row.id, at=e.at, kind=e.kind, person=e.person, text=e.text, late=e.late
            ),
        )


def _team(ctx: Context, name: str | None) -> Team | None:
    return ctx.teams.get(name) if name else None


def _channel(ctx: Context, team: Team | None) -> Conversation | None:
    if team is None or not team.channel:
        return None
    return Conversation.parse(team.channel, default_platform=_platform(ctx))


def _platform(ctx: Context) -> str:
    return ctx.conversation.platform if isinstance(ctx, CommandContext) else ctx.home_platform


def team_hours(ctx: Context, team: Team) -> WorkingHours:
    """severity.yaml's working hours, kept by the clock of the team's timezone."""
    return replace(ctx.incidents.policy.hours, tz=team.tz)


def ack_reminder(team: Team | None) -> timedelta | None:
    """How often whoever acknowledged is reminded until resolved (None: never)."""
    return team.ack_reminder if team is not None else paging.DEFAULT_ACK_REMINDER


def _working(ctx: Context, team: Team | None) -> bool:
    return team is None or team_hours(ctx, team).is_open(ctx.now)


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
) -> tuple[PageRow, Result]:
    """A new page, its first step run at once (the first notification commits with it)."""
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
    if team is not None and severity in team.defer_outside_hours and not _working(ctx, team):
        until = team_hours(ctx, team).next_opening(ctx.now)
        result = paging.defer(to_view(row), until=until, now=ctx.now)
    else:
        result = paging.run_steps(
            to_view(row),
            now=ctx.now,
            resolve=resolver(ctx, team),
            channel=_channel(ctx, team),
            working_hours=_working(ctx, team),
        )
        result = page_budget.throttle(ctx, team, result)
    save(ctx.session, row, result)
    ctx.effects += result.effects
    return row, result


def _incident_team(ctx: Context, incident: IncidentRow) -> Team | None:
    service = ctx.releases.services.get(incident.service or "")
    return ctx.teams.get(service.team) if service and service.team else None


def page_for_incident(ctx: Context, incident: IncidentRow) -> PageRow | None:
    """Page the service's team as its policy says for this severity (P0/P1 always, P2 in
    working hours, P3 never, by default). None when it pages nobody."""
    team = _incident_team(ctx, incident)
    if team is None:
        return None
    when = team.page_on.get(incident.severity, PageWhen.NEVER)
    if when is PageWhen.NEVER:
        return None
    if when is PageWhen.WORKING_HOURS and not _working(ctx, team):
        return None
    return _page_team(ctx, incident, team)


def page_if_none(ctx: Context, incident: IncidentRow) -> PageRow | None:
    """Page for the incident as its team's rule says, unless a page for it is under way
    already (a missed respond deadline, a raised severity, a reopening)."""
    if incident.id is None:
        return None
    live = (PageState.OPEN.value, PageState.ACKNOWLEDGED.value)
    if any(p.state in live for p in repo.for_incident(ctx.session, incident_id=incident.id)):
        return None
    return page_for_incident(ctx, incident)


def _page_team(ctx: Context, incident: IncidentRow, team: Team) -> PageRow:
    assert incident.id is not None
    row, _ = start(
        ctx,
        title=f"#{incident.id} {incident.title}",
        team=team,
        policy=team.policy,
        created_by=incident.opened_by,
        severity=incident.severity,
        incident_id=incident.id,
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
            team = _team(ctx, p.team)
            result = paging.acknowledge(
                p,
                actor=actor,
                now=ctx.now,
                channel=_channel(ctx, team),
                remind_after=ack_reminder(team),
            )
            save(ctx.session, row, result)
            ctx.effects += result.effects


def _load(ctx: Context, page_id: int) -> tuple[PageRow, Page]:
    """The page, locked in the one order: its incident, its timers, then the page."""
    peek = repo.get(ctx.session, page_id=page_id)
    if peek is not None and peek.incident_id is not None:
        incident_repo.get(ctx.session, incident_id=peek.incident_id, for_update=True)
    row = repo.get(ctx.session, page_id=page_id, for_update=True)
    if row is None:
        raise NotFound(t("page.unknown", id=page_id))
    return row, to_view(row)


# ---------------------------------------------------------------- commands


def page(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    title = free_text(
        cmd.args["text"],
        limit=MAX_TITLE,
        needed=t("page.text_needed"),
        usage=cmd.spec.usage(),
    )
    target: str = cmd.args["target"]
    severity: str | None = cmd.flags["sev"]
    team: Team | None = None
    if target.startswith("@") or target.startswith("<@"):
        person = person_named(ctx, Mention().parse(target, ctx))
        row, result = start(
            ctx,
            title=title,
            team=None,
            policy=paging.direct_policy(person.handle),
            created_by=ctx.actor.handle,
            severity=severity,
        )
        whom = f"@{person.handle}"
    else:
        team = team_named(ctx, target)
        row, result = start(
            ctx,
            title=title,
            team=team,
            policy=team.policy,
            created_by=ctx.actor.handle,
            severity=severity,
        )
        whom = team.name
    ctx.audit_detail = f"page {row.id} {whom}"
    deferred = next((e for e in result.events if e.kind == "deferred"), None)
    if deferred is not None and team is not None:
        until = zoned(datetime.fromisoformat(deferred.text), team.tz)
        return Message.of(
            t("page.deferred", id=row.id, target=whom, title=title, severity=severity, at=until)
        )
    held = [e.person for e in result.events if e.kind == "held"]
    notified = ", ".join(f"@{p}" for p in result.page.paged if p not in held) or "-"
    started = t("page.started", id=row.id, target=whom, title=title, notified=notified)
    if held:
        return Message.of(started, t("page.held", people=", ".join(f"@{p}" for p in held)))
    return Message.of(started)


def ack(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, p = _load(ctx, cmd.args["id"])
    if ctx.actor.handle not in p.paged and not ctx.actor.has_role(Role.RESPONDER):
        raise PermissionDenied(command="/ack", role=Role.RESPONDER.value)
    team = _team(ctx, p.team)
    result = paging.acknowledge(
        p,
        actor=ctx.actor.handle,
        now=ctx.now,
        channel=_channel(ctx, team),
        remind_after=ack_reminder(team),
    )
    if ctx.actor.handle not in p.paged and p.state is PageState.OPEN:
        result.events[0] = paging.Event(ctx.now, "ack", ctx.actor.handle, "not paged")
    save(ctx.session, row, result)
    ctx.effects += result.effects
    if p.state is PageState.OPEN and p.incident_id is not None:
        _ack_incident(ctx, p.incident_id)
    ctx.audit_detail = f"page {p.id}"
    assert result.reply is not None
    return result.reply


def _ack_incident(ctx: CommandContext, incident_id: int) -> None:
    """Answering the page answers the incident it is for."""
    row = incident_repo.get(ctx.session, incident_id=incident_id, for_update=True)
    if row is None or row.state != lifecycle.IncidentState.OPEN.value:
        return
    try:
        result = lifecycle.move(
            incident_view(row), lifecycle.Move.ACK, actor=ctx.actor.handle, now=ctx.now
        )
    except InvalidTransition:
        return
    save_incident(ctx.session, row, result)
    ctx.effects += result.effects


def escalate(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, p = _load(ctx, cmd.args["id"])
    team = _team(ctx, p.team)
    result = paging.escalate(
        p,
        actor=ctx.actor.handle,
        now=ctx.now,
        resolve=resolver(ctx, team),
        channel=_channel(ctx, team),
        working_hours=_working(ctx, team),
    )
    result = page_budget.throttle(ctx, team, result)
    save(ctx.session, row, result)
    ctx.effects += result.effects
    ctx.audit_detail = f"page {p.id}"
    assert result.reply is not None
    return result.reply


def timeline(ctx: CommandContext, page_id: int) -> Message:
    """One page's timeline: who was notified, skipped steps, acks, in the team's timezone."""
    row = repo.get(ctx.session, page_id=page_id)
    if row is None:
        raise NotFound(t("page.unknown", id=page_id))
    team = _team(ctx, row.team)
    tz = team.tz if team else ctx.tz
    state = t(f"page.state.{row.state}")
    blocks = [t("page.timeline_header", id=page_id, title=row.title, state=state)]
    for e in repo.events(ctx.session, page_id=page_id):
        line = t(f"page.event.{e.kind}", at=zoned(e.at, tz), person=e.person, text=e.text)
        blocks.append(t("page.event.late_line", line=line) if e.late else line)
    return Message(blocks=tuple(blocks))


def listing(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    if cmd.flags["id"] is not None:
        return timeline(ctx, cmd.flags["id"])
    rows = repo.search(ctx.session, open_only=bool(cmd.flags["open"]))
    if not rows:
        return Message.of(t("page.none"))
    fields = []
    for row in rows:
        p = to_view(row)
        who = f"@{p.acked_by}" if p.acked_by else ", ".join(f"@{h}" for h in p.paged) or "-"
        fields.append(
            MessageField(
                raw(f"#{p.id} {p.severity or ''}".strip()),
                t(
                    "page.list_line",
                    title=p.title,
                    team=p.team or "-",
                    state=t(f"page.state.{p.state}"),
                    who=who,
                    age=ctx.now - p.created_at,
                ),
            )
        )
    return Message(blocks=(t("page.list_header", count=len(rows)),), fields=tuple(fields))


# ---------------------------------------------------------------- the step timer


def on_step(ctx: SystemContext, timer: Timer) -> None:
    row = repo.get(ctx.session, page_id=int(timer.payload["page_id"]), for_update=True)
    if row is None:
        return
    p = to_view(row)
    team = _team(ctx, p.team)
    result = paging.run_steps(
        p,
        now=ctx.now,
        resolve=resolver(ctx, team),
        channel=_channel(ctx, team),
        late=ctx.late_by is not None,
        working_hours=_working(ctx, team),
    )
    result = page_budget.throttle(ctx, team, result)
    save(ctx.session, row, result)
    ctx.effects += result.effects


TIMER_HANDLERS = {paging.KIND_STEP: on_step}

_ID = Arg("id", Integer(metavar="ID"))

SPECS = (
    CommandSpec(
        family="page",
        verb=None,
        handler=page,
        summary="help.page.summary",
        args=(
            Arg("target", Word(metavar="TEAM|@PERSON")),
            Arg("text", Word(metavar="TEXT"), rest=True, required=False),
        ),
        flags=(Flag("sev", SeverityLevel()),),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    # Anyone paged may acknowledge; anyone else needs the responder role (checked inside).
    CommandSpec(
        family="ack",
        verb=None,
        handler=ack,
        summary="help.ack.summary",
        args=(_ID,),
        changes_state=True,
    ),
    CommandSpec(
        family="escalate",
        verb=None,
        handler=escalate,
        summary="help.escalate.summary",
        args=(_ID,),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    CommandSpec(
        family="pages",
        verb=None,
        handler=listing,
        summary="help.pages.summary",
        flags=(Flag("open"), Flag("id", Integer(metavar="ID"))),
    ),
)
