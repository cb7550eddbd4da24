"""The one road every request travels: ledger → parse → authorize → handle → effects → commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from commands import effects as effect_writer
from commands.context import CommandContext, TimerContext
from commands.invocations import ButtonPress, CommandInvocation, Outcome, TimerFired
from commands.registry import CommandTable, ParsedCommand
from playbooks.effects import Conversation
from playbooks.errors import PermissionDenied, ShipwatchError, UsageError
from playbooks.messages import Message, Severity, Text, t
from playbooks.people import Directory, Person, guest
from storage.models import Timer
from storage.repositories import actions, audit, channels, ledger, timers
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.pipeline")

TimerHandler = Callable[[TimerContext, Timer], None]


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the application layer needs from the outside world, built by the bot."""

    engine: Engine
    directory: Directory
    table: CommandTable
    timer_handlers: Mapping[str, TimerHandler]
    tz: tzinfo
    default_locale: str
    new_token: Callable[[], str]
    reachable_platforms: frozenset[str] = frozenset({"console"})
    late_after: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class _Parse:
    tz: tzinfo


def run_command(inv: CommandInvocation, *, runtime: Runtime, now: datetime) -> Outcome:
    """Handle a typed command from start to reply."""
    actor = _actor(runtime.directory, inv.platform, inv.user_id)
    if inv.event_id and _already_seen(runtime.engine, inv.platform, inv.event_id):
        return Outcome(status="duplicate", command="-", reply_to=inv.conversation)
    try:
        command = runtime.table.parse(inv.text, _Parse(runtime.tz))
    except UsageError as error:
        _remember_only(runtime.engine, inv, now=now)
        return _refusal(runtime, inv, status="usage", command="-", message=_usage_message(error))
    spec = command.spec
    if spec.role is not None and not actor.has_role(spec.role):
        denial = PermissionDenied(command=f"/{spec.name}", role=spec.role.value)
        _audit_alone(
            runtime.engine,
            inv,
            actor=actor,
            command=command,
            now=now,
            outcome="denied",
            detail=spec.role,
        )
        return _refusal(
            runtime, inv, status="denied", command=spec.name, message=_error_message(denial.text)
        )
    try:
        with unit_of_work(runtime.engine) as session:
            if inv.event_id:
                ledger.remember(session, source=inv.platform, event_id=inv.event_id, now=now)
            ctx = CommandContext(
                session=session,
                now=now,
                actor=actor,
                conversation=inv.conversation,
                directory=runtime.directory,
                table=runtime.table,
                tz=runtime.tz,
            )
            reply = spec.handler(ctx, command)
            applied = effect_writer.apply(
                session,
                ctx.effects,
                now=now,
                directory=runtime.directory,
                new_token=runtime.new_token,
                reachable=runtime.reachable_platforms,
            )
            reply = effect_writer.with_tokens(
                session,
                reply,
                conversation=inv.conversation,
                now=now,
                new_token=runtime.new_token,
            )
            if spec.changes_state:
                _audit(
                    session,
                    inv,
                    actor=actor,
                    command=command,
                    now=now,
                    outcome="ok",
                    detail=ctx.audit_detail,
                )
            locale = _locale(session, inv.conversation, runtime.default_locale)
    except IntegrityError:
        if inv.event_id and _already_seen(runtime.engine, inv.platform, inv.event_id):
            return Outcome(status="duplicate", command=spec.name, reply_to=inv.conversation)
        return _internal_error(runtime, inv, actor=actor, command=command, now=now)
    except ShipwatchError as error:
        outcome = "usage" if isinstance(error, UsageError) else "refused"
        if spec.changes_state:
            _audit_alone(
                runtime.engine,
                inv,
                actor=actor,
                command=command,
                now=now,
                outcome=outcome,
                detail=error.text.key,
            )
        else:
            _remember_only(runtime.engine, inv, now=now)
        message = (
            _usage_message(error) if isinstance(error, UsageError) else _error_message(error.text)
        )
        return _refusal(runtime, inv, status=outcome, command=spec.name, message=message)
    except Exception:
        return _internal_error(runtime, inv, actor=actor, command=command, now=now)
    return Outcome(
        status="ok",
        command=spec.name,
        reply=reply,
        reply_to=inv.conversation,
        locale=locale,
        armed=applied.armed,
        cancelled=applied.cancelled,
        enqueued=applied.enqueued,
    )


def _internal_error(
    runtime: Runtime,
    inv: CommandInvocation,
    *,
    actor: Person,
    command: ParsedCommand,
    now: datetime,
) -> Outcome:
    """A bug or an outage: the transaction is rolled back; the log has the traceback and the
    person a reference to quote, never the traceback itself."""
    reference = uuid.uuid4().hex[:8]
    log.exception("command failed", extra={"ref": reference, "command": command.spec.name})
    if command.spec.changes_state:
        _audit_alone(
            runtime.engine,
            inv,
            actor=actor,
            command=command,
            now=now,
            outcome="error",
            detail=reference,
        )
    message = internal_error_message(reference)
    return _refusal(runtime, inv, status="error", command=command.spec.name, message=message)


def internal_error_message(reference: str) -> Message:
    return _error_message(t("error.internal", ref=reference))


