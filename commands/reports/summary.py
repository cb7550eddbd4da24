"""/summary: reports now, and subscriptions that post them on a schedule."""

from __future__ import annotations

from datetime import datetime

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Choice, Integer, Word
from commands.core.registry import Arg, Flag, ParsedCommand, did_you_mean, verb_of
from commands.reports import runs as summary_runs
from commands.reports.runs import view, with_response
from playbooks.effects import CancelTimer
from playbooks.errors import NotFound, UsageError
from playbooks.messages import Button, ButtonStyle, Message, Severity, Text, local_time, t
from playbooks.people import Role
from playbooks.reports import subscriptions as rules
from playbooks.reports.schedule import DEFAULT_AT, ReportKind, parse_at, zone
from storage.models import SummarySubscription
from storage.repositories import summaries as repo

KINDS = tuple(k.value for k in ReportKind)
MAX_PER_CONVERSATION = 20
MAX_BUTTONS = 5


def _only(ctx: CommandContext, text: str | None, *, usage: str) -> tuple[str, ...]:
    """Services named like ``web,api``, each one known; none named means all of them."""
    if text is None:
        return ()
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    known = list(ctx.releases.services)
    for name in names:
        if name not in known:
            raise UsageError(
                did_you_mean("summary.unknown_service", name, sorted(known)), usage=usage
            )
    if not names:
        raise UsageError(t("summary.services_empty"), usage=usage)
    return tuple(dict.fromkeys(names))


def _shown(ctx: CommandContext | SystemContext, only: tuple[str, ...]) -> tuple[str, ...]:
    return only or tuple(ctx.releases.services)


def _local(when: datetime | None, row: SummarySubscription) -> str:
    if when is None:
        return "-"
    return local_time(when, zone(row.timezone))


def _kind(kind: ReportKind | str) -> Text:
    return t(f"summary.kind.{kind}")


def _services_text(services: list[str] | tuple[str, ...]) -> Text:
    return (
        t("summary.services_all")
        if not services
        else t("summary.services_some", names=", ".join(services))
    )


