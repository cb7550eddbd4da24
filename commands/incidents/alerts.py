"""Alerts from monitoring: a notification opens, joins, updates or resolves an incident.

The HTTP routes read and check the request; this handler decides in one transaction,
with the service's intake, the group's row and its incident locked, and the pipeline
writes the effects, the ledger entry and the audit row with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.core.context import SystemContext
from commands.incidents import maintenance
from commands.incidents import rooms as incident_rooms
from commands.incidents.incident import create, tech_channel
from commands.incidents.rows import save, to_view
from commands.oncall import paging
from playbooks.effects import ArmTimer, Conversation, Post
from playbooks.incidents import alerts
from playbooks.incidents import machine as lifecycle
from playbooks.incidents import rooms as room_rules
from playbooks.incidents.alerts import Action, Digested, Notification
from playbooks.incidents.machine import Incident, Result, TimelineEntry
from playbooks.people import BOT
from storage.models import AlertGroup, IncidentRow, Timer
from storage.repositories import alert_groups as groups
from storage.repositories import incidents as repo
from storage.repositories import timers

KIND = "alert"


def on_notification(ctx: SystemContext, n: Notification) -> Mapping[str, Any]:
    settings = ctx.incidents.alerts
    service = settings.service_of(n)
    held = maintenance.held(ctx, n, service)  # a window: noted, paging nobody
    if held is not None:
        return held
    if service:
        # First, before anything is read: whether a new group opens an incident or folds
        # into a storm is decided one notification of the service at a time, on any replica.
        groups.lock_service(ctx.session, service=service)
    group = groups.get(ctx.session, group_hash=n.group_hash(), for_update=True)
    group_row = (
        repo.get(ctx.session, incident_id=group.incident_id, for_update=True) if group else None
    )
    storm_row: IncidentRow | None = None
    if n.status == alerts.FIRING and service and not (group_row and _unresolved(group_row)):
        storm_id = groups.storm_incident(
            ctx.session, service=service, since=alerts.storm_since(settings, ctx.now)
        )
        if storm_id is not None:
            storm_row = repo.get(ctx.session, incident_id=storm_id, for_update=True)
    decision = alerts.decide(
        n,
        group_incident=to_view(group_row) if group_row else None,
        group_firing=group is not None and group.status == alerts.FIRING,
        storm=to_view(storm_row) if storm_row else None,
    )
    line = alerts.describe(n)
    if decision.action is Action.IGNORE:
        return {"action": decision.action.value, "summary": line}
    room = None
    if decision.action is Action.OPEN:
        row, result = create(
            ctx,
            title=alerts.title_of(n),
            severity=settings.severity_of(n),
            service=service,
            channel=Conversation.parse(settings.channel, default_platform=ctx.home_platform),
            opened_by=n.source,
            platform=ctx.home_platform,
            commander=BOT,
        )
        result.timeline.append(TimelineEntry(ctx.now, n.source, "alert", line))
    else:
        assert decision.incident is not None
        row = next(r for r in (group_row, storm_row) if r and r.id == decision.incident.id)
        before = to_view(row)
        result = _onto(ctx, before, n, decision.action, line, group)
        result, room = incident_rooms.raised(ctx, row, before, result)
    save(ctx.session, row, result)
    ctx.effects += result.effects
    if alerts.may_page(decision.action):
        page = paging.page_if_none(ctx, row)  # its severity may have risen to one that pages
        if room is not None and page is not None:
            ctx.effects += room_rules.invitations(room, page.paged)
    assert row.id is not None
    _record_group(ctx, n, group, row.id, service, decision.action)
    return {"action": decision.action.value, "incident": row.id, "summary": line}


def _unresolved(row: IncidentRow) -> bool:
    return row.state in lifecycle.UNRESOLVED


def _onto(
    ctx: SystemContext,
    incident: Incident,
    n: Notification,
    action: Action,
    line: str,
    group: AlertGroup | None,
) -> Result:
    """Apply what ``alerts.onto`` decides a notification does to an incident that exists
    already."""
    settings = ctx.incidents.alerts
    others_firing = 0
    if action is Action.RESOLVE:
        others_firing = sum(
            1
            for g in groups.of_incident(ctx.session, incident_id=incident.id)
            if g.status == alerts.FIRING and (group is None or g.id != group.id)
        )
    decided = alerts.onto(
        action,
        incident=incident,
        severity=settings.severity_of(n),
        others_firing=others_firing,
        resolve_when_resolved=settings.resolve_when_resolved,
    )
    result = Result(incident, timeline=[TimelineEntry(ctx.now, n.source, "alert", line)])
    if decided.resolves:
        resolved = lifecycle.move(
            incident, lifecycle.Move.RESOLVE, actor=n.source, now=ctx.now, note=line
        )
        resolved.timeline[:0] = result.timeline
        paging.stop_for_incident(ctx, incident.id, actor=n.source)
        return resolved
    if decided.raised_to is not None:
        raised = lifecycle.change_severity(
            incident,
            decided.raised_to,
            actor=n.source,
            now=ctx.now,
            reason=line,
            tech_channel=tech_channel(ctx, incident.channel.platform),
        )
        raised.timeline[:0] = result.timeline
        result = raised
    if decided.digested is Digested.JOINED:
        result.effects.append(_gather(ctx, incident, joined=line))
    elif decided.digested is Digested.RESOLVED:
        result.effects.append(_gather(ctx, incident, resolved=line))
    return result


def _gather(
    ctx: SystemContext, incident: Incident, *, joined: str = "", resolved: str = ""
) -> ArmTimer:
    """Add a group's news to the incident's digest, said in one post when the digest's
    time is up (the first news arms it; the incident's row lock orders the rest)."""
    assert incident.id is not None
    key = alerts.digest_key(incident.id)
    # Locked: a digest being fired right now is waited for and then seen as fired, so its
    # lines are not added to again and said twice; the digest's handler reads the incident
    # without locking it, so the two never wait on each other.
    pending = timers.get(ctx.session, key=key, for_update=True)
    if pending is None or pending.state != "pending":
        pending = None
    payload = alerts.gathered(
        pending.payload if pending else None,
        incident_id=incident.id,
        joined=joined,
        resolved=resolved,
    )
    due = pending.due_at if pending else ctx.now + alerts.DIGEST_AFTER
    return ArmTimer(key, alerts.DIGEST_KIND, due, payload)


def on_digest(ctx: SystemContext, timer: Timer) -> None:
    """The digest's time is up: one post for the groups that joined or resolved meanwhile,
    unless the incident has been resolved since (that says all)."""
    incident_id = int(timer.payload["incident"])
    row = repo.get(ctx.session, incident_id=incident_id)
    if row is None or not _unresolved(row):
        return
    firing = [
        g
        for g in groups.of_incident(ctx.session, incident_id=incident_id)
        if g.status == alerts.FIRING
    ]
    incident = to_view(row)
    message = alerts.digest(
        timer.payload, incident_id=incident_id, title=incident.title, still_firing=len(firing)
    )
    if message is not None:
        ctx.effects.append(Post(incident.channel, message))


def _record_group(
    ctx: SystemContext,
    n: Notification,
    group: AlertGroup | None,
    incident_id: int,
    service: str | None,
    action: Action,
) -> None:
    if group is None:
        group = AlertGroup(
            group_hash=n.group_hash(),
            source=n.source,
            group_key=n.group_key,
            service=service,
            incident_id=incident_id,
            status=n.status,
            joined_at=ctx.now,
            last_seen=ctx.now,
        )
    if action in (Action.OPEN, Action.JOIN):
        group.incident_id, group.joined_at = incident_id, ctx.now
    group.status = n.status
    group.service = service
    group.last_seen = ctx.now
    group.firing = n.firing
    groups.save(ctx.session, group)


INBOUND_HANDLERS = {KIND: on_notification}
TIMER_HANDLERS = {alerts.DIGEST_KIND: on_digest}
