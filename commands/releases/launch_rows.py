"""Between stored launch records and the domain: load and save a release's launch state,
the declared freezes, the deploy window gate (``closed_window``) and the launch gates a
promotion must pass."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from playbooks.business_time import WorkCalendar
from playbooks.launch import state as launch_state
from playbooks.launch import windows
from playbooks.launch.plan import WindowGate, WindowPolicy
from playbooks.launch.state import LaunchState
from playbooks.messages import Text
from playbooks.oncall.teams import Team
from playbooks.people import Directory, Role
from playbooks.releases.machine import Release
from playbooks.releases.plan import Service
from storage.repositories import launches as repo


def load(session: Session, release_id: int) -> LaunchState:
    row = repo.get(session, release_id=release_id)
    return launch_state.state_from_json(row.state if row else None)


def store(session: Session, *, release_id: int, state: LaunchState, now: datetime) -> None:
    row = repo.get_or_add(session, release_id=release_id, now=now)
    row.state = launch_state.state_to_json(state)
    row.updated_at = now
    session.add(row)
    session.flush()


def declared_freezes(session: Session) -> dict[date, str]:
    return {date.fromisoformat(row.day): row.reason for row in repo.freezes(session)}


def zone_of(
    policy: WindowPolicy,
    service: Service | None,
    *,
    teams: Mapping[str, Team],
    fallback: tzinfo,
) -> tuple[tzinfo, str]:
    """The timezone windows are read in: the plan's, else the service's team's, else
    Shipwatch's own; with the name people read."""
    if policy.timezone:
        try:
            return ZoneInfo(policy.timezone), policy.timezone
        except (ZoneInfoNotFoundError, ValueError):
            pass
    team = teams.get(service.team) if service is not None and service.team else None
    tz = team.tz if team is not None else fallback
    return tz, str(getattr(tz, "key", None) or tz)


def calendar_of(
    service: Service | None, *, teams: Mapping[str, Team], fallback: WorkCalendar
) -> WorkCalendar:
    """The working days windows keep to: the service's team's, else Shipwatch's own."""
    team = teams.get(service.team) if service is not None and service.team else None
    return team.calendar if team is not None else fallback


def window_check(
    session: Session,
    policy: WindowPolicy,
    *,
    now: datetime,
    tz: tzinfo,
    calendar: WorkCalendar | None = None,
) -> windows.WindowCheck:
    return windows.check(
        policy,
        now=now,
        tz=tz,
        freezes=declared_freezes(session),
        windows_apply=policy.gate is not WindowGate.OFF,
        calendar=calendar,
    )


def closed_window(
    ctx: CommandContext | SystemContext, policy: WindowPolicy, *, service: str, what: str
) -> Text | None:
    """The refusal for ``what`` (start, retry, go, promote) of ``service`` now, outside the
    deploy windows or on a frozen day, if it is: the one window gate, read in the same
    timezone and on the same working days wherever it is asked."""
    found_service = ctx.releases.services.get(service)
    tz, zone = zone_of(policy, found_service, teams=ctx.teams, fallback=ctx.tz)
    days = calendar_of(found_service, teams=ctx.teams, fallback=ctx.incidents.policy.hours.calendar)
    found = window_check(ctx.session, policy, now=ctx.now, tz=tz, calendar=days)
    if found.open:
        return None
    return windows.refusal(found, service=service, what=what, tz=tz, zone=zone)


def blockers(ctx: CommandContext | SystemContext, r: Release, *, target: int) -> list[Text]:
    """Launch reasons the release may not enter ``target``: required checklist items, the
    Go/No-Go, and a deploy window when the plan holds promotions to them. The one gate of
    a promotion, asked alike by a person's /release promote and by a soaked stage moving
    on by itself."""
    found = launch_state.blockers(load(ctx.session, r.id), r, target=target)
    policy = r.plan.launch.windows
    if policy.gate is WindowGate.STAGES:
        closed = closed_window(ctx, policy, service=r.service, what="promote")
        if closed is not None:
            found.append(closed)
    return found


def go_blockers(session: Session, r: Release) -> list[Text]:
    """What holds a prepared release's first traffic: its open required checks (the deploy
    window is judged when ``/release go`` is said, where a release manager may force it)."""
    return launch_state.go_blockers(load(session, r.id), r)


def owners_of(directory: Directory, r: Release, owner: str) -> list[str]:
    """Who a plan's owner word means: ``owner`` (who started the release), ``@person``,
    a role (everyone holding it), a duty (devops, dba…) or a person's handle; nobody for
    someone unknown."""
    return people_meant(directory, owner, starter=r.owner)


def people_meant(directory: Directory, owner: str, *, starter: str) -> list[str]:
    """``owner_of`` for anything run by someone: ``owner`` is ``starter``."""
    if owner == "owner":
        return [starter]
    if owner in directory.duties:
        return list(directory.duties[owner])
    if owner.startswith("@"):
        return [owner[1:]] if directory.get(owner[1:]) else []
    try:
        role = Role(owner)
    except ValueError:
        return [owner] if directory.get(owner) else []
    return sorted(p.handle for p in directory.people.values() if role in p.roles)


def decision_owners(directory: Directory, r: Release) -> list[str]:
    """The people who decide after a stop-tier breach, each once, in the plan's order."""
    found: list[str] = []
    for word in r.plan.decision:
        found += [h for h in owners_of(directory, r, word) if h not in found]
    return found
