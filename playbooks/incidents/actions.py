"""Follow-up actions of an incident: what was promised, by whom, by when. Pure: the
rules for adding, finishing and dropping one, when its owner is reminded, what blocks
closing the incident, and how actions read in a card, a postmortem and a report.

An action due on a day reminds its owner at ``REMIND_AT`` (their time) the day before,
on the day, then weekly while it stays open. One durable timer per action carries it
from one reminder to the next; finishing or dropping the action cancels it. A reminder
fired late (the bot was down) says how things stand now and arms the next one after
now, so reminders missed while down are never said one after another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from playbooks.effects import ArmTimer, CancelTimer, Conversation, DirectMessage, Effect
from playbooks.errors import InvalidTransition, UsageError
from playbooks.incidents.machine import TimelineEntry
from playbooks.messages import Message, MessageField, Severity, Text, raw, t

TIMER_KIND = "incident.action_due"
TIMELINE_KIND = "action"  # added; closed ones are "action_done" and "action_dropped"
FORCED_KIND = "forced"  # closed with open P0/P1 actions
MAX_TEXT = 500
MAX_AHEAD = timedelta(days=366)
REMIND_AT = time(9, 0)  # in the owner's timezone
WEEK = timedelta(days=7)
BLOCKING = frozenset({"P0", "P1"})  # open actions of these priorities keep an incident open
_RELATIVE = re.compile(r"^\+?(\d{1,3})([dw])$")


class ActionState(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Action:
    """What the rules need to know of a stored action."""

    id: int
    incident_id: int
    text: str
    owner: str
    priority: str
    state: ActionState
    created_at: datetime
    created_by: str
    due: date | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    note: str = ""

    @property
    def is_open(self) -> bool:
        return self.state is ActionState.OPEN

    def overdue(self, today: date) -> bool:
        return self.is_open and self.due is not None and self.due < today


@dataclass(slots=True)
class Outcome:
    """An action after a change, the lines for its incident's timeline, the effects and
    the reply."""

    action: Action
    reply: Message
    effects: list[Effect]
    timeline: list[TimelineEntry]


def timer_key(action_id: int) -> str:
    return f"incident-action:{action_id}"


def parse_due(word: str, *, today: date) -> date:
    """``2026-12-24``, or a number of days or weeks from today (``3d``, ``2w``); never a
    day before today."""
    value = word.strip().lower()
    relative = _RELATIVE.match(value)
    if relative:
        count = int(relative.group(1))
        due = today + timedelta(days=count * (7 if relative.group(2) == "w" else 1))
    else:
        try:
            due = date.fromisoformat(value)
        except ValueError:
            raise UsageError(t("action.bad_due", value=word)) from None
    if due < today:
        raise UsageError(t("action.due_past", due=due.isoformat(), today=today.isoformat()))
    if due - today > MAX_AHEAD:
        raise UsageError(t("action.due_far", due=due.isoformat()))
    return due


def reminder_times(due: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The day-before and the on-the-day reminders of an action due on ``due``."""
    before = datetime.combine(due - timedelta(days=1), REMIND_AT, tzinfo=tz)
    on_day = datetime.combine(due, REMIND_AT, tzinfo=tz)
    return before, on_day


def next_reminder(action: Action, *, tz: tzinfo, now: datetime) -> datetime | None:
    """When the owner of an open action is reminded next: the first of the day before,
    the day itself and every week after it that is still ahead of ``now``."""
    if not action.is_open or action.due is None:
        return None
    before, on_day = reminder_times(action.due, tz)
    for at in (before, on_day):
        if at > now:
            return at
    weeks = (now - on_day) // WEEK + 1
    return on_day + WEEK * weeks


def _arm(action: Action, *, tz: tzinfo, now: datetime) -> list[Effect]:
    at = next_reminder(action, tz=tz, now=now)
    if at is None:
        return []
    return [ArmTimer(timer_key(action.id), TIMER_KIND, at, {"action_id": action.id})]


def _due_text(action: Action, today: date) -> Text:
    if action.due is None:
        return t("action.no_due")
    if action.due == today:
        return t("action.due_today", due=action.due.isoformat())
    if action.due == today + timedelta(days=1):
        return t("action.due_tomorrow", due=action.due.isoformat())
    if action.due < today:
        return t("action.overdue", due=action.due.isoformat(), days=(today - action.due).days)
    return t("action.due_on", due=action.due.isoformat())


def add(
    action: Action,
    *,
    incident_title: str,
    tz: tzinfo,
    now: datetime,
    here_is_owner: bool,
    here: Conversation | None = None,
) -> Outcome:
    """An action just stored: its owner told (unless they asked for it themselves, or
    are in ``here``, where the reply says it) and its first reminder armed."""
    today = now.astimezone(tz).date()
    due = _due_text(action, today)
    reply = Message(
        blocks=(
            t(
                "action.added",
                n=action.id,
                id=action.incident_id,
                owner=action.owner,
                priority=action.priority,
                due=due,
            ),
            raw(action.text),
        ),
        severity=Severity.SUCCESS,
    )
    effects: list[Effect] = []
    if not here_is_owner:
        effects.append(
            DirectMessage(
                action.owner,
                Message(
                    blocks=(
                        t(
                            "action.assigned",
                            n=action.id,
                            id=action.incident_id,
                            title=incident_title,
                            actor=action.created_by,
                            priority=action.priority,
                            due=due,
                        ),
                        raw(action.text),
                    )
                ),
                unless_in=(here,) if here is not None else (),
            )
        )
    effects += _arm(action, tz=tz, now=now)
    entry = TimelineEntry(
        now, action.created_by, TIMELINE_KIND, f"#{action.id} @{action.owner}: {action.text}"
    )
    return Outcome(action, reply, effects, [entry])


