"""The handoff timer: tell the team who is on call now, and arm the next handoff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from commands.core.context import SystemContext
from commands.oncall.rotations import schedule_of
from playbooks.effects import Conversation
from playbooks.oncall import handoff
from playbooks.oncall.teams import Team
from storage import notices
from storage.models import Timer
from storage.repositories import incidents as incident_repo
from storage.repositories import pages as page_repo
from storage.repositories import timers
from storage.unit_of_work import unit_of_work


def sync_handoffs(engine: Engine, teams: dict[str, Team] | None, *, now: datetime) -> int:
    """At start-up, arm each team's next handoff. A pending one already overdue is left
    alone (it fires once, late); one due later is moved if the rotation changed."""
    armed = 0
    with unit_of_work(engine) as session:
        for team in (teams or {}).values():
            arm = handoff.arm_next(schedule_of(session, team, now=now), team, after=now)
            existing = timers.get(session, key=handoff.key(team.name))
            if existing is not None and existing.state == "pending":
                due = existing.due_at
                if due <= now or (arm is not None and due == arm.due_at):
                    continue
            if arm is None:
                if existing is not None:
                    timers.cancel(session, key=handoff.key(team.name))
                continue
            timers.arm(
                session,
                key=arm.key,
                kind=arm.kind,
                due_at=arm.due_at,
                payload=arm.payload,
                now=now,
            )
            armed += 1
        if armed:
            notices.notify(session, "timers")
    return armed


def _open_work(session: Session, ctx: SystemContext, team: Team) -> list[handoff.OpenWork]:
    work = [
        handoff.OpenWork("page", row.id or 0, row.title, row.state, row.severity)
        for row in reversed(page_repo.search(session, open_only=True, team=team.name))
    ]
    services = [s.name for s in ctx.releases.services.values() if s.team == team.name]
    incidents = [
        row
        for service in services
        for row in incident_repo.search(session, unresolved_only=True, service=service)
    ]
    work += [
        handoff.OpenWork("incident", row.id or 0, row.title, row.state, row.severity)
        for row in sorted(incidents, key=lambda r: r.id or 0)
    ]
    return work


def on_handoff(ctx: SystemContext, timer: Timer) -> None:
    team = ctx.teams.get(str(timer.payload.get("team", "")))
    if team is None:  # the team left teams.yaml: its handoffs stop
        return
    at = datetime.fromisoformat(str(timer.payload.get("at") or timer.due_at.isoformat()))
    schedule = schedule_of(ctx.session, team, now=ctx.now)
    if at < ctx.now:
        at = handoff.latest_handoff(schedule, handoff.layers_of(team), at=at, now=ctx.now)
    changes = handoff.handovers(schedule, handoff.layers_of(team), at=at)
    channel = (
        Conversation.parse(team.channel, default_platform=ctx.home_platform)
        if team.channel
        else None
    )
    ctx.effects += handoff.handoff_post(
        team, changes, at=at, work=_open_work(ctx.session, ctx, team), channel=channel
    )
    # The next handoff after this one (and after now, had the bot been down meanwhile).
    arm = handoff.arm_next(schedule, team, after=max(at, ctx.now))
    if arm is not None:
        ctx.effects.append(arm)


TIMER_HANDLERS = {handoff.KIND: on_handoff}
