"""Pages and their escalation. Pure: ``now`` is a parameter, and who holds a layer is
asked of a ``Resolver`` the caller builds from the schedule.

A page walks its policy's steps (snapshotted when it starts), notifying each step's
target and waiting before the next, around the chain ``repeat`` more times, until
someone acknowledges. Each step is a durable timer; a step that finds nobody to notify
says so in the team channel and goes straight on, so a page never falls into the void.

    open ──ack──► acknowledged ──resolve──► resolved
      └──────────────resolve──────────────────┘
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from playbooks import repeats
from playbooks.business_time import WorkingHours
from playbooks.effects import (
    ArmTimer,
    CancelTimer,
    Conversation,
    DirectMessage,
    Effect,
    Post,
    Priority,
)
from playbooks.errors import InvalidTransition
from playbooks.lists import capped, mentioned
from playbooks.messages import Button, ButtonStyle, Message, Severity, Text, t
from playbooks.people import EVERY_WAY

KIND_STEP = "page.step"
KIND_REMIND = "page.remind"
DEFAULT_WAIT = timedelta(minutes=5)
DEFAULT_ACK_REMINDER = timedelta(minutes=30)
# A person's ack reminders due this close together are said in one message: five pages
# acknowledged in one storm are one reminder, not five.
REMIND_TOGETHER = timedelta(minutes=5)
MAX_RESOLVE_BUTTONS = 5


class Target(StrEnum):
    LAYER = "layer"  # whoever holds the layer (primary, secondary) when the step runs
    PERSON = "person"
    MANAGER = "manager"  # the team's manager


class StepWhen(StrEnum):
    ALWAYS = "always"
    WORKING_HOURS = "working_hours"  # skipped outside the team's working hours


@dataclass(frozen=True, slots=True)
class Step:
    target: Target
    value: str = ""  # the layer or the person's handle
    wait: timedelta = DEFAULT_WAIT  # before the next step
    when: StepWhen = StepWhen.ALWAYS
    # The ways to reach whoever it is, in order, the next tried when one fails; () their
    # own ways in people.yaml's order; (EVERY_WAY,) every way they have at once.
    via: tuple[str, ...] = ()

    def describe(self) -> str:
        return {
            Target.LAYER: self.value,
            Target.PERSON: f"@{self.value}",
            Target.MANAGER: "manager",
        }[self.target]


@dataclass(frozen=True, slots=True)
class Policy:
    steps: tuple[Step, ...]
    repeat: int = 0  # times the whole chain runs again after its last step

    @property
    def length(self) -> int:
        return len(self.steps) * (self.repeat + 1)

    def step(self, position: int) -> Step:
        return self.steps[position % len(self.steps)]

    def to_json(self) -> dict[str, Any]:
        return {
            "repeat": self.repeat,
            "steps": [
                {
                    "target": s.target.value,
                    "value": s.value,
                    "wait": s.wait.total_seconds(),
                    "when": s.when.value,
                    **({"via": list(s.via)} if s.via else {}),
                }
                for s in self.steps
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        return cls(
            steps=tuple(
                Step(
                    Target(s["target"]),
                    s["value"],
                    timedelta(seconds=s["wait"]),
                    StepWhen(s.get("when", StepWhen.ALWAYS.value)),
                    tuple(s.get("via", ())),
                )
                for s in data["steps"]
            ),
            repeat=int(data["repeat"]),
        )


def direct_policy(handle: str) -> Policy:
    """``/page @carol``: carol, again every 5 minutes, three times in all."""
    return Policy((Step(Target.PERSON, handle),), repeat=2)


class PageState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Page:
    id: int
    title: str
    state: PageState
    policy: Policy
    created_at: datetime
    created_by: str
    team: str | None = None
    severity: str | None = None
    incident_id: int | None = None
    position: int = 0  # the next step to run, counted over all passes
    paged: tuple[str, ...] = ()  # everyone notified so far, in order
    acked_by: str | None = None
    acked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str  # notify | nobody | ack | escalate | exhausted | resolve
    person: str = ""
    text: str = ""
    late: bool = False


@dataclass(slots=True)
class Result:
    page: Page
    effects: list[Effect] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    reply: Message | None = None


Resolver = Callable[[Step], str | None]  # who a step reaches now, if anyone


def held_until(
    *,
    now: datetime,
    hours: WorkingHours | None,
    severity: str | None,
    defer_outside_hours: Collection[str] = frozenset(),
    hold: bool = False,
) -> datetime | None:
    """When a new page's first step runs if not at once: outside the team's working
    ``hours`` (None: a page of no team, never held), the next opening of them, for a page
    asked to ``hold`` (an incident whose policy pages in working hours) or of a severity
    the team defers (``defer_outside_hours``). None: page now."""
    if hours is None or hours.is_open(now):
        return None
    if not hold and severity not in defer_outside_hours:
        return None
    return hours.next_opening(now)


def key(page_id: int) -> str:
    return f"page:{page_id}:step"


def remind_key(page_id: int) -> str:
    return f"page:{page_id}:remind"


def _header(p: Page) -> tuple[str, str]:
    return (f"{p.severity} " if p.severity else "", p.team or "-")


def page_message(p: Page, *, again: bool = False) -> Message:
    """The page as its person reads it; ``again`` when the chain has come round to them a
    second time, which it says, with the round, rather than repeating itself."""
    severity, team = _header(p)
    page = t(
        "page.notify",
        id=p.id,
        severity=severity,
        team=team,
        title=p.title,
        actor=p.created_by,
    )
    steps = max(1, len(p.policy.steps))
    round_of = t("page.again", round=(p.position - 1) // steps + 1, rounds=p.policy.repeat + 1)
    return Message(
        blocks=(page, round_of) if again else (page,),
        severity=Severity.DANGER,
        buttons=(
            Button(t("button.ack"), f"/ack {p.id}", ButtonStyle.PRIMARY),
            Button(t("page.button.escalate"), f"/escalate {p.id}"),
        ),
    )


def escalate_due(
    p: Page,
    *,
    now: datetime,
    resolve: Resolver,
    channel: Conversation | None,
    late: bool = False,
    working_hours: bool = True,
    opens_at: datetime | None = None,
) -> Result:
    """Escalate an open page to its next step now that it is due (its first when it
    starts, the next when a step's wait is up or someone escalates by hand): notify the
    step at ``position``; one that reaches nobody is said in the team channel
    and the next runs at once, as does one limited to working hours outside them (said on
    the page's timeline). Arms the step after, or says the chain is exhausted. A page that
    paged nobody because every step waits for working hours waits for ``opens_at``
    instead of running out."""
    result = Result(p)
    if p.state is not PageState.OPEN:
        return result
    skipped = 0
    while p.position < p.policy.length:
        step = p.policy.step(p.position)
        p = replace(p, position=p.position + 1)
        if step.when is StepWhen.WORKING_HOURS and not working_hours:
            result.events.append(Event(now, "skipped", text=step.describe(), late=late))
            skipped += 1
            continue
        person = resolve(step)
        if person is None:
            result.events.append(Event(now, "nobody", text=step.describe(), late=late))
            if channel is not None:
                text = t("page.nobody", id=p.id, target=step.describe(), team=p.team or "-")
                nobody = Message.of(text, severity=Severity.WARNING)
                result.effects.append(Post(channel, nobody, priority=Priority.PAGE))
            continue
        again = person in p.paged
        p = replace(p, paged=p.paged if again else (*p.paged, person))
        result.events.append(Event(now, "notify", person, step.describe(), late=late))
        message = page_message(p, again=again)
        every = step.via == (EVERY_WAY,)
        result.effects.append(
            DirectMessage(
                person,
                message,
                priority=Priority.PAGE,
                spends_page_budget=True,
                ways=() if every else step.via,
                every_way=every,
                page_id=p.id,
            )
        )
        # The next step after this one's wait (after the last: the news that nobody answered).
        result.effects.append(ArmTimer(key(p.id), KIND_STEP, now + step.wait, {"page_id": p.id}))
        result.page = p
        return result
    if skipped and not p.paged and opens_at is not None:
        return _wait_for_hours(
            replace(p, position=0), result, now=now, until=opens_at, channel=channel
        )
    result.page = p
    result.events.append(Event(now, "exhausted", late=late))
    result.effects.append(CancelTimer(key(p.id)))  # an escalation may have run ahead of it
    if channel is not None:
        text = t("page.exhausted", id=p.id, title=p.title, paged=_people(p.paged))
        exhausted = Message.of(text, severity=Severity.DANGER)
        result.effects.append(Post(channel, exhausted, priority=Priority.PAGE))
    return result


def _wait_for_hours(
    p: Page, result: Result, *, now: datetime, until: datetime, channel: Conversation | None
) -> Result:
    """Nobody can be reached before working hours: the chain starts over when they open."""
    result.page = p
    result.events.append(Event(now, "deferred", text=until.isoformat()))
    result.effects.append(ArmTimer(key(p.id), KIND_STEP, until, {"page_id": p.id}))
    if channel is not None:
        text = t("page.waits_for_hours", id=p.id, title=p.title, at=until)
        result.effects.append(Post(channel, Message.of(text, severity=Severity.WARNING)))
    return result


def _people(handles: Sequence[str]) -> Text:
    return mentioned(handles)


def acknowledge(
    p: Page,
    *,
    actor: str,
    now: datetime,
    channel: Conversation | None,
    remind_after: timedelta | None = None,
) -> Result:
    """The first ack stops the escalation and tells everyone paged who took it; later acks
    are recorded and answered, not refused. With ``remind_after``, the acknowledger is
    reminded that often until the page is resolved."""
    if p.state is PageState.RESOLVED:
        raise InvalidTransition(t("page.already_resolved", id=p.id))
    if p.state is PageState.ACKNOWLEDGED:
        return Result(
            p,
            events=[Event(now, "ack", actor, "again")],
            reply=Message.of(t("page.already_acked", id=p.id, actor=p.acked_by, at=p.acked_at)),
        )
    after = replace(p, state=PageState.ACKNOWLEDGED, acked_by=actor, acked_at=now)
    text = t("page.acked", id=p.id, title=p.title, actor=actor)
    # Whoever acknowledged is answered in their own terms, never told of their own ack.
    answer = Message.of(t("page.acked_you", id=p.id, title=p.title), severity=Severity.SUCCESS)
    result = Result(after, events=[Event(now, "ack", actor)], reply=answer)
    result.effects.append(CancelTimer(key(p.id)))
    if remind_after is not None:
        payload = {"page_id": p.id, "every": remind_after.total_seconds()}
        result.effects.append(ArmTimer(remind_key(p.id), KIND_REMIND, now + remind_after, payload))
    told = (channel,) if channel is not None else ()
    for person in dict.fromkeys(p.paged):
        if person != actor:
            result.effects.append(
                DirectMessage(person, Message.of(text), priority=Priority.PAGE, unless_in=told)
            )
    if channel is not None:
        acked = Message.of(text, severity=Severity.SUCCESS)
        result.effects.append(Post(channel, acked, priority=Priority.PAGE))
    return result


def escalate(
    p: Page,
    *,
    actor: str,
    now: datetime,
    resolve: Resolver,
    channel: Conversation | None,
    working_hours: bool = True,
    opens_at: datetime | None = None,
) -> Result:
    """Skip the wait: the next step runs now."""
    if p.state is not PageState.OPEN:
        raise InvalidTransition(t("page.not_open", id=p.id, state=t(f"page.state.{p.state}")))
    if p.position >= p.policy.length:
        raise InvalidTransition(t("page.nothing_left", id=p.id))
    result = escalate_due(
        p,
        now=now,
        resolve=resolve,
        channel=channel,
        working_hours=working_hours,
        opens_at=opens_at,
    )
    result.events.insert(0, Event(now, "escalate", actor))
    result.reply = Message.of(t("page.escalated", id=p.id, actor=actor))
    return result


def resolve_page(p: Page, *, actor: str, now: datetime) -> Result:
    if p.state is PageState.RESOLVED:
        return Result(p)
    after = replace(p, state=PageState.RESOLVED)
    return Result(
        after,
        effects=[CancelTimer(key(p.id)), CancelTimer(remind_key(p.id))],
        events=[Event(now, "resolve", actor)],
    )


def remind(
    p: Page,
    *,
    now: datetime,
    every: timedelta,
    said: Mapping[str, Any] | None = None,
    due: datetime | None = None,
) -> Result:
    """Acknowledged and still not resolved: remind whoever acknowledged, backed off
    (repeats.turn: after ``every``, then twice that, … up to a day), each reminder naming
    the next. ``due``: when this reminder was due, when it is said before then, with
    another of the same person's (``REMIND_TOGETHER``); its backoff counts from then."""
    if p.state is not PageState.ACKNOWLEDGED or p.acked_by is None:
        return Result(p)
    turn = repeats.turn(
        repeats.Said.from_json(said),
        substance=f"{p.acked_by}",
        now=max(now, due) if due is not None else now,
        every=every,
    )
    payload = {"page_id": p.id, "every": every.total_seconds(), "said": turn.said.to_json()}
    again = ArmTimer(remind_key(p.id), KIND_REMIND, turn.next_at, payload)
    if not turn.speak:
        return Result(p, effects=[again])
    text = t(
        "page.remind",
        id=p.id,
        title=p.title,
        since=now - (p.acked_at or now),
        command=_resolve_with(p),
        next=turn.next_at,
    )
    message = Message(
        blocks=(text,),
        severity=Severity.WARNING,
        buttons=(Button(t("button.resolve"), _resolve_with(p)),),
    )
    return Result(
        p,
        # A reminder spends the person's page budget like a page: past it, it waits for
        # the fold.
        effects=[DirectMessage(p.acked_by, message, spends_page_budget=True), again],
        events=[Event(now, "remind", p.acked_by)],
    )


def said_together_until(*, now: datetime, every: timedelta) -> datetime:
    """Reminders due by then are said with one due now: within ``REMIND_TOGETHER``, and
    never as early as half their interval."""
    return now + min(REMIND_TOGETHER, every / 2)


def remind_together(reminded: Sequence[Result], *, now: datetime) -> list[Effect]:
    """The effects of the reminders of several pages one person acknowledged, due
    together: every page's timer moved on, and what they say as one message (the first's,
    listing each page with how long it has been acknowledged and how to resolve it)."""
    effects = [e for r in reminded for e in r.effects]
    speaking = [r for r in reminded if reminder_said(r) is not None]
    if len(speaking) < 2:
        return effects
    pages = [r.page for r in speaking]
    shown, rest = capped(pages)
    lines: list[Text] = [t("page.remind_many", count=len(pages))]
    lines += [
        t(
            "page.remind_line",
            id=p.id,
            title=p.title,
            since=now - (p.acked_at or now),
            command=_resolve_with(p),
        )
        for p in shown
    ]
    if rest is not None:
        lines.append(rest)
    nexts = [e.due_at for r in speaking for e in r.effects if isinstance(e, ArmTimer)]
    lines.append(t("page.remind_next", next=min(nexts)))
    buttons = {_resolve_with(p): _resolve_button(p) for p in shown}  # one an incident
    message = Message(
        blocks=tuple(lines),
        severity=Severity.WARNING,
        buttons=tuple(buttons.values())[:MAX_RESOLVE_BUTTONS],
    )
    first = reminder_said(speaking[0])
    assert first is not None
    said = [reminder_said(r) for r in speaking]
    return [
        replace(first, message=message) if e is first else e
        for e in effects
        if e is first or not any(e is s for s in said)
    ]


def reminder_said(r: Result) -> DirectMessage | None:
    """The ack reminder ``r`` says, if it says one now (one the page budget held is not)."""
    return next(
        (e for e in r.effects if isinstance(e, DirectMessage) and e.spends_page_budget), None
    )


def _resolve_with(p: Page) -> str:
    return f"/incident resolve {p.incident_id}" if p.incident_id else f"/resolve {p.id}"


def _resolve_button(p: Page) -> Button:
    if p.incident_id:
        return Button(t("page.resolve_incident_button", id=p.incident_id), _resolve_with(p))
    return Button(t("page.resolve_page_button", id=p.id), _resolve_with(p))


def defer(p: Page, *, until: datetime, now: datetime) -> Result:
    """Hold the page's first step until ``until`` (a P3 outside working hours waits for
    the next working morning); the timer that runs it is durable like any step."""
    result = Result(p, events=[Event(now, "deferred", text=until.isoformat())])
    result.effects.append(ArmTimer(key(p.id), KIND_STEP, until, {"page_id": p.id}))
    return result


def respond_missed(
    p: Page, *, now: datetime, until: datetime | None, channel: Conversation | None
) -> Result:
    """The incident's respond deadline passed while its page waits for working hours:
    said on the timeline and in the team channel, never silently."""
    result = Result(p, events=[Event(now, "respond_missed")])
    if channel is not None:
        if until is not None:
            text = t("page.respond_missed_held", id=p.id, title=p.title, at=until)
        else:
            text = t("page.respond_missed_due", id=p.id, title=p.title)
        result.effects.append(Post(channel, Message.of(text, severity=Severity.WARNING)))
    return result
