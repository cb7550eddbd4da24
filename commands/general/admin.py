"""/audit, /admin and /config: the operator's view of the bot itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Choice, Integer
from commands.core.observations import Reads, observing
from commands.core.registry import Arg, CommandSpec, Flag, ParsedCommand
from playbooks.effects import ArmTimer, Conversation, Post
from playbooks.errors import InvalidTransition, NotFound
from playbooks.messages import Message, MessageField, Severity, raw, t
from playbooks.people import Role
from storage import notices
from storage.repositories import audit, channels, outbox, timers

LOCALES = ("en", "zh")
DEAD_LETTER = "delivery.dead"
QUIET_KIND = "delivery.quiet"
QUIET_FOR = timedelta(hours=1)  # one report per conversation per hour, however many fail


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the outbox gave up on, to be told to the admin channel: its row, where
    it was going (``platform:address``), why, and the admin channel as configured."""

    kind: ClassVar[str] = DEAD_LETTER
    outbox_id: int
    conversation: str
    reason: str
    admin_channel: str


def show_audit(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    entries = audit.latest(ctx.session, limit=cmd.flags["limit"])
    if not entries:
        return Message.of(t("audit.empty"))
    return Message(
        blocks=(t("audit.header", count=len(entries)),),
        fields=tuple(
            MessageField(
                t("audit.row_label", at=e.at, actor=e.actor, outcome=e.outcome),
                raw(e.text if len(e.text) <= 200 else e.text[:199] + "…"),
            )
            for e in entries
        ),
    )


def show_outbox(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    depth = outbox.depth(ctx.session)
    dead = outbox.dead(ctx.session)
    blocks = [
        t(
            "outbox.depth",
            pending=depth["pending"],
            sent=depth["sent"],
            dead=depth["dead"],
            covered=depth["covered"],
        )
    ]
    if not dead:
        blocks.append(t("outbox.no_dead"))
    return Message(
        blocks=tuple(blocks),
        fields=tuple(
            MessageField(
                t(
                    "outbox.dead_label",
                    id=row.id,
                    conversation=row.conversation_key,
                    attempts=row.attempts,
                ),
                raw(row.last_error or "-"),
            )
            for row in dead
        ),
        severity=Severity.WARNING if dead else Severity.INFO,
    )


def redeliver(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    message_id: int = cmd.args["id"]
    row = outbox.get(ctx.session, message_id=message_id)
    if row is None:
        raise NotFound(t("outbox.not_found", id=message_id))
    if row.state != "dead":
        raise InvalidTransition(t("outbox.not_dead", id=message_id, state=row.state))
    row.state, row.attempts, row.next_attempt_at = "pending", 0, ctx.now
    ctx.session.add(row)
    notices.notify(ctx.session, "outbox")
    return Message.of(t("outbox.requeued", id=message_id), severity=Severity.SUCCESS)


def set_locale(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    locale: str = cmd.args["locale"]
    channels.set_locale(
        ctx.session,
        platform=ctx.conversation.platform,
        channel=ctx.conversation.channel,
        locale=locale,
    )
    ctx.audit_detail = f"locale={locale}"
    return Message.of(t("config.locale_set", locale=locale), severity=Severity.SUCCESS)


def dead_letter(ctx: SystemContext, payload: DeadLetter) -> None:
    """A message nobody will receive is told to the admin channel, once per conversation
    an hour: a channel that is gone would otherwise report every message sent to it."""
    conversation = payload.conversation
    quiet = f"delivery:quiet:{conversation}"
    pending = timers.get(ctx.session, key=quiet)
    if pending is not None and pending.state == "pending" and pending.due_at > ctx.now:
        return
    ctx.effects.append(ArmTimer(quiet, QUIET_KIND, ctx.now + QUIET_FOR, {}))
    admin = Conversation.parse(payload.admin_channel, default_platform=ctx.home_platform)
    report = t(
        "outbox.dead_report",
        id=payload.outbox_id,
        conversation=conversation,
        reason=payload.reason,
    )
    ctx.effects.append(Post(admin, Message.of(report, severity=Severity.WARNING)))


def _quiet_over(ctx: SystemContext, timer: Any) -> None:
    """The hour of quiet is over; the next failure is reported again."""


OBSERVATION_HANDLERS = observing(Reads(DeadLetter, dead_letter))
TIMER_HANDLERS = {QUIET_KIND: _quiet_over}

SPECS = (
    CommandSpec(
        family="audit",
        verb=None,
        handler=show_audit,
        summary="help.audit.summary",
        flags=(Flag("limit", Integer(maximum=200), default=20),),
        role=Role.ADMIN,
    ),
    CommandSpec(
        family="admin",
        verb="outbox",
        handler=show_outbox,
        summary="help.admin.outbox.summary",
        role=Role.ADMIN,
    ),
    CommandSpec(
        family="admin",
        verb="redeliver",
        handler=redeliver,
        summary="help.admin.redeliver.summary",
        args=(Arg("id", Integer(metavar="ID")),),
        role=Role.ADMIN,
        changes_state=True,
    ),
    CommandSpec(
        family="config",
        verb="locale",
        handler=set_locale,
        summary="help.config.locale.summary",
        args=(Arg("locale", Choice(LOCALES)),),
        role=Role.RESPONDER,
        changes_state=True,
    ),
)
