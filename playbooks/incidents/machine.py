"""The incident lifecycle: a declarative table of moves, SLA clocks from the severity
policy, and the communication plan's reminders. Pure: ``now`` is a parameter.

    open ──ack──► acknowledged ──mitigate──► mitigated ──resolve──► resolved ──close──► closed
      └──────────────┴────────────resolve───────┘            ▲          │
                                                              └─reopen──┘ (also from closed)

Three clocks run from the opening: respond (met by the first ack), start handling (met
by ``/incident start``, or by mitigating or resolving) and resolve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from playbooks import repeats
from playbooks.business_time import Deadline, WorkingHours
from playbooks.effects import ArmTimer, CancelTimer, Conversation, DirectMessage, Effect, Post
from playbooks.errors import InvalidTransition
from playbooks.incidents.policy import SeverityPolicy
from playbooks.lists import listed
from playbooks.messages import Button, ButtonStyle, Message, Severity, Text, raw, t, text_to_str
from playbooks.people import BOT

KIND_RESPOND = "incident.respond_due"
KIND_START_WARN = "incident.start_warn"
KIND_START = "incident.start_due"
KIND_RESOLVE_WARN = "incident.resolve_warn"
KIND_RESOLVE = "incident.resolve_due"
KIND_UPDATE = "incident.update_due"
KIND_CHECKLIST = "incident.checklist_due"
CHECKLIST = ("management", "public")  # seed 001 §5.3: tell management, publish a notice
FREEZING = frozenset({"P0", "P1"})  # an open incident of these blocks releases of its service


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Move(StrEnum):
    OPEN = "open"
    ACK = "ack"
    START = "start"
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"


S = IncidentState
HANDLING = frozenset({Move.ACK, Move.START, Move.MITIGATE, Move.RESOLVE})
UNRESOLVED = frozenset({S.OPEN, S.ACKNOWLEDGED, S.MITIGATED})
TRANSITIONS: Mapping[tuple[IncidentState, Move], IncidentState] = {
    (S.OPEN, Move.ACK): S.ACKNOWLEDGED,
    (S.OPEN, Move.START): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, Move.START): S.ACKNOWLEDGED,
    (S.OPEN, Move.MITIGATE): S.MITIGATED,
    (S.OPEN, Move.RESOLVE): S.RESOLVED,
    (S.ACKNOWLEDGED, Move.MITIGATE): S.MITIGATED,
    (S.ACKNOWLEDGED, Move.RESOLVE): S.RESOLVED,
    (S.MITIGATED, Move.RESOLVE): S.RESOLVED,
    (S.RESOLVED, Move.CLOSE): S.CLOSED,
    (S.RESOLVED, Move.REOPEN): S.OPEN,
    (S.CLOSED, Move.REOPEN): S.OPEN,
}


def target_state(incident: Incident, move: Move) -> IncidentState:
    target = TRANSITIONS.get((incident.state, move))
    if move is Move.START and incident.started_at is not None and target is not None:
        raise InvalidTransition(
            t("incident.already_started", id=incident.id, at=incident.started_at)
        )
    if target is None:
        raise InvalidTransition(
            t(
                f"incident.invalid_move.{move.value}",
                id=incident.id,
                state=t(f"incident.state.{incident.state}"),
            )
        )
    return target


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    title: str
    severity: str
    state: IncidentState
    service: str | None
    channel: Conversation
    opened_at: datetime
    opened_by: str
    policy: SeverityPolicy
    commander: str
    comms_lead: str | None = None
    scribe: str | None = None
    acked_at: datetime | None = None
    resolved_at: datetime | None = None
    started_at: datetime | None = None  # handling started (seed 002's 开始处理)
    respond_due: datetime | None = None
    start_due: datetime | None = None
    resolve_due: datetime | None = None
    respond_breached: bool = False
    start_breached: bool = False
    resolve_breached: bool = False
    checklist: Mapping[str, str] = field(default_factory=dict)  # item -> who ticked it
    reopened_at: datetime | None = None  # the clocks of a reopened incident start here

    @property
    def clock_start(self) -> datetime:
        return self.reopened_at or self.opened_at

    @property
    def unresolved(self) -> bool:
        return self.state in UNRESOLVED

    @property
    def freezes_releases(self) -> bool:
        return self.unresolved and self.severity in FREEZING


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    actor: str
    kind: str
    text: str = ""


def _said(key: str, **params: Text | str) -> str:
    """A timeline line the bot writes, stored as catalog text for each reader's language
    (a person's own notes are stored as written)."""
    return text_to_str(t(key, **params))


@dataclass(slots=True)
class Result:
    incident: Incident
    effects: list[Effect] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    reply: Message | None = None


def _key(incident_id: int, what: str) -> str:
    return f"incident:{incident_id}:{what}"


def _arm(i: Incident, what: str, kind: str, due: datetime, **extra: str) -> ArmTimer:
    return ArmTimer(_key(i.id, what), kind, due, {"incident_id": i.id, **extra})


def _cancel(i: Incident, *whats: str) -> list[Effect]:
    return [CancelTimer(_key(i.id, what)) for what in whats]


CLOCK_TIMERS = ("respond", "start_warn", "start", "resolve_warn", "resolve", "update")
ALL_TIMERS = (*CLOCK_TIMERS, *CHECKLIST, *(f"{item}_ahead" for item in CHECKLIST))


def buttons(i: Incident) -> tuple[Button, ...]:
    if i.state is S.OPEN:
        return (
            Button(t("button.ack"), f"/incident ack {i.id}", ButtonStyle.PRIMARY),
            Button(t("button.resolve"), f"/incident resolve {i.id}"),
        )
    if i.unresolved and i.started_at is None and i.start_due is not None:
        return (
            Button(t("incident.button.start"), f"/incident start {i.id}", ButtonStyle.PRIMARY),
            Button(t("incident.button.update"), f"/incident update {i.id}"),
            Button(t("button.resolve"), f"/incident resolve {i.id}"),
        )
    if i.unresolved:
        return (
            Button(t("incident.button.update"), f"/incident update {i.id}"),
            Button(t("button.resolve"), f"/incident resolve {i.id}", ButtonStyle.PRIMARY),
        )
    return ()


def _post(i: Incident, *blocks: Text, severity: Severity = Severity.INFO) -> Post:
    return Post(i.channel, Message(blocks=blocks, severity=severity, buttons=buttons(i)))


def _sla_timers(i: Incident, *, now: datetime) -> list[Effect]:
    """(Re-)arm the clocks the incident's severity and state call for."""
    rule = i.policy.rule(i.severity)
    effects: list[Effect] = _cancel(i, *CLOCK_TIMERS)
    if not i.unresolved:
        return effects
    if i.state is S.OPEN and i.respond_due is not None:
        effects.append(_arm(i, "respond", KIND_RESPOND, max(i.respond_due, now)))
    if i.started_at is None and i.start_due is not None:
        effects += _clock_timers(i, "start", KIND_START_WARN, KIND_START, i.start_due, now=now)
    if i.resolve_due is not None:
        effects += _clock_timers(
            i, "resolve", KIND_RESOLVE_WARN, KIND_RESOLVE, i.resolve_due, now=now
        )
    if rule.update_every is not None:
        effects.append(_arm(i, "update", KIND_UPDATE, now + rule.update_every))
    return effects


def _clock_timers(
    i: Incident, what: str, warn_kind: str, due_kind: str, due: datetime, *, now: datetime
) -> list[Effect]:
    """A clock's reminder (at ``warn_at`` of its span, while still ahead) and its deadline."""
    effects: list[Effect] = []
    warn_at = i.clock_start + (due - i.clock_start) * i.policy.rule(i.severity).warn_at
    if warn_at > now:
        effects.append(_arm(i, f"{what}_warn", warn_kind, warn_at))
    effects.append(_arm(i, what, due_kind, max(due, now)))
    return effects


def _due(deadline: Deadline | None, start: datetime, hours: WorkingHours) -> datetime | None:
    return deadline.due(start, hours) if deadline is not None else None


def deadlines(
    policy: SeverityPolicy, severity: str, *, start: datetime
) -> tuple[datetime, datetime | None, datetime | None]:
    """When an incident of ``severity`` started at ``start`` must be responded to, started
    on and resolved by (the last two: None where the policy sets no such clock)."""
    rule = policy.rule(severity)
    return (
        rule.respond.due(start, policy.hours),
        _due(rule.start, start, policy.hours),
        _due(rule.resolve, start, policy.hours),
    )


def _deadlines(i: Incident, *, start: datetime) -> Incident:
    respond_due, start_due, resolve_due = deadlines(i.policy, i.severity, start=start)
    return replace(i, respond_due=respond_due, start_due=start_due, resolve_due=resolve_due)


def _unbreach(i: Incident, *, now: datetime) -> Incident:
    """A deadline moved into the future is no longer missed."""
    return replace(
        i,
        respond_breached=i.respond_breached and (i.respond_due is None or i.respond_due <= now),
        start_breached=i.start_breached and (i.start_due is None or i.start_due <= now),
        resolve_breached=i.resolve_breached and (i.resolve_due is None or i.resolve_due <= now),
    )


def open_incident(i: Incident, *, now: datetime, tech_channel: Conversation | None) -> Result:
    """A new incident: deadlines from its severity, clocks armed, the plan started."""
    i = _deadlines(i, start=i.opened_at)
    result = Result(
        i, timeline=[TimelineEntry(now, i.opened_by, "open", f"{i.severity} {i.title}")]
    )
    # A new incident has no clocks to cancel yet: only arms.
    result.effects += [e for e in _sla_timers(i, now=now) if not isinstance(e, CancelTimer)]
    result.effects += [e for e in _communication(i, now=now) if not isinstance(e, CancelTimer)]
    text = t(
        "incident.opened",
        id=i.id,
        severity=i.severity,
        title=i.title,
        actor=i.opened_by,
        clocks=clocks_line(i),
    )
    result.effects.append(_post(i, text, severity=_loudness(i)))
    if _tells_tech(i, i.severity) and tech_channel is not None and tech_channel != i.channel:
        result.effects.append(Post(tech_channel, Message.of(text, severity=_loudness(i))))
    result.reply = Message(blocks=(text,), buttons=buttons(i), severity=_loudness(i))
    return result


def clocks_line(i: Incident) -> Text:
    """The clocks this severity has, respond first: "Respond by …, start handling by …"."""
    parts = [t("incident.clock.respond", due=i.respond_due)]
    if i.start_due is not None:
        parts.append(t("incident.clock.start", due=i.start_due))
    if i.resolve_due is not None:
        parts.append(t("incident.clock.resolve", due=i.resolve_due))
    return t(f"incident.clocks.{len(parts)}", **{f"c{n}": p for n, p in enumerate(parts)})


def _tells_tech(i: Incident, severity: str) -> bool:
    """Severities whose plan reaches management (P0/P1) are news for the tech channel."""
    return i.policy.rule(severity).notify_management is not None


def _lead(i: Incident) -> str:
    """Whom reminders address: the commander, or everyone while nobody has taken command."""
    return "here" if i.commander == BOT else i.commander


def _direct(i: Incident, message: Message) -> list[Effect]:
    """A word to the commander, when a person has taken command."""
    return (
        [] if i.commander == BOT else [DirectMessage(i.commander, message, unless_in=(i.channel,))]
    )


class PagesFollow(StrEnum):
    """What an incident's move does to its pages."""

    STOP = "stop"  # resolved: its pages stop escalating
    ANSWER = "answer"  # acknowledged or mitigated: someone is on it, open pages are answered
    PAGE = "page"  # reopened: paged again as its team's rule says, unless a page is under way


def pages_follow(before: Incident, after: Incident, the_move: Move) -> PagesFollow | None:
    """How ``the_move``, taking ``before`` to ``after``, reaches the incident's pages."""
    if not after.unresolved:
        return PagesFollow.STOP
    if before.state is S.OPEN and after.state is not before.state:
        return PagesFollow.ANSWER
    if the_move is Move.REOPEN:
        return PagesFollow.PAGE
    return None


def _loudness(i: Incident) -> Severity:
    return Severity.DANGER if i.severity in FREEZING else Severity.WARNING


def _communication(i: Incident, *, now: datetime) -> list[Effect]:
    """For each step of this severity's plan nobody has done: a reminder ahead of its
    deadline (at ``warn_at`` of the span, so there is time to act) and one at it."""
    effects: list[Effect] = _cancel(i, *CHECKLIST, *(f"{item}_ahead" for item in CHECKLIST))
    if not i.unresolved:
        return effects
    warn_at = i.policy.rule(i.severity).warn_at
    for item, after in checklist_steps(i).items():
        if item in i.checklist:
            continue
        ahead = i.opened_at + after * warn_at
        if ahead > now:
            effects.append(_arm(i, f"{item}_ahead", KIND_CHECKLIST, ahead, item=item, ahead="1"))
        effects.append(_arm(i, item, KIND_CHECKLIST, max(i.opened_at + after, now), item=item))
    return effects


def move(i: Incident, the_move: Move, *, actor: str, now: datetime, note: str = "") -> Result:
    target = target_state(i, the_move)
    after = replace(i, state=target)
    if the_move in HANDLING and i.acked_at is None:
        after = replace(after, acked_at=now)  # the first person to act answered the page
    if the_move in HANDLING and the_move is not Move.ACK and i.started_at is None:
        after = replace(after, started_at=now)  # mitigating or resolving is handling it
    if the_move is Move.ACK and i.commander == BOT and actor != BOT:
        after = replace(after, commander=actor)  # an alert's incident: who acks, leads
    if target is S.RESOLVED:
        after = replace(after, resolved_at=now)
    if the_move is Move.REOPEN:  # fresh clocks from the moment it came back
        rule = i.policy.rule(i.severity)
        after = replace(
            after,
            resolved_at=None,
            acked_at=None,
            started_at=None,
            reopened_at=now,
            respond_due=rule.respond.due(now, i.policy.hours),
            start_due=_due(rule.start, now, i.policy.hours),
            resolve_due=_due(rule.resolve, now, i.policy.hours),
            respond_breached=False,
            start_breached=False,
            resolve_breached=False,
        )
    result = Result(after, timeline=[TimelineEntry(now, actor, the_move.value, note)])
    if the_move is Move.REOPEN:
        result.effects += _sla_timers(after, now=now) + _communication(after, now=now)
    elif not after.unresolved:
        result.effects += _cancel(after, *ALL_TIMERS)
    else:
        if i.state is S.OPEN:
            result.effects += _cancel(after, "respond")
        if i.started_at is None and after.started_at is not None:
            result.effects += _cancel(after, "start_warn", "start")
    text = t(
        f"incident.moved.{the_move.value}",
        id=i.id,
        title=i.title,
        actor=actor,
        note=f" ({note})" if note else "",
    )
    severity = Severity.SUCCESS if target is S.RESOLVED else Severity.INFO
    result.effects.append(_post(after, text, severity=severity))
    result.reply = Message(blocks=(text,), buttons=buttons(after), severity=severity)
    return result


def change_severity(
    i: Incident,
    severity: str,
    *,
    actor: str,
    now: datetime,
    reason: str,
    tech_channel: Conversation | None = None,
) -> Result:
    """A new severity re-times the SLA clocks from when the incident opened; raised to
    a severity the tech channel hears of (P0/P1), it is told at once."""
    if not i.unresolved:
        raise InvalidTransition(
            t("incident.not_open_for_severity", id=i.id, state=t(f"incident.state.{i.state}"))
        )
    after = _deadlines(replace(i, severity=severity), start=i.clock_start)
    if after.acked_at is not None:
        after = replace(after, respond_due=i.respond_due)
    if after.started_at is not None:
        after = replace(after, start_due=i.start_due)
    after = _unbreach(after, now=now)
    result = Result(
        after,
        timeline=[TimelineEntry(now, actor, "severity", f"{i.severity} → {severity}: {reason}")],
    )
    result.effects += _sla_timers(after, now=now) + _communication(after, now=now)
    text = t(
        "incident.severity_changed",
        id=i.id,
        old=i.severity,
        severity=severity,
        actor=actor,
        reason=reason,
        clocks=clocks_line(after),
    )
    result.effects.append(_post(after, text, severity=_loudness(after)))
    if (
        tech_channel is not None
        and tech_channel != i.channel
        and _tells_tech(i, severity)
        and not _tells_tech(i, i.severity)
    ):
        result.effects.append(Post(tech_channel, Message.of(text, severity=_loudness(after))))
    result.reply = Message.of(text)
    return result


def status_update(i: Incident, *, actor: str, now: datetime, text: str) -> Result:
    if not i.unresolved:
        raise InvalidTransition(
            t("incident.not_open_for_updates", id=i.id, state=t(f"incident.state.{i.state}"))
        )
    result = Result(i, timeline=[TimelineEntry(now, actor, "update", text)])
    rule = i.policy.rule(i.severity)
    if rule.update_every is not None:
        result.effects.append(_arm(i, "update", KIND_UPDATE, now + rule.update_every))
    message = t("incident.update_posted", id=i.id, actor=actor, text=text)
    result.effects.append(_post(i, message))
    result.reply = Message.of(message)
    return result


def assign(i: Incident, role: str, person: str, *, actor: str, now: datetime) -> Result:
    if role == "commander":
        after = replace(i, commander=person)
    elif role == "comms":
        after = replace(i, comms_lead=person)
    else:
        after = replace(i, scribe=person)
    text = t(
        "incident.assigned", id=i.id, role=t(f"incident.role.{role}"), person=person, actor=actor
    )
    result = Result(
        after,
        timeline=[
            TimelineEntry(
                now,
                actor,
                "assign",
                _said("incident.timeline.assign", role=t(f"incident.role.{role}"), person=person),
            )
        ],
    )
    result.effects.append(_post(after, text))
    if person != actor:
        result.effects.append(DirectMessage(person, Message.of(text), unless_in=(i.channel,)))
    result.reply = Message.of(text)
    return result


def checklist_steps(i: Incident) -> dict[str, timedelta]:
    """The communication checklist of the incident's severity: item → due after opening."""
    rule = i.policy.rule(i.severity)
    steps = {"management": rule.notify_management, "public": rule.public_notice}
    return {item: after for item, after in steps.items() if after is not None}


def tick_checklist(i: Incident, item: str, *, actor: str, now: datetime) -> Result:
    """A step of the communication plan done (told another way). A step the severity's
    plan does not time (a P2's notice: "视情况发布公告") may still be done."""
    if not i.unresolved:
        raise InvalidTransition(
            t("incident.not_open_for_updates", id=i.id, state=t(f"incident.state.{i.state}"))
        )
    after = replace(i, checklist={**i.checklist, item: actor})
    text = t("incident.checklist_done", id=i.id, item=t(f"incident.checklist.{item}"), actor=actor)
    return Result(
        after,
        effects=[*_cancel(i, item, f"{item}_ahead"), _post(after, text)],
        timeline=[TimelineEntry(now, actor, "checklist", _said(f"incident.timeline.item.{item}"))],
        reply=Message.of(text),
    )


def send_notice(
    i: Incident,
    item: str,
    *,
    actor: str,
    now: datetime,
    text: str,
    channels: Sequence[Conversation],
    people: Sequence[str],
) -> Result:
    """The notice of a communication step (management, public) sent to its audience in
    the person's own words, and the step ticked."""
    if not i.unresolved:
        raise InvalidTransition(
            t("incident.not_open_for_updates", id=i.id, state=t(f"incident.state.{i.state}"))
        )
    notice = Message.of(
        t(
            f"incident.notice.{item}",
            id=i.id,
            severity=i.severity,
            title=i.title,
            actor=actor,
            text=raw(text),
        ),
        severity=_loudness(i),
    )
    after = replace(i, checklist={**i.checklist, item: actor})
    audience = [str(c.channel) for c in channels] + [f"@{p}" for p in people]
    said = t(
        "incident.notice_sent",
        id=i.id,
        item=t(f"incident.checklist.{item}"),
        to=listed(audience),
        actor=actor,
    )
    return Result(
        after,
        effects=[
            *_cancel(i, item, f"{item}_ahead"),
            *(Post(c, notice) for c in channels),
            *(DirectMessage(p, notice, unless_in=tuple(channels)) for p in people),
            _post(after, said),
        ],
        timeline=[
            TimelineEntry(
                now,
                actor,
                "notice",
                _said(
                    "incident.timeline.notice",
                    item=t(f"incident.timeline.item.{item}"),
                    to=listed(audience),
                    text=raw(text),
                ),
            )
        ],
        reply=Message.of(said),
    )


# ---------------------------------------------------------------- clocks running out


def respond_due(i: Incident, *, now: datetime) -> Result:
    """Nobody acknowledged in time: say so where the incident lives and tell the commander
    directly (the on-call escalation takes this over when paging exists)."""
    if i.state is not S.OPEN:
        return Result(i)
    after = replace(i, respond_breached=True)
    text = t(
        "incident.respond_breached", id=i.id, severity=i.severity, title=i.title, due=i.respond_due
    )
    message = Message(blocks=(text,), severity=Severity.DANGER, buttons=buttons(i))
    return Result(
        after,
        effects=[Post(i.channel, message), *_direct(i, message)],
        timeline=[TimelineEntry(now, BOT, "sla", _said("incident.timeline.respond_missed"))],
    )


def start_warning(i: Incident, *, now: datetime) -> Result:
    """Handling has not started and its deadline is near: say so, and to the commander."""
    if not i.unresolved or i.started_at is not None or i.start_due is None:
        return Result(i)
    text = t("incident.start_warning", id=i.id, left=i.start_due - now, due=i.start_due)
    return Result(
        i, effects=[_post(i, text, severity=Severity.WARNING), *_direct(i, Message.of(text))]
    )


def start_due(i: Incident, *, now: datetime) -> Result:
    if not i.unresolved or i.started_at is not None:
        return Result(i)
    after = replace(i, start_breached=True)
    text = t("incident.start_breached", id=i.id, severity=i.severity, due=i.start_due)
    return Result(
        after,
        effects=[_post(after, text, severity=Severity.DANGER), *_direct(i, Message.of(text))],
        timeline=[TimelineEntry(now, BOT, "sla", _said("incident.timeline.start_missed"))],
    )


def resolve_warning(i: Incident, *, now: datetime) -> Result:
    if not i.unresolved or i.resolve_due is None:
        return Result(i)
    text = t("incident.resolve_warning", id=i.id, left=i.resolve_due - now, due=i.resolve_due)
    return Result(i, effects=[_post(i, text, severity=Severity.WARNING)])


def resolve_due(i: Incident, *, now: datetime) -> Result:
    if not i.unresolved:
        return Result(i)
    after = replace(i, resolve_breached=True)
    text = t("incident.resolve_breached", id=i.id, severity=i.severity, due=i.resolve_due)
    return Result(
        after,
        effects=[_post(after, text, severity=Severity.DANGER), *_direct(i, Message.of(text))],
        timeline=[TimelineEntry(now, BOT, "sla", _said("incident.timeline.resolve_missed"))],
    )


def update_due(i: Incident, *, now: datetime, said: Mapping[str, Any] | None = None) -> Result:
    """Ask for a status update when none came in ``update_every``; asked again, backed off
    (repeats.turn), while none comes. A status update starts the count over."""
    rule = i.policy.rule(i.severity)
    if not i.unresolved or rule.update_every is None:
        return Result(i)
    turn = repeats.turn(
        repeats.Said.from_json(said),
        substance=f"{i.state}|{i.severity}|{_lead(i)}",
        now=now,
        every=rule.update_every,
    )
    payload = {"incident_id": i.id, "said": turn.said.to_json()}
    again = ArmTimer(_key(i.id, "update"), KIND_UPDATE, turn.next_at, payload)
    if not turn.speak:
        return Result(i, effects=[again])
    text = t("incident.update_reminder", id=i.id, commander=_lead(i), next=turn.next_at)
    return Result(i, effects=[_post(i, text), again])


def checklist_due(i: Incident, item: str, *, now: datetime, ahead: bool = False) -> Result:
    """A communication step not done: ``ahead`` of its deadline (time left to act), or
    at it (overdue)."""
    if item in i.checklist or not i.unresolved or item not in checklist_steps(i):
        return Result(i)
    due = i.opened_at + checklist_steps(i)[item]
    text = t(
        "incident.checklist_ahead" if ahead else "incident.checklist_reminder",
        id=i.id,
        item=t(f"incident.checklist.{item}"),
        commander=_lead(i),
        due=due,
        left=due - now,
        what=item,
    )
    message = Message(
        blocks=(text,),
        severity=Severity.WARNING,
        buttons=(Button(t("button.done"), f"/incident done {i.id} {item}"),),
    )
    return Result(i, effects=[Post(i.channel, message), *_direct(i, message)])


# ---------------------------------------------------------------- triage

# Seed 000's 问题严重性分级, one question per line of it: the first "yes" decides; the
# P2 question gathers its three lines (部分功能问题, 性能小幅下降, 影响少数用户); "no" to
# every one leaves P3 (UI/UX, a non-critical function, a workaround exists).
TRIAGE = (
    ("system_down", "P0"),
    ("data_loss", "P0"),
    ("security", "P0"),
    ("core_down", "P1"),
    ("severe_performance", "P1"),
    ("most_users", "P1"),
    ("partial", "P2"),
)


def triage(answers: str) -> tuple[int, str | None]:
    """The seed's questions in order; a "yes" decides the severity, all "no" is P3.

    Returns the index of the next question to ask, or the proposed severity."""
    for index, answer in enumerate(answers):
        if answer == "y":
            return index, TRIAGE[index][1]
    if len(answers) >= len(TRIAGE):
        return len(TRIAGE), "P3"
    return len(answers), None
