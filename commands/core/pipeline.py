"""The one road every request travels: ledger → parse → authorize → handle → effects → commit."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from commands.core import effects as effect_writer
from commands.core import rooms, ways
from commands.core.context import CommandContext, SignInLinks, SystemContext
from commands.core.invocations import (
    ButtonPress,
    CommandInvocation,
    Inbound,
    Invocation,
    Observation,
    Outcome,
    TimerFired,
)
from commands.core.observations import ObservationHandler
from commands.core.registry import CommandTable, ParsedCommand
from playbooks.effects import Conversation, Effect
from playbooks.errors import PermissionDenied, ShipwatchError, UsageError
from playbooks.incidents.policy import IncidentSettings, default_settings
from playbooks.messages import Message, Severity, Text, t
from playbooks.oncall.teams import Team
from playbooks.people import Directory, Person, guest
from playbooks.releases.plan import ReleaseCatalog
from playbooks.reports.metrics import SummarySettings
from storage.models import Timer
from storage.repositories import actions, audit, channels, ledger, timers
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.pipeline")
_T = TypeVar("_T")
# What losing a race to another request looks like: a unique row it created first, or a
# deadlock / lock wait it won. The request is run once more in a fresh transaction, where
# it sees the winner's rows and answers as it would have after it.
_LOST_RACE = (IntegrityError, OperationalError)

TimerHandler = Callable[[SystemContext, Timer], None]
InboundHandler = Callable[[SystemContext, Any], Mapping[str, Any]]


class RecentIds:
    """Event ids known to be in the ledger, newest kept: a repeated delivery is answered
    without a database read. Only ever a shortcut: the ledger stays the truth.

    Requests run on several database threads at once (PostgreSQL), hence the lock.
    """

    def __init__(self, size: int = 50_000) -> None:
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __contains__(self, key: tuple[str, str]) -> bool:
        with self._lock:
            return key in self._ids

    def add(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._ids[key] = None
            self._ids.move_to_end(key)
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)


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
    # (platform, user id) → whether a direct message there can be delivered; a person's
    # first identity that passes is where their direct messages go.
    can_reach: Callable[[str, str], bool] = ways.anyone
    late_after: timedelta = timedelta(seconds=30)
    releases: ReleaseCatalog = field(default_factory=ReleaseCatalog)
    incidents: IncidentSettings = field(default_factory=default_settings)
    observation_handlers: Mapping[str, ObservationHandler] = field(default_factory=dict)
    inbound_handlers: Mapping[str, InboundHandler] = field(default_factory=dict)
    teams: Mapping[str, Team] = field(default_factory=dict)
    home_platform: str = "console"  # where "#incidents" is when config names no platform
    recent: RecentIds = field(default_factory=RecentIds)
    summaries: SummarySettings = field(default_factory=SummarySettings)
    drill: bool = False  # a rehearsal: simulated numbers need no warning
    sign_in: SignInLinks | None = None  # the web console's sign-in links (/web)
    # a team's channel (by name) → the team's timezone: where its times are read and shown
    channel_zones: Mapping[str, tzinfo] = field(default_factory=dict)

    def reading_zone(self, conversation: Conversation, reader: Person | None = None) -> tzinfo:
        """Where a person reads the times of a reply and writes bare ones: a team's
        channel keeps the team's timezone; elsewhere the reader's own, else the default."""
        zone = self.channel_zones.get(conversation.channel)
        if zone is None and reader is not None:
            zone = reader.tz
        return zone or self.tz


@dataclass(frozen=True, slots=True)
class _Parse:
    tz: tzinfo


def run_command(inv: CommandInvocation, *, runtime: Runtime, now: datetime) -> Outcome:
    """Handle a typed command from start to reply."""
    request = _Request(runtime, inv, _actor(runtime.directory, inv.platform, inv.user_id), now)
    if request.already_seen():
        return Outcome(status="duplicate", command="-", reply_to=inv.conversation)
    # In an incident's room, its commands need no id.
    text = rooms.with_room_incident(
        runtime.engine, inv.text, conversation=inv.conversation, table=runtime.table
    )
    try:
        command = runtime.table.parse(text, _Parse(request.zone))
    except UsageError as error:
        request.record_refusal(outcome="usage", detail=error.text.key)
        return request.answer("usage", _usage_message(error))
    request.command = command
    spec = command.spec
    if spec.role is not None and not request.actor.has_role(spec.role):
        denial = PermissionDenied(command=f"/{spec.name}", role=spec.role.value)
        request.record_refusal(outcome="denied", detail=spec.role.value, said=denial.text)
        return request.answer("denied", _error_message(denial.text))

    def handle() -> tuple[Message, effect_writer.Applied, str]:
        with unit_of_work(runtime.engine) as session:
            request.remember(session)
            ctx = CommandContext(
                session=session,
                now=now,
                actor=request.actor,
                conversation=rooms.addressed(session, inv.conversation),
                directory=runtime.directory,
                table=runtime.table,
                tz=runtime.tz,
                releases=runtime.releases,
                incidents=runtime.incidents,
                teams=runtime.teams,
                summaries=runtime.summaries,
                reachable=runtime.reachable_platforms,
                drill=runtime.drill,
                sign_in=runtime.sign_in,
                home_platform=runtime.home_platform,
            )
            seen = rooms.watch(session, ctx.conversation, spec)
            reply = spec.handler(ctx, command)
            if seen is not None:
                rooms.on_timeline(
                    session,
                    seen,
                    actor=request.actor.handle,
                    typed=inv.text.strip(),
                    result=reply.blocks[0] if reply.blocks else None,
                    now=now,
                )
            applied = _write_effects(session, ctx.effects, runtime=runtime, now=now)
            reply = effect_writer.with_tokens(
                session,
                reply,
                conversation=inv.conversation,
                now=now,
                new_token=runtime.new_token,
            )
            if spec.changes_state:
                request.audit(session, outcome="ok", detail=ctx.audit_detail)
            return reply, applied, _locale(session, inv.conversation, runtime.default_locale)

    try:
        reply, applied, locale = _once_more_if_raced(
            handle, what=spec.name, settled=request.already_seen
        )
    except IntegrityError:
        if request.already_seen():  # a twin delivery of the same event won the race
            return Outcome(status="duplicate", command=spec.name, reply_to=inv.conversation)
        return request.fail()
    except ShipwatchError as error:
        if isinstance(error, UsageError):
            request.record_refusal(outcome="usage", detail=error.text.key)
            return request.answer("usage", _usage_message(error))
        if isinstance(error, PermissionDenied):  # a handler's finer check, --force, say
            request.record_refusal(outcome="denied", detail=error.role, said=error.text)
            return request.answer("denied", _error_message(error.text))
        request.record_refusal(outcome="refused", detail=error.text.key, said=error.text)
        return request.answer("refused", _error_message(error.text, *error.details))
    except Exception:
        return request.fail()
    return _done(
        spec.name,
        applied,
        reply=reply,
        reply_to=inv.conversation,
        locale=locale,
        tz=request.zone,
    )


@dataclass(slots=True)
class _Request:
    """One command on its way: who asked, where, when, and what it was read as."""

    runtime: Runtime
    inv: CommandInvocation
    actor: Person
    now: datetime
    command: ParsedCommand | None = None

    @property
    def zone(self) -> tzinfo:
        return self.runtime.reading_zone(self.inv.conversation, self.actor)

    def already_seen(self) -> bool:
        if not self.inv.event_id:
            return False
        with unit_of_work(self.runtime.engine) as session:
            return ledger.seen(session, source=self.inv.platform, event_id=self.inv.event_id)

    def remember(self, session: Session) -> None:
        """Put the platform's event id in the ledger, in the caller's transaction."""
        if self.inv.event_id:
            ledger.remember(
                session, source=self.inv.platform, event_id=self.inv.event_id, now=self.now
            )

    def audit(self, session: Session, *, outcome: str, detail: str) -> None:
        assert self.command is not None
        audit.record(
            session,
            at=self.now,
            actor=self.actor.handle,
            platform=self.inv.platform,
            conversation=str(self.inv.conversation),
            command=self.command.spec.name,
            text=self.command.text,
            outcome=outcome,
            detail=detail,
        )

    def record_refusal(self, *, outcome: str, detail: str, said: Text | None = None) -> None:
        """What a refused command leaves behind, in a transaction of its own: its event id,
        an audit entry when it was a denial or would have changed state, and, typed in an
        incident's room, a line on its timeline saying why (``said``)."""
        worth_auditing = self.command is not None and (
            outcome in ("denied", "error") or self.command.spec.changes_state
        )
        try:
            with unit_of_work(self.runtime.engine) as session:
                self.remember(session)
                if worth_auditing:
                    self.audit(session, outcome=outcome, detail=detail)
                if said is not None and self.command is not None:
                    self._on_timeline(session, said)
        except IntegrityError:
            pass  # a twin delivery recorded it first; nothing else was written

    def _on_timeline(self, session: Session, reason: Text) -> None:
        assert self.command is not None
        conversation = rooms.addressed(session, self.inv.conversation)
        seen = rooms.watch(session, conversation, self.command.spec)
        if seen is not None:
            rooms.on_timeline(
                session,
                seen,
                actor=self.actor.handle,
                typed=self.inv.text.strip(),
                result=reason,
                now=self.now,
                refused=True,
            )

    def answer(self, status: str, message: Message) -> Outcome:
        """A reply without a state change, in the conversation's language."""
        with unit_of_work(self.runtime.engine) as session:
            locale = _locale(session, self.inv.conversation, self.runtime.default_locale)
        name = self.command.spec.name if self.command else "-"
        return Outcome(
            status=status,
            command=name,
            reply=message,
            reply_to=self.inv.conversation,
            locale=locale,
            tz=self.zone,
        )

    def fail(self) -> Outcome:
        """A bug or an outage: everything was rolled back; the log has the traceback and the
        person a reference to quote, never the traceback itself."""
        reference = uuid.uuid4().hex[:8]
        name = self.command.spec.name if self.command else "-"
        log.exception("command failed", extra={"ref": reference, "command": name})
        self.record_refusal(outcome="error", detail=reference)
        return self.answer("error", internal_error_message(reference))