def _close(
    action: Action, state: ActionState, *, actor: str, now: datetime, note: str, key: str
) -> Outcome:
    if not action.is_open:
        raise InvalidTransition(
            t("action.not_open", n=action.id, state=t(f"action.state.{action.state}"))
        )
    after = replace(action, state=state, closed_at=now, closed_by=actor, note=note)
    reply = Message.of(t(key, n=action.id, id=action.incident_id, actor=actor, text=action.text))
    line = f"#{action.id} {action.text}" + (f" ({note})" if note else "")
    return Outcome(
        after,
        reply,
        [CancelTimer(timer_key(action.id))],
        [TimelineEntry(now, actor, f"{TIMELINE_KIND}_{state.value}", line)],
    )


def done(action: Action, *, actor: str, now: datetime, note: str = "") -> Outcome:
    return _close(action, ActionState.DONE, actor=actor, now=now, note=note, key="action.done")


def drop(action: Action, *, actor: str, now: datetime, reason: str) -> Outcome:
    return _close(
        action, ActionState.DROPPED, actor=actor, now=now, note=reason, key="action.dropped"
    )


def remind(action: Action, *, tz: tzinfo, now: datetime) -> list[Effect]:
    """A reminder's time has come: how the action stands today, to its owner, and the
    next reminder armed. Nothing for an action no longer open."""
    if not action.is_open or action.due is None:
        return []
    today = now.astimezone(tz).date()
    message = Message(
        blocks=(
            t("action.reminder", n=action.id, id=action.incident_id, due=_due_text(action, today)),
            raw(action.text),
            t("action.reminder_how", n=action.id),
        ),
        severity=Severity.WARNING if action.due <= today else Severity.INFO,
    )
    return [DirectMessage(action.owner, message), *_arm(action, tz=tz, now=now)]


def blocking(actions: Sequence[Action]) -> list[Action]:
    """The open actions that keep an incident from closing, unless forced."""
    return [a for a in actions if a.is_open and a.priority in BLOCKING]


def numbers(actions: Sequence[Action]) -> str:
    return ", ".join(f"#{a.id}" for a in actions)


def line(action: Action, *, today: date, with_incident: bool = False) -> Text:
    """One action as a line: its number, priority, owner, text and where it stands."""
    return t(
        "action.line_incident" if with_incident else "action.line",
        n=action.id,
        id=action.incident_id,
        priority=action.priority,
        owner=action.owner,
        text=action.text,
        where=_where(action, today),
    )


def _where(action: Action, today: date) -> Text:
    return _due_text(action, today) if action.is_open else t(f"action.state.{action.state}")


def fields(actions: Sequence[Action], *, today: date) -> tuple[MessageField, ...]:
    """The actions as fields of an incident's card."""
    return tuple(
        MessageField(
            t("action.field", n=a.id, priority=a.priority),
            t(
                "action.field_value",
                owner=a.owner,
                text=a.text,
                where=_where(a, today),
            ),
        )
        for a in actions
    )


def listing(actions: Sequence[Action], *, today: date, header: Text) -> Message:
    if not actions:
        return Message.of(t("action.none"))
    return Message(
        blocks=(header, *(line(a, today=today, with_incident=True) for a in actions)),
    )


@dataclass(frozen=True, slots=True)
class WeekOfActions:
    """The actions a weekly report speaks of."""

    open: tuple[Action, ...]
    overdue: tuple[Action, ...]
    closed: tuple[Action, ...]


def week_of(
    actions: Sequence[Action], *, start: datetime, end: datetime, today: date
) -> WeekOfActions:
    """Open ones (as of ``end``), the overdue among them, and those closed in
    (start, end]."""
    still_open = tuple(a for a in actions if a.is_open)
    return WeekOfActions(
        open=still_open,
        overdue=tuple(a for a in still_open if a.overdue(today)),
        closed=tuple(
            a
            for a in actions
            if not a.is_open and a.closed_at is not None and start < a.closed_at <= end
        ),
    )


MAX_LISTED = 10


def report_blocks(week: WeekOfActions, *, today: date) -> list[Text]:
    """The weekly report's follow-up actions: counts, then the overdue and the closed."""
    blocks: list[Text] = [
        t(
            "action.report.section",
            open=len(week.open),
            overdue=len(week.overdue),
            closed=len(week.closed),
        )
    ]
    if not (week.open or week.closed):
        return blocks
    blocks += [line(a, today=today, with_incident=True) for a in week.overdue[:MAX_LISTED]]
    blocks += [line(a, today=today, with_incident=True) for a in week.closed[:MAX_LISTED]]
    hidden = max(len(week.overdue) - MAX_LISTED, 0) + max(len(week.closed) - MAX_LISTED, 0)
    if hidden:
        blocks.append(t("list.more_lines", more=hidden))
    return blocks