def now(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    kind = ReportKind(cmd.args["kind"] or ReportKind.DAILY.value)
    only = _only(ctx, cmd.flags["service"], usage=cmd.spec.usage())
    tz = zone(ctx.summaries.timezone) if ctx.summaries.timezone else ctx.tz
    ctx.effects.append(
        with_response(
            ctx,
            rules.read_report(
                kind=kind,
                end=ctx.now,
                tz=tz,
                conversation=ctx.conversation,
                services=_shown(ctx, only),
                only=only,
                settings=ctx.summaries,
            ),
        )
    )
    return Message.of(t("summary.preparing", kind=_kind(kind)))


def subscribe(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    usage = cmd.spec.usage()
    kind = ReportKind(cmd.args["kind"])
    try:
        cadence = parse_at(cmd.flags["at"] or DEFAULT_AT[kind], kind=kind)
        tz_name = cmd.flags["tz"] or ctx.summaries.timezone or str(ctx.tz)
        zone(tz_name)
    except UsageError as error:
        raise UsageError(error.text, usage=usage) from None
    only = _only(ctx, cmd.flags["services"], usage=usage)
    existing = repo.active_in(
        ctx.session, platform=ctx.conversation.platform, channel=ctx.conversation.channel
    )
    for other in existing:
        if (other.kind, other.at, other.timezone, tuple(other.services)) == (
            kind.value,
            cadence.describe(),
            tz_name,
            only,
        ):
            raise UsageError(t("summary.already", id=other.id, kind=_kind(kind), at=other.at))
    if len(existing) >= MAX_PER_CONVERSATION:
        raise UsageError(t("summary.too_many", limit=MAX_PER_CONVERSATION))
    row = repo.add(
        ctx.session,
        SummarySubscription(
            platform=ctx.conversation.platform,
            channel=ctx.conversation.channel,
            kind=kind.value,
            at=cadence.describe(),
            timezone=tz_name,
            services=list(only),
            created_by=ctx.actor.handle,
            created_at=ctx.now,
        ),
    )
    scheduled, timer = rules.arm_next(view(row), after=ctx.now, settings=ctx.summaries)
    row.next_run_at = scheduled
    ctx.session.add(row)
    ctx.effects += [timer, *summary_runs.notes_ask(row, scheduled, ctx=ctx)]
    ctx.audit_detail = f"subscription {row.id} {kind.value} at {row.at} {tz_name}"
    return Message(
        blocks=(
            t(
                "summary.subscribed",
                id=row.id,
                kind=_kind(kind),
                at=row.at,
                tz=tz_name,
                services=_services_text(only),
                next=_local(scheduled, row),
            ),
        ),
        buttons=(_unsubscribe_button(row),),
        severity=Severity.SUCCESS,
    )


def _unsubscribe_button(row: SummarySubscription) -> Button:
    return Button(
        label=t("summary.button.unsubscribe", id=row.id),
        command=f"/summary unsubscribe {row.id}",
        style=ButtonStyle.DANGER,
    )


def list_subscriptions(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    rows = repo.active_in(
        ctx.session, platform=ctx.conversation.platform, channel=ctx.conversation.channel
    )
    if not rows:
        return Message.of(t("summary.list_none"))
    blocks: list[Text] = [t("summary.list_header", count=len(rows))]
    for row in rows:
        assert row.id is not None
        last = repo.last_run(ctx.session, subscription_id=row.id)
        blocks.append(
            t(
                "summary.list_line",
                id=row.id,
                kind=_kind(row.kind),
                at=row.at,
                tz=row.timezone,
                services=_services_text(row.services),
                next=_local(row.next_run_at, row),
                last=t(f"summary.outcome.{last.outcome}", at=_local(last.scheduled_at, row))
                if last
                else t("summary.outcome.never"),
            )
        )
    return Message(
        blocks=tuple(blocks), buttons=tuple(_unsubscribe_button(r) for r in rows[:MAX_BUTTONS])
    )


def unsubscribe(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    subscription_id: int = cmd.args["id"]
    row = repo.get(ctx.session, subscription_id=subscription_id)
    here = row is not None and (row.platform, row.channel) == (
        ctx.conversation.platform,
        ctx.conversation.channel,
    )
    # Another conversation's subscription gets the same answer as none at all.
    if row is None or row.state != "active" or not here:
        raise NotFound(t("summary.not_found", id=subscription_id))
    ctx.audit_detail = f"subscription {row.id} {row.kind} at {row.at}"
    row.state = "cancelled"
    row.next_run_at = None
    ctx.session.add(row)
    ctx.effects.append(CancelTimer(rules.timer_key(subscription_id)))
    return Message.of(t("summary.unsubscribed", id=subscription_id, kind=_kind(row.kind)))


spec = verb_of("summary")
SPECS = (
    spec(
        "now",
        now,
        args=(Arg("kind", Choice(KINDS), required=False),),
        flags=(Flag("service", Word(metavar="SERVICE")),),
    ),
    spec(
        "subscribe",
        subscribe,
        args=(Arg("kind", Choice(KINDS)),),
        flags=(
            Flag("at", Word(metavar='"HH:MM"|"fri HH:MM"')),
            Flag("tz", Word(metavar="ZONE")),
            Flag("services", Word(metavar="A,B")),
        ),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    spec("list", list_subscriptions),
    spec(
        "unsubscribe",
        unsubscribe,
        args=(Arg("id", Integer(metavar="ID")),),
        role=Role.RESPONDER,
        changes_state=True,
    ),
)

TIMER_HANDLERS = {rules.TIMER_KIND: summary_runs.summary_due}
OBSERVATION_HANDLERS = summary_runs.OBSERVATION_HANDLERS
