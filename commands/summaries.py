"""/summary: reports now, and subscriptions that post them on a schedule."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from commands import summary_state
from commands.context import CommandContext, SystemContext
from commands.grammar import Choice, Integer, Word
from commands.registry import Arg, Flag, ParsedCommand, did_you_mean, verb_of
from playbooks import summaries as rules
from playbooks.effects import CancelTimer, Conversation, Post
from playbooks.errors import NotFound, UsageError
from playbooks.guards import Reading
from playbooks.messages import Button, ButtonStyle, Message, Severity, Text, t
from playbooks.people import Role
from playbooks.summary_report import ReportRequest, compose
from playbooks.summary_schedule import DEFAULT_AT, ReportKind, parse_at, zone
from storage.models import SummaryRun, SummarySubscription, Timer
from storage.repositories import summaries as repo

log = logging.getLogger("shipwatch.summaries")
READINGS = "summary.readings"
KINDS = tuple(k.value for k in ReportKind)
MAX_PER_CONVERSATION = 20
MAX_BUTTONS = 5


def _view(row: SummarySubscription) -> rules.Subscription:
    assert row.id is not None
    kind = ReportKind(row.kind)
    return rules.Subscription(
        id=row.id,
        conversation=Conversation(row.platform, row.channel),
        kind=kind,
        cadence=parse_at(row.at, kind=kind),
        tz=zone(row.timezone),
        services=tuple(row.services),
    )


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
    local = when.astimezone(zone(row.timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


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
        rules.read_report(
            kind=kind,
            end=ctx.now,
            tz=tz,
            conversation=ctx.conversation,
            services=_shown(ctx, only),
            only=only,
            settings=ctx.summaries,
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
    scheduled, timer = rules.arm_next(_view(row), after=ctx.now, settings=ctx.summaries)
    row.next_run_at = scheduled
    ctx.session.add(row)
    ctx.effects.append(timer)
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
    if row is None or row.state != "active":
        raise NotFound(t("summary.not_found", id=subscription_id))
    row.state = "cancelled"
    row.next_run_at = None
    ctx.session.add(row)
    ctx.effects.append(CancelTimer(rules.timer_key(subscription_id)))
    return Message.of(t("summary.unsubscribed", id=subscription_id, kind=_kind(row.kind)))


def summary_due(ctx: SystemContext, timer: Timer) -> None:
    """A subscription's time: arm the next run, then report on the latest period once."""
    row = repo.get(ctx.session, subscription_id=int(timer.payload["subscription_id"]))
    if row is None or row.state != "active":
        return
    sub = _view(row)
    run = rules.due_run(sub, now=ctx.now, settings=ctx.summaries)
    scheduled, next_timer = rules.arm_next(sub, after=ctx.now, settings=ctx.summaries)
    row.next_run_at = scheduled
    ctx.session.add(row)
    ctx.effects.append(next_timer)
    record = SummaryRun(
        subscription_id=sub.id,
        period=run.period,
        scheduled_at=run.scheduled_at,
        ran_at=ctx.now,
        late=run.late_by is not None,
        outcome="missed" if run.missed else "reading",
    )
    if not repo.claim_run(ctx.session, record):
        return  # this period has run already
    if run.missed:
        log.warning(
            "report skipped: past the grace window",
            extra={"subscription": sub.id, "period": run.period},
        )
        return
    ctx.effects.append(
        rules.read_report(
            kind=sub.kind,
            end=run.scheduled_at,
            tz=sub.tz,
            conversation=sub.conversation,
            services=sub.services or tuple(ctx.releases.services),
            only=sub.services,
            settings=ctx.summaries,
            late_by=run.late_by,
            run_id=record.id,
        )
    )


def readings(ctx: SystemContext, payload: Mapping[str, Any]) -> None:
    """The metrics are read (or failed to be): compose the report from the database as it
    is now and post it, the chart stored with it."""
    req: Mapping[str, Any] = payload["request"]
    kind = ReportKind(req["kind"])
    start, end = datetime.fromisoformat(req["start"]), datetime.fromisoformat(req["end"])
    at = datetime.fromisoformat(req["at"])
    only = tuple(req["only"])
    # Up to the report's time: what is still open now counts, not only the period's.
    state = summary_state.load(ctx, only=only, start=start, end=at)
    chart_id = None
    if payload.get("chart"):
        chart_id = repo.store_chart(
            ctx.session,
            token=payload["chart_token"],
            png=payload["chart"],
            kind=kind.value,
            now=ctx.now,
        )
    taken: Mapping[str, Mapping[str, Any]] = payload["readings"]
    message = compose(
        ReportRequest(
            kind=kind,
            start=start,
            end=end,
            at=at,
            tz=zone(req["tz"]),
            services=tuple(req["services"]),
            late_by=timedelta(seconds=req["late_by"]) if req["late_by"] is not None else None,
        ),
        state,
        metrics=ctx.summaries.metrics,
        readings={
            service: {name: Reading.from_json(data) for name, data in values.items()}
            for service, values in taken.items()
        },
        now=ctx.now,
        chart=chart_id,
        chart_note=payload.get("chart_note"),
    )
    ctx.effects.append(Post(Conversation.parse(req["conversation"]), message))
    if req["run_id"] is not None:
        run = repo.run(ctx.session, run_id=int(req["run_id"]))
        if run is not None:
            run.outcome = "posted"
            ctx.session.add(run)


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

TIMER_HANDLERS = {rules.TIMER_KIND: summary_due}
OBSERVATION_HANDLERS = {READINGS: readings}
