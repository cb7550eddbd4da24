"""Reminders: a message posted back to a conversation at a later time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from playbooks.effects import ArmTimer, CancelTimer, Conversation, Effect, Post
from playbooks.errors import InvalidTransition, UsageError
from playbooks.messages import Button, ButtonStyle, Message, Severity, raw, t

TIMER_KIND = "reminder.due"
MAX_AHEAD = timedelta(days=366)


class ReminderState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ReminderView:
    """What the rules need to know of a stored reminder."""

    id: int
    conversation: Conversation
    author: str
    text: str
    due_at: datetime
    state: ReminderState


def timer_key(reminder_id: int) -> str:
    return f"reminder:{reminder_id}"


def validate_due(*, due_at: datetime, now: datetime) -> None:
    """Refuse a time that has passed or lies absurdly far ahead."""
    if due_at <= now:
        raise UsageError(t("reminder.in_past", due_at=due_at, now=now))
    if due_at - now > MAX_AHEAD:
        raise UsageError(t("reminder.too_far", limit=MAX_AHEAD))


def schedule(reminder: ReminderView, *, now: datetime) -> tuple[Message, list[Effect]]:
    """The reply and effects for a reminder just stored."""
    reply = Message(
        blocks=(
            t(
                "reminder.set",
                id=reminder.id,
                due_at=reminder.due_at,
                delay=reminder.due_at - now,
                text=reminder.text,
            ),
        ),
        buttons=(cancel_button(reminder.id),),
        severity=Severity.SUCCESS,
    )
    effects: list[Effect] = [
        ArmTimer(
            key=timer_key(reminder.id),
            kind=TIMER_KIND,
            due_at=reminder.due_at,
            payload={"reminder_id": reminder.id},
        )
    ]
    return reply, effects


def cancel_button(reminder_id: int) -> Button:
    return Button(
        label=t("reminder.button.cancel"),
        command=f"/reminders cancel {reminder_id}",
        style=ButtonStyle.DANGER,
    )


def cancel(
    reminder: ReminderView, *, by: str, may_cancel_others: bool
) -> tuple[Message, list[Effect]]:
    """Cancel a pending reminder: its author or an admin may."""
    if reminder.state is not ReminderState.PENDING:
        raise InvalidTransition(
            t("reminder.not_pending", id=reminder.id, state=t(f"reminder.state.{reminder.state}"))
        )
    if reminder.author != by and not may_cancel_others:
        raise InvalidTransition(t("reminder.not_yours", id=reminder.id, author=reminder.author))
    reply = Message.of(t("reminder.cancelled", id=reminder.id, text=reminder.text))
    return reply, [CancelTimer(timer_key(reminder.id))]


def fire(reminder: ReminderView, *, late_by: timedelta | None) -> list[Effect]:
    """The reminder's time has come: post it where it was set."""
    if reminder.state is not ReminderState.PENDING:
        return []
    blocks = [t("reminder.due", author=reminder.author), raw(reminder.text)]
    if late_by is not None:
        blocks.append(t("reminder.late", late_by=late_by))
    return [Post(reminder.conversation, Message(blocks=tuple(blocks), severity=Severity.INFO))]
