"""/remind and /reminders: post a message here later, durably."""

from __future__ import annotations

from datetime import datetime, timedelta

from commands.core.context import CommandContext, TimerContext
from commands.core.grammar import Integer, When, Word, free_text
from commands.core.registry import Arg, CommandSpec, ParsedCommand
from playbooks import reminders as rules
from playbooks.effects import Conversation
from playbooks.errors import NotFound
from playbooks.messages import Message, MessageField, raw, t
from playbooks.people import Role
from storage.models import Reminder, Timer
from storage.repositories import reminders as repo

MAX_TEXT = 2000
MAX_LISTED = 20


def _view(row: Reminder) -> rules.ReminderView:
    assert row.id is not None
    return rules.ReminderView(
        id=row.id,
        conversation=Conversation(row.platform, row.channel),
        author=row.author,
        text=row.text,
        due_at=row.due_at,
        state=rules.ReminderState(row.state),
    )


def remind(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    when: timedelta | datetime = cmd.args["when"]
    text = free_text(
        cmd.args["text"], limit=MAX_TEXT, needed=t("reminder.empty"), usage=cmd.spec.usage()
    )
    due_at = ctx.now + when if isinstance(when, timedelta) else when
    rules.validate_due(due_at=due_at, now=ctx.now)
    row = repo.add(
        ctx.session,
        platform=ctx.conversation.platform,
        channel=ctx.conversation.channel,
        author=ctx.actor.handle,
        text=text,
        due_at=due_at,
        now=ctx.now,
    )
    reply, effects = rules.schedule(_view(row), now=ctx.now)
    ctx.effects += effects
    ctx.audit_detail = f"reminder {row.id} due {due_at.isoformat()}"
    return reply


def list_reminders(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    total = repo.count_pending_in(
        ctx.session, platform=ctx.conversation.platform, channel=ctx.conversation.channel
    )
    if not total:
        return Message.of(t("reminder.none"))
    rows = repo.pending_in(
        ctx.session,
        platform=ctx.conversation.platform,
        channel=ctx.conversation.channel,
        limit=MAX_LISTED,
    )
    views = [_view(row) for row in rows]
    blocks = [t("reminder.list_header", count=total)]
    if total > len(views):
        blocks.append(t("reminder.list_more", shown=len(views), total=total))
    return Message(
        blocks=tuple(blocks),
        fields=tuple(
            MessageField(
                t("reminder.list_label", id=v.id, due_at=v.due_at, delay=v.due_at - ctx.now),
                raw(f"{v.text} (@{v.author})"),
            )
            for v in views
        ),
        buttons=tuple(rules.cancel_button(v.id) for v in views[:5]),
    )


def cancel_reminder(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    reminder_id: int = cmd.args["id"]
    row = repo.get(ctx.session, reminder_id=reminder_id)
    if row is None:
        raise NotFound(t("reminder.not_found", id=reminder_id))
    reply, effects = rules.cancel(
        _view(row), by=ctx.actor.handle, may_cancel_others=ctx.actor.has_role(Role.ADMIN)
    )
    row.state, row.cancelled_by = rules.ReminderState.CANCELLED.value, ctx.actor.handle
    ctx.session.add(row)
    ctx.effects += effects
    return reply


def reminder_due(ctx: TimerContext, timer: Timer) -> None:
    row = repo.get(ctx.session, reminder_id=int(timer.payload["reminder_id"]))
    if row is None:
        return
    effects = rules.fire(_view(row), late_by=ctx.late_by)
    if effects:
        ctx.effects += effects
        row.state = rules.ReminderState.SENT.value
        ctx.session.add(row)


SPECS = (
    CommandSpec(
        family="remind",
        verb=None,
        handler=remind,
        summary="help.remind.summary",
        args=(Arg("when", When()), Arg("text", Word(), rest=True)),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    CommandSpec(
        family="reminders",
        verb=None,
        handler=list_reminders,
        summary="help.reminders.summary",
    ),
    CommandSpec(
        family="reminders",
        verb="cancel",
        handler=cancel_reminder,
        summary="help.reminders.cancel.summary",
        args=(Arg("id", Integer(metavar="ID")),),
        role=Role.RESPONDER,
        changes_state=True,
    ),
)

TIMER_HANDLERS = {rules.TIMER_KIND: reminder_due}