def run_press(press: ButtonPress, *, runtime: Runtime, now: datetime) -> Outcome:
    """A button stands for a command: run it as the person who pressed it, where it was shown."""
    with unit_of_work(runtime.engine) as session:
        token = actions.get(session, token=press.action_id)
    if token is None or token.expires_at <= now:
        key = "button.unknown" if token is None else "button.expired"
        inv = CommandInvocation(press.platform, press.user_id, press.conversation, "")
        return _refusal(
            runtime, inv, status="usage", command="press", message=_error_message(t(key))
        )
    inv = CommandInvocation(
        platform=press.platform,
        user_id=press.user_id,
        conversation=Conversation(token.platform, token.channel),
        text=token.command,
        event_id=press.event_id,
    )
    return run_command(inv, runtime=runtime, now=now)


def run_timer(fired: TimerFired, *, runtime: Runtime, now: datetime) -> Outcome:
    """A durable timer is due: claim it exactly once and run its handler."""
    name = "timer"
    try:
        with unit_of_work(runtime.engine) as session:
            row = timers.get(session, key=fired.key)
            if row is None:
                return Outcome(status="ignored", command=name)
            name = f"timer:{row.kind}"
            handler = runtime.timer_handlers.get(row.kind)
            if handler is None:
                # Written by a newer version, perhaps: leave it pending for one that knows it.
                log.error("no handler for timer kind", extra={"kind": row.kind, "timer": row.key})
                return Outcome(status="error", command=name)
            late_by = now - row.due_at
            late = late_by > runtime.late_after
            claimed = timers.claim(session, key=fired.key, now=now, late=late)
            if claimed is None:
                return Outcome(status="ignored", command=name)
            ctx = TimerContext(
                session=session,
                now=now,
                directory=runtime.directory,
                late_by=late_by if late else None,
            )
            handler(ctx, claimed)
            applied = effect_writer.apply(
                session,
                ctx.effects,
                now=now,
                directory=runtime.directory,
                new_token=runtime.new_token,
                reachable=runtime.reachable_platforms,
            )
    except DBAPIError:
        # The database hiccuped (locked, failing over): the claim rolled back with
        # everything else, so the timer is still pending and the next sweep retries it.
        log.exception("timer could not fire; will retry", extra={"timer": fired.key})
        return Outcome(status="error", command=name)
    except Exception:
        # A bug in the handler would fail the same way every time: set the timer aside.
        log.exception("timer failed", extra={"timer": fired.key})
        with unit_of_work(runtime.engine) as session:
            timers.mark_failed(session, key=fired.key, now=now)
        return Outcome(status="error", command=name)
    return Outcome(
        status="ok",
        command=name,
        armed=applied.armed,
        cancelled=applied.cancelled,
        enqueued=applied.enqueued,
    )


def _actor(directory: Directory, platform: str, user_id: str) -> Person:
    return directory.by_identity(platform, user_id) or guest(platform, user_id)


def _already_seen(engine: Engine, source: str, event_id: str) -> bool:
    with unit_of_work(engine) as session:
        return ledger.seen(session, source=source, event_id=event_id)


def _remember_only(engine: Engine, inv: CommandInvocation, *, now: datetime) -> None:
    if not inv.event_id:
        return
    try:
        with unit_of_work(engine) as session:
            ledger.remember(session, source=inv.platform, event_id=inv.event_id, now=now)
    except IntegrityError:
        pass  # a twin delivery recorded it first; nothing else was written


def _audit(
    session: Session,
    inv: CommandInvocation,
    *,
    actor: Person,
    command: ParsedCommand,
    now: datetime,
    outcome: str,
    detail: str,
) -> None:
    audit.record(
        session,
        at=now,
        actor=actor.handle,
        platform=inv.platform,
        conversation=str(inv.conversation),
        command=command.spec.name,
        text=command.text,
        outcome=outcome,
        detail=detail,
    )


def _audit_alone(
    engine: Engine,
    inv: CommandInvocation,
    *,
    actor: Person,
    command: ParsedCommand,
    now: datetime,
    outcome: str,
    detail: str,
) -> None:
    """Audit a refused command in a transaction of its own: nothing else is written."""
    try:
        with unit_of_work(engine) as session:
            if inv.event_id:
                ledger.remember(session, source=inv.platform, event_id=inv.event_id, now=now)
            _audit(
                session,
                inv,
                actor=actor,
                command=command,
                now=now,
                outcome=outcome,
                detail=detail,
            )
    except IntegrityError:
        pass


def _locale(session: Session, conversation: Conversation, default: str) -> str:
    return (
        channels.locale(session, platform=conversation.platform, channel=conversation.channel)
        or default
    )


def _refusal(
    runtime: Runtime, inv: CommandInvocation, *, status: str, command: str, message: Message
) -> Outcome:
    with unit_of_work(runtime.engine) as session:
        locale = _locale(session, inv.conversation, runtime.default_locale)
    return Outcome(
        status=status, command=command, reply=message, reply_to=inv.conversation, locale=locale
    )


def _error_message(text: Text) -> Message:
    return Message.of(text, severity=Severity.WARNING)


def _usage_message(error: ShipwatchError) -> Message:
    blocks = [error.text]
    usage = getattr(error, "usage", None)
    if usage:
        blocks.append(t("grammar.usage", usage=usage))
    return Message(blocks=tuple(blocks), severity=Severity.WARNING)