def internal_error_message(reference: str) -> Message:
    return _error_message(t("error.internal", ref=reference))


def run_press(press: ButtonPress, *, runtime: Runtime, now: datetime) -> Outcome:
    """A button stands for a command: run it as the person who pressed it, where it was shown."""
    token = None
    # A NUL is in no token Shipwatch makes, and PostgreSQL refuses even to look one up.
    if "\x00" not in press.action_id:
        with unit_of_work(runtime.engine) as session:
            token = actions.get(session, token=press.action_id)
    if token is None or token.expires_at <= now:
        key = "button.unknown" if token is None else "button.expired"
        inv = CommandInvocation(press.platform, press.user_id, press.conversation, "")
        request = _Request(runtime, inv, _actor(runtime.directory, inv.platform, inv.user_id), now)
        return request.answer("usage", _error_message(t(key)))
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

    def fire() -> Outcome:
        nonlocal name
        with unit_of_work(runtime.engine) as session:
            claimed = timers.claim(session, key=fired.key, now=now, late_after=runtime.late_after)
            if claimed is None:  # fired already, cancelled, moved, or another worker's
                return Outcome(status="ignored", command=name)
            name = f"timer:{claimed.kind}"
            handler = runtime.timer_handlers.get(claimed.kind)
            if handler is None:
                # Written by a newer version, perhaps: un-claim it, leaving it pending for
                # one that knows the kind.
                session.rollback()
                log.error(
                    "no handler for timer kind", extra={"kind": claimed.kind, "timer": fired.key}
                )
                return Outcome(status="error", command=name)
            ctx = system_context(session, runtime, now)
            ctx.late_by = now - claimed.due_at if claimed.fired_late else None
            handler(ctx, claimed)
            applied = _write_effects(session, ctx.effects, runtime=runtime, now=now)
        return _done(name, applied)

    try:
        return _once_more_if_raced(fire, what=fired.key)
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


