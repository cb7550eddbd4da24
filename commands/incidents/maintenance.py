"""/maintenance: windows when a service's alerts and missed heartbeats page nobody; the
intake's check for one; and the post at a window's end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from commands.core.context import CommandContext, SystemContext
from commands.core.effects import without_echo
from commands.core.grammar import Integer, When, Word, free_text
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from commands.incidents.rows import window_view
from commands.releases.lifecycle import service_named
from playbooks.effects import ArmTimer, CancelTimer, Conversation, Post
from playbooks.errors import NotFound
from playbooks.incidents import alerts
from playbooks.incidents import heartbeats as beats
from playbooks.incidents import maintenance as rules
from playbooks.incidents.alerts import Notification
from playbooks.messages import Message, t
from playbooks.people import Role
from playbooks.releases.machine import Refused
from storage.models import IncidentEvent, MaintenanceWindow, Timer
from storage.repositories import alert_groups as groups
from storage.repositories import incidents as incident_repo
from storage.repositories import maintenance as repo

MAX_REASON = 500
LOOK_AGAIN = timedelta(seconds=1)  # after a window, when its service's heartbeats are checked


def start(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    service = service_named(ctx, cmd.args["service"])
    at = cmd.flags["at"]
    if isinstance(at, timedelta):  # --at 2h: in two hours
        at = ctx.now + at
    span = rules.plan(now=ctx.now, until=cmd.args["until"], at=at)
    reason = free_text(
        cmd.flags["reason"],
        limit=MAX_REASON,
        needed=t("maintenance.reason_needed"),
        usage=cmd.spec.usage(),
    )
    row = repo.add(
        ctx.session,
        MaintenanceWindow(
            service=service.name,
            starts_at=span.starts_at,
            ends_at=span.ends_at,
            reason=reason,
            freeze=bool(cmd.flags["freeze"]),
            channel=f"{ctx.conversation.platform}:{ctx.conversation.channel}",
            created_by=ctx.actor.handle,
            created_at=ctx.now,
        ),
    )
    assert row.id is not None
    ctx.effects.append(
        ArmTimer(rules.timer_key(row.id), rules.KIND, span.ends_at, {"window": row.id})
    )
    ctx.audit_detail = f"maintenance {row.id} of {service.name} until {span.ends_at.isoformat()}"
    return rules.started(
        window_id=row.id,
        service=service.name,
        span=span,
        reason=reason,
        freeze=row.freeze,
        now=ctx.now,
    )


def listing(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    rows = repo.current(ctx.session, now=ctx.now)
    return rules.listing([window_view(row) for row in rows], now=ctx.now)


def end(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    window_id = cmd.args["id"]
    row = repo.get(ctx.session, window_id=window_id, for_update=True)
    if row is None:
        raise NotFound(t("maintenance.unknown", id=window_id))
    if row.end_posted or row.ends_at <= ctx.now:
        raise Refused(t("maintenance.already_over", id=window_id, ends=row.ends_at))
    ctx.effects.append(CancelTimer(rules.timer_key(window_id)))
    ctx.audit_detail = f"maintenance {window_id} ended"
    if row.starts_at > ctx.now:
        # Called off before it began: nothing arrived, nothing to say but this.
        row.ends_at, row.ended_by, row.end_posted = row.starts_at, ctx.actor.handle, True
        ctx.session.add(row)
        return Message.of(t("maintenance.called_off", id=window_id, service=row.service))
    row.ends_at, row.ended_by = ctx.now, ctx.actor.handle
    message = _close(ctx, row)
    ctx.effects[:] = without_echo(ctx.effects, here=ctx.conversation, reply=message)
    return message


def on_end(ctx: SystemContext, timer: Timer) -> None:
    """The window's time is up: its end is said once (an early /maintenance end has
    said it already, and cancelled this)."""
    row = repo.get(ctx.session, window_id=int(timer.payload["window"]), for_update=True)
    if row is None or row.end_posted or row.ends_at > ctx.now:
        return
    _close(ctx, row)


def _close(ctx: CommandContext | SystemContext, row: MaintenanceWindow) -> Message:
    """Post the window's end with what arrived during it, and look again at the service's
    heartbeats: one that stopped during the window is missed now."""
    assert row.id is not None
    message = rules.ended(
        window_id=row.id,
        service=row.service,
        arrivals=rules.Arrivals(tuple(str(x) for x in row.arrivals), row.arrived),
        ended_by=row.ended_by,
    )
    row.end_posted = True
    ctx.session.add(row)
    ctx.effects.append(Post(Conversation.parse(row.channel), message))
    if rules.still_firing(row.held_groups):
        # In a moment, once the end is said: the groups still firing go to the intake.
        due = ctx.now + LOOK_AGAIN
        ctx.effects.append(
            ArmTimer(rules.after_key(row.id), rules.AFTER_KIND, due, {"window": row.id})
        )
    for heartbeat in ctx.incidents.heartbeats.values():
        if heartbeat.service == row.service:
            # its timer fires in a moment and decides from the beats as stored
            key = beats.timer_key(heartbeat.name)
            due = ctx.now + LOOK_AGAIN
            ctx.effects.append(ArmTimer(key, beats.KIND, due, {"name": heartbeat.name}))
    return message


def held(ctx: SystemContext, n: Notification, service: str | None) -> Mapping[str, Any] | None:
    """A notification of a service under maintenance: noted (on the window, and on the
    incident open for the service if there is one), paging nobody, opening nothing.
    None when no window holds it: then it goes on as usual. A group resolving an incident
    still resolves it (that pages nobody)."""
    if service is None:
        return None
    window = repo.in_force(ctx.session, service=service, now=ctx.now, for_update=True)
    if window is None:
        return None
    group = groups.get(ctx.session, group_hash=n.group_hash())
    incident = incident_repo.get(ctx.session, incident_id=group.incident_id) if group else None
    if incident is not None and incident.state not in incident_repo.UNRESOLVED:
        incident = None
    if rules.passes(n, its_incident_open=incident is not None):
        if n.group_hash() in window.held_groups:  # not to be handed on as firing
            window.held_groups = rules.held(window.held_groups, n)
            ctx.session.add(window)
        return None
    if incident is None:
        open_ = incident_repo.search(ctx.session, unresolved_only=True, service=service, limit=1)
        incident = open_[0] if open_ else None
    line = alerts.describe(n)
    assert window.id is not None
    if incident is not None and incident.id is not None:
        incident_repo.add_event(
            ctx.session,
            IncidentEvent(
                incident_id=incident.id,
                at=ctx.now,
                actor=n.source,
                kind="alert",
                text=f"{line} (maintenance #{window.id})",
            ),
        )
        line = f"{line} → #{incident.id}"
    arrivals = rules.Arrivals(tuple(str(x) for x in window.arrivals), window.arrived)
    arrivals = arrivals.with_line(rules.arrival(ctx.now, line))
    window.arrivals, window.arrived = list(arrivals.lines), arrivals.count
    if n.source != beats.SOURCE:  # a heartbeat is looked at again by its own timer
        window.held_groups = rules.held(window.held_groups, n)
    ctx.session.add(window)
    return {"action": "held", "maintenance": window.id, "summary": line}


_spec = verb_of("maintenance", default_role=Role.RESPONDER, changes_state=True)

SPECS = (
    _spec(
        "start",
        start,
        args=(Arg("service", Word(metavar="SERVICE")), Arg("until", When(metavar="DURATION"))),
        flags=(
            Flag("reason", Word(metavar="TEXT"), required=True),
            Flag("at", When(metavar="TIME")),
            Flag("freeze"),
        ),
    ),
    _spec("list", listing, role=None, changes_state=False),
    _spec("end", end, args=(Arg("id", Integer(metavar="ID")),)),
)

TIMER_HANDLERS = {rules.KIND: on_end}
