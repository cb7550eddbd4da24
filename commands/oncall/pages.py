"""/page, /ack, /escalate, /resolve and /pages: paging from chat. Starting, loading and
saving pages is ``commands.oncall.paging``; what each move does, ``playbooks.oncall.paging``
(here ``rules``)."""

from __future__ import annotations

from datetime import datetime

from commands.core.context import CommandContext
from commands.core.grammar import Integer, Mention, SeverityLevel, Word, free_text
from commands.core.named import person_named
from commands.core.registry import Arg, CommandSpec, Flag, ParsedCommand
from commands.incidents.rows import save as save_incident
from commands.incidents.rows import to_view as incident_view
from commands.oncall import budget as page_budget
from commands.oncall import paging
from commands.oncall.rotations import team_named
from playbooks.effects import DirectMessage, Post
from playbooks.errors import InvalidTransition, NotFound, PermissionDenied
from playbooks.incidents import machine as lifecycle
from playbooks.lists import mentioned
from playbooks.messages import Message, MessageField, Severity, raw, t, zoned
from playbooks.oncall import paging as rules
from playbooks.oncall.paging import PageState
from playbooks.oncall.teams import Team
from playbooks.people import Role
from storage.models import IncidentRow
from storage.repositories import pages as repo

MAX_TITLE = 200


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
        row, result = paging.start(
            ctx,
            title=title,
            team=None,
            policy=rules.direct_policy(person.handle),
            created_by=ctx.actor.handle,
            severity=severity,
        )
        whom = f"@{person.handle}"
    else:
        team = team_named(ctx, target)
        row, result = paging.start(
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
    notified = mentioned(p for p in result.page.paged if p not in held)
    started = t("page.started", id=row.id, target=whom, title=title, notified=notified)
    if held:
        return Message.of(started, t("page.held", people=mentioned(held)))
    return Message.of(started)


def ack(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, p, incident = paging.load_locked(ctx, cmd.args["id"])
    if ctx.actor.handle not in p.paged and not ctx.actor.has_role(Role.RESPONDER):
        raise PermissionDenied(command="/ack", role=Role.RESPONDER.value)
    team = paging.team_of(ctx, p.team)
    result = rules.acknowledge(
        p,
        actor=ctx.actor.handle,
        now=ctx.now,
        channel=paging.channel_of(ctx, team),
        remind_after=paging.ack_reminder(team),
    )
    if ctx.actor.handle not in p.paged and p.state is PageState.OPEN:
        result.events[0] = rules.Event(ctx.now, "ack", ctx.actor.handle, "not paged")
    paging.save(ctx.session, row, result)
    assert result.reply is not None
    # Acknowledged in the team channel itself: the channel's news is the answer, said once.
    here = next(
        (e for e in result.effects if isinstance(e, Post) and e.conversation == ctx.conversation),
        None,
    )
    if here is not None:
        result.reply = here.message
    ctx.effects += [e for e in result.effects if e is not here]
    if p.state is PageState.OPEN and incident is not None:
        _ack_incident(ctx, incident)
    ctx.audit_detail = f"page {p.id}"
    return result.reply


def _ack_incident(ctx: CommandContext, row: IncidentRow) -> None:
    """Answering the page answers the incident it is for (its row as ``load_locked``
    locked it: read again, it would be the very same object)."""
    if row.state != lifecycle.IncidentState.OPEN.value:
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
    row, p, _ = paging.load_locked(ctx, cmd.args["id"])
    team = paging.team_of(ctx, p.team)
    result = rules.escalate(
        p,
        actor=ctx.actor.handle,
        now=ctx.now,
        resolve=paging.resolver(ctx, team),
        channel=paging.channel_of(ctx, team),
        working_hours=paging.in_working_hours(ctx, team),
        opens_at=paging.opens_at(ctx, team),
    )
    result = page_budget.throttle(ctx, team, result)
    paging.save(ctx.session, row, result)
    ctx.effects += result.effects
    ctx.audit_detail = f"page {p.id}"
    assert result.reply is not None
    return result.reply


def resolve(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """A page of no incident is resolved by hand; an incident's pages resolve with it."""
    page_id: int = cmd.args["id"]
    row = repo.get(ctx.session, page_id=page_id, for_update=True)
    if row is None:
        raise NotFound(t("page.unknown", id=page_id))
    p = paging.to_view(row)
    if p.incident_id is not None:
        raise InvalidTransition(t("page.resolve_incident", id=p.id, incident=p.incident_id))
    if p.state is PageState.RESOLVED:
        raise InvalidTransition(t("page.resolved_already", id=p.id))
    if ctx.actor.handle not in p.paged and not ctx.actor.has_role(Role.RESPONDER):
        raise PermissionDenied(command="/resolve", role=Role.RESPONDER.value)
    result = rules.resolve_page(p, actor=ctx.actor.handle, now=ctx.now)
    paging.save(ctx.session, row, result)
    text = t("page.resolved", id=p.id, title=p.title, actor=ctx.actor.handle)
    ctx.effects += result.effects
    channel = paging.channel_of(ctx, paging.team_of(ctx, p.team))
    told = (ctx.conversation, *([channel] if channel is not None else []))
    ctx.effects += [
        DirectMessage(person, Message.of(text), unless_in=told)
        for person in dict.fromkeys(p.paged)
        if person != ctx.actor.handle
    ]
    if channel is not None and channel != ctx.conversation:
        ctx.effects.append(Post(channel, Message.of(text, severity=Severity.SUCCESS)))
    ctx.audit_detail = f"page {p.id}"
    return Message.of(text)


def timeline(ctx: CommandContext, page_id: int) -> Message:
    """One page's timeline: who was notified, skipped steps, acks, in the team's timezone."""
    row = repo.get(ctx.session, page_id=page_id)
    if row is None:
        raise NotFound(t("page.unknown", id=page_id))
    team = paging.team_of(ctx, row.team)
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
        p = paging.to_view(row)
        who = raw(f"@{p.acked_by}") if p.acked_by else mentioned(p.paged)
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
    # Anyone paged may resolve; anyone else needs the responder role (checked inside).
    CommandSpec(
        family="resolve",
        verb=None,
        handler=resolve,
        summary="help.resolve.summary",
        args=(_ID,),
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