def run_observation(obs: Observation, *, runtime: Runtime, now: datetime) -> Outcome:
    """Readings or a backend's answer: the handler decides and its effects are written,
    in one transaction, like any command."""
    name = f"observe:{obs.kind}"
    handler = runtime.observation_handlers.get(obs.kind)
    if handler is None:
        log.error("no handler for observation", extra={"kind": obs.kind})
        return Outcome(status="error", command=name)

    def observe() -> effect_writer.Applied:
        with unit_of_work(runtime.engine) as session:
            ctx = system_context(session, runtime, now)
            handler(ctx, obs.payload)
            return _write_effects(session, ctx.effects, runtime=runtime, now=now)

    try:
        applied = _once_more_if_raced(observe, what=name)
    except Exception:
        log.exception("observation failed", extra={"kind": obs.kind})
        return Outcome(status="error", command=name)
    return _done(name, applied)


def known_repeat(inv: Invocation, *, runtime: Runtime) -> Outcome | None:
    """A call from another system this process has handled already, known from memory:
    answered without the database, so without waiting for it."""
    if isinstance(inv, Inbound) and inv.event_id and (inv.source, inv.event_id) in runtime.recent:
        return Outcome(status="duplicate", command=f"hook:{inv.kind}", data={"status": "duplicate"})
    return None


