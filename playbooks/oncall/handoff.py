"""Handoffs: when who is on call changes, and the post that tells the team. Pure.

A handoff is any moment a layer changes hands: the rotation's own handoffs, and the
start and end of an override or a swap. The team's next one is a durable timer, armed
again at each firing, at start-up and whenever an override or swap is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from playbooks.effects import ArmTimer, Conversation, DirectMessage, Effect, Post, Priority
from playbooks.messages import Message, Text, t, zoned
from playbooks.oncall.rotations import Schedule
from playbooks.oncall.teams import Team

KIND = "oncall.handoff"
HORIZON = timedelta(days=90)  # a team with no handoff in sight has no timer
_BEFORE = timedelta(microseconds=1)


def key(team: str) -> str:
    return f"oncall:{team}:handoff"


def layers_of(team: Team) -> list[str]:
    return [layer for layer in ("primary", "secondary") if layer in team.rotations]


def next_handoff(
    schedule: Schedule, layers: Sequence[str], *, after: datetime, horizon: timedelta = HORIZON
) -> datetime | None:
    """The first moment after ``after`` when some layer's holder changes."""
    after = after.astimezone(UTC)
    found: datetime | None = None
    for layer in layers:
        for when in schedule.boundaries(layer, after, after + horizon):
            if found is not None and when >= found:
                break
            if schedule.who(layer, when)[0] != schedule.who(layer, when - _BEFORE)[0]:
                found = when
                break
    return found


def latest_handoff(
    schedule: Schedule, layers: Sequence[str], *, at: datetime, now: datetime
) -> datetime:
    """The last handoff at or before ``now``, from ``at`` on: a post late after an outage
    spanning several handoffs names who is on now, not who was at the first one."""
    latest = at
    for _ in range(1000):  # a rotation of minutes over a long outage still ends
        found = next_handoff(schedule, layers, after=latest, horizon=now - latest)
        if found is None or found > now:
            break
        latest = found
    return latest


def arm_next(schedule: Schedule, team: Team, *, after: datetime) -> ArmTimer | None:
    when = next_handoff(schedule, layers_of(team), after=after)
    if when is None:
        return None
    return ArmTimer(key(team.name), KIND, when, {"team": team.name, "at": when.isoformat()})


@dataclass(frozen=True, slots=True)
class Handover:
    layer: str
    incoming: str | None
    outgoing: str | None


def handovers(schedule: Schedule, layers: Sequence[str], *, at: datetime) -> list[Handover]:
    return [
        Handover(layer, schedule.who(layer, at)[0], schedule.who(layer, at - _BEFORE)[0])
        for layer in layers
    ]


@dataclass(frozen=True, slots=True)
class OpenWork:
    """What the incoming person inherits: a page or an incident still unresolved."""

    kind: str  # page | incident
    id: int
    title: str
    state: str
    severity: str | None = None


def _who(handle: str | None) -> str:
    return f"@{handle}" if handle else "-"


def handoff_post(
    team: Team,
    changes: Sequence[Handover],
    *,
    at: datetime,
    work: Sequence[OpenWork],
    channel: Conversation | None,
) -> list[Effect]:
    """The post to the team channel (or, with none, a direct message to each incoming
    person): who holds each layer now, who handed over, and the open pages and incidents."""
    blocks: list[Text] = [t("handoff.header", team=team.name, at=zoned(at, team.tz))]
    for change in changes:
        layer = t(f"oncall.layer.{change.layer}")
        if change.incoming == change.outgoing:
            blocks.append(t("handoff.stays", layer=layer, person=_who(change.incoming)))
        else:
            blocks.append(
                t(
                    "handoff.layer",
                    layer=layer,
                    person=_who(change.incoming),
                    previous=_who(change.outgoing),
                )
            )
    if work:
        blocks.append(t("handoff.open_work", count=len(work)))
        blocks += [
            t(
                f"handoff.open_{item.kind}",
                id=item.id,
                title=item.title,
                severity=f"{item.severity} " if item.severity else "",
                state=t(f"{'page' if item.kind == 'page' else 'incident'}.state.{item.state}"),
            )
            for item in work
        ]
    else:
        blocks.append(t("handoff.nothing_open"))
    incoming = tuple(
        c.incoming for c in changes if c.incoming is not None and c.incoming != c.outgoing
    )
    message = Message(blocks=tuple(blocks), mentions=incoming)
    if channel is not None:
        return [Post(channel, message, priority=Priority.REPORT)]
    return [
        DirectMessage(person, message, priority=Priority.REPORT)
        for person in dict.fromkeys(incoming)
    ]
