"""Pages acknowledged and not yet resolved: the ack reminder timer, and /resolve."""

from __future__ import annotations

from datetime import timedelta

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Integer
from commands.core.registry import Arg, CommandSpec, ParsedCommand
from commands.oncall import budget as page_budget
from commands.oncall.paging import channel_of, save, team_of, to_view
from playbooks.effects import DirectMessage, Post
from playbooks.errors import InvalidTransition, NotFound, PermissionDenied
from playbooks.incidents.machine import IncidentState
from playbooks.messages import Message, Severity, t
from playbooks.oncall import paging
from playbooks.oncall.paging import PageState
from playbooks.people import Role
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


def resolve(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """A page of no incident is resolved by hand; an incident's pages resolve with it."""
    page_id: int = cmd.args["id"]
    row = repo.get(ctx.session, page_id=page_id, for_update=True)
    if row is None:
        raise NotFound(t("page.unknown", id=page_id))
    p = to_view(row)
    if p.incident_id is not None:
        raise InvalidTransition(t("page.resolve_incident", id=p.id, incident=p.incident_id))
    if p.state is PageState.RESOLVED:
        raise InvalidTransition(t("page.resolved_already", id=p.id))
    if ctx.actor.handle not in p.paged and not ctx.actor.has_role(Role.RESPONDER):
        raise PermissionDenied(command="/resolve", role=Role.RESPONDER.value)
    result = paging.resolve_page(p, actor=ctx.actor.handle, now=ctx.now)
    save(ctx.session, row, result)
    text = t("page.resolved", id=p.id, title=p.title, actor=ctx.actor.handle)
    ctx.effects += result.effects
    channel = channel_of(ctx, team_of(ctx, p.team))
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


TIMER_HANDLERS = {paging.KIND_REMIND: on_remind}

SPECS = (
    # Anyone paged may resolve; anyone else needs the responder role (checked inside).
    CommandSpec(
        family="resolve",
        verb=None,
        handler=resolve,
        summary="help.resolve.summary",
        args=(Arg("id", Integer(metavar="ID")),),
        changes_state=True,
    ),
)