def run_inbound(inv: Inbound, *, runtime: Runtime, now: datetime) -> Outcome:
    """A call from another system: ledger → handler → effects → audit, one transaction.

    A repeat of a delivery already handled changes nothing. A handler that loses a race
    with a twin (two deliveries creating the same row) runs once more and finds the row.
    """
    name = f"hook:{inv.kind}"
    handler = runtime.inbound_handlers[inv.kind]
    seen_key = (inv.source, inv.event_id) if inv.event_id else None
    duplicate = Outcome(status="duplicate", command=name, data={"status": "duplicate"})
    if seen_key is not None and seen_key in runtime.recent:
        return duplicate

    def handle() -> tuple[Mapping[str, Any], effect_writer.Applied] | None:
        with unit_of_work(runtime.engine) as session:
            # Asked and recorded in one statement, in the transaction that handles it.
            if seen_key is not None and not ledger.first_time(
                session, source=seen_key[0], event_id=seen_key[1], now=now
            ):
                return None
            ctx = system_context(session, runtime, now)
            data = handler(ctx, inv.payload)
            applied = _write_effects(session, ctx.effects, runtime=runtime, now=now)
            audit.record(
                session,
                at=now,
                actor=inv.source,
                platform="http",
                conversation="-",
                command=name,
                text=str(data.get("summary", "")),
                outcome="ok",
                detail=" ".join(f"{k}={v}" for k, v in data.items() if k != "summary"),
            )
            return data, applied

    def twin_won() -> bool:
        return seen_key is not None and _seen(runtime, seen_key)

    try:
        handled = _once_more_if_raced(handle, what=name, settled=twin_won)
    except _LOST_RACE:
        if twin_won():
            return duplicate
        log.exception("inbound call failed twice", extra={"kind": inv.kind})
        return Outcome(status="error", command=name)
    except Exception:
        log.exception("inbound call failed", extra={"kind": inv.kind})
        return Outcome(status="error", command=name)
    if seen_key is not None:
        runtime.recent.add(seen_key)
    if handled is None:
        return duplicate
    data, applied = handled
    return _done(
        name, applied, data={"status": "ok", **{k: v for k, v in data.items() if k != "summary"}}
    )


def _once_more_if_raced(
    work: Callable[[], _T], *, what: str, settled: Callable[[], bool] = lambda: False
) -> _T:
    """Run ``work`` (one whole transaction); if it lost a race, run it once more, unless
    ``settled`` says a twin of this very request won (the caller answers "duplicate")."""
    try:
        return work()
    except _LOST_RACE:
        if settled():
            raise
        log.info("lost a race to another request; running it once more", extra={"what": what})
        return work()


def _done(name: str, applied: effect_writer.Applied, **more: Any) -> Outcome:
    """A handled invocation, with what the runtime must now arm, cancel, send, measure and
    watch."""
    return Outcome(
        status="ok",
        command=name,
        armed=applied.armed,
        cancelled=applied.cancelled,
        enqueued=applied.enqueued,
        enqueued_on=None if applied.enqueued_on is None else frozenset(applied.enqueued_on),
        measure=applied.measure,
        watch=applied.watch,
        **more,
    )


def _seen(runtime: Runtime, key: tuple[str, str]) -> bool:
    if key in runtime.recent:
        return True
    with unit_of_work(runtime.engine) as session:
        seen = ledger.seen(session, source=key[0], event_id=key[1])
    if seen:
        runtime.recent.add(key)
    return seen


def system_context(session: Session, runtime: Runtime, now: datetime) -> SystemContext:
    """A context without a person (a timer, an observation, a page's read) over ``session``."""
    return SystemContext(
        session=session,
        now=now,
        directory=runtime.directory,
        tz=runtime.tz,
        releases=runtime.releases,
        incidents=runtime.incidents,
        teams=runtime.teams,
        home_platform=runtime.home_platform,
        default_locale=runtime.default_locale,
        summaries=runtime.summaries,
        drill=runtime.drill,
    )


def _write_effects(
    session: Session, effects: list[Effect], *, runtime: Runtime, now: datetime
) -> effect_writer.Applied:
    return effect_writer.apply(
        session,
        effects,
        now=now,
        directory=runtime.directory,
        new_token=runtime.new_token,
        reachable=runtime.reachable_platforms,
        can_reach=runtime.can_reach,
    )


def _actor(directory: Directory, platform: str, user_id: str) -> Person:
    if platform == "web":
        # The web console's session names a person by handle, signed in through a link
        # sent to one of their identities; never a paging identity of its own.
        return directory.get(user_id) or guest(platform, user_id)
    return directory.by_identity(platform, user_id) or guest(platform, user_id)


def _locale(session: Session, conversation: Conversation, default: str) -> str:
    return (
        channels.locale(session, platform=conversation.platform, channel=conversation.channel)
        or default
    )


def _error_message(text: Text, *details: Text) -> Message:
    return Message.of(text, *details, severity=Severity.WARNING)


def _usage_message(error: ShipwatchError) -> Message:
    blocks = [error.text]
    usage = getattr(error, "usage", None)
    if usage:
        blocks.append(t("grammar.usage", usage=usage))
    return Message(blocks=tuple(blocks), severity=Severity.WARNING)
