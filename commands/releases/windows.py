"""/release window and /release freeze: the deploy windows in force now and next, and the
days declared closed to new releases."""

from __future__ import annotations

from datetime import date, tzinfo

from commands.core.context import CommandContext
from commands.core.grammar import Choice, Word, free_text
from commands.core.named import service_named
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from commands.releases import launch_rows
from playbooks.errors import NotFound, PermissionDenied, UsageError
from playbooks.launch import windows
from playbooks.launch.plan import WindowGate
from playbooks.messages import Message, MessageField, Text, raw, t
from playbooks.people import Role
from playbooks.releases.machine import Refused
from storage.models import DeployFreeze
from storage.repositories import launches as launch_repo

MAX_REASON = 500


def window(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """The deploy windows in force now and next, per service, and the freezes to come."""
    name = cmd.args["service"]
    services = (
        [service_named(ctx, name)]
        if name
        else [ctx.releases.services[s] for s in sorted(ctx.releases.services)]
    )
    fields = []
    for service in services:
        plan = ctx.releases.plans.get(service.plan)
        if plan is None:
            continue
        policy = plan.launch.windows
        tz, zone = launch_rows.zone_of(policy, service, teams=ctx.teams, fallback=ctx.tz)
        days = launch_rows.calendar_of(
            service, teams=ctx.teams, fallback=ctx.incidents.policy.hours.calendar
        )
        result = launch_rows.window_check(ctx.session, policy, now=ctx.now, tz=tz, calendar=days)
        line = _window_line(result, policy.gate, tz, zone)
        blackouts = windows.blackout_summary(policy) if policy.gate is not WindowGate.OFF else None
        if blackouts is not None:
            line = t("window.line_with_blackouts", line=line, blackouts=blackouts)
        fields.append(MessageField(raw(service.name), line))
    today = ctx.now.astimezone(ctx.tz).date()
    frozen = [
        f"{row.day} ({row.reason})"
        for row in launch_repo.freezes(ctx.session, since=today.isoformat())
    ]
    blocks: list[Text] = [t("window.header")]
    blocks.append(t("window.freezes", days=", ".join(frozen)) if frozen else t("window.no_freezes"))
    return Message(blocks=tuple(blocks), fields=tuple(fields))


def _window_line(result: windows.WindowCheck, gate: WindowGate, tz: tzinfo, zone: str) -> Text:
    nxt = windows.local_time(result.next.opens, tz=tz, zone=zone) if result.next else "-"
    if gate is WindowGate.OFF:
        key = "window.line_off" if result.open else "window.line_off_frozen"
        return t(key, why=result.closed_because, next=nxt)
    if result.open and result.current is not None:
        closes = windows.local_time(result.current.closes, tz=tz, zone=zone)
        return t("window.line_open", closes=closes, gate=t(f"window.gate.{gate}"))
    return t(
        "window.line_closed",
        why=result.closed_because or t("window.outside"),
        next=nxt,
        gate=t(f"window.gate.{gate}"),
    )


def freeze(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    action, value = cmd.args["action"], cmd.args["value"]
    if action == "list":
        found = launch_repo.freezes(ctx.session)
        if not found:
            return Message.of(t("freeze.none"))
        return Message(
            blocks=(t("freeze.list_header", count=len(found)),),
            fields=tuple(
                MessageField(
                    t("freeze.line_label", id=row.id or 0, day=row.day),
                    t("freeze.line", reason=raw(row.reason), actor=row.created_by),
                )
                for row in found
            ),
        )
    if not ctx.actor.has_role(Role.RELEASE_MANAGER):
        raise PermissionDenied(command=f"/release freeze {action}", role=Role.RELEASE_MANAGER.value)
    if value is None:
        raise UsageError(t(f"freeze.{action}_needs_value"), usage=cmd.spec.usage())
    if action == "remove":
        if not value.lstrip("#").isdigit():
            raise UsageError(t("freeze.bad_id", value=value), usage=cmd.spec.usage())
        row = launch_repo.freeze(ctx.session, freeze_id=int(value.lstrip("#")))
        if row is None:
            raise NotFound(t("freeze.unknown", id=value))
        ctx.session.delete(row)
        ctx.audit_detail = f"freeze {row.id} on {row.day} removed"
        return Message.of(t("freeze.removed", id=row.id or 0, day=row.day, actor=ctx.actor.handle))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UsageError(t("freeze.bad_day", value=value), usage=cmd.spec.usage()) from None
    today = _earliest_today(ctx)
    if day < today:
        raise UsageError(t("freeze.in_the_past", day=value, today=today.isoformat()))
    reason = free_text(
        cmd.flags["reason"],
        limit=MAX_REASON,
        needed=t("freeze.reason_needed"),
        usage=cmd.spec.usage(),
    )
    if any(row.day == day.isoformat() for row in launch_repo.freezes(ctx.session)):
        raise Refused(t("freeze.already", day=day.isoformat()))
    row = launch_repo.add_freeze(
        ctx.session,
        DeployFreeze(
            day=day.isoformat(), reason=reason, created_by=ctx.actor.handle, created_at=ctx.now
        ),
    )
    ctx.audit_detail = f"freeze {row.id} on {row.day}: {reason}"
    return Message.of(
        t("freeze.added", id=row.id or 0, day=row.day, reason=raw(reason), actor=ctx.actor.handle)
    )


def _earliest_today(ctx: CommandContext) -> date:
    """Today in the zone furthest behind among those the services' windows are read in: a
    freeze applies to each service's local day, so a day still to come anywhere is not past."""
    zones: list[tzinfo] = []
    for service in ctx.releases.services.values():
        plan = ctx.releases.plans.get(service.plan)
        if plan is not None:
            tz, _ = launch_rows.zone_of(
                plan.launch.windows, service, teams=ctx.teams, fallback=ctx.tz
            )
            zones.append(tz)
    return min(ctx.now.astimezone(tz).date() for tz in zones or [ctx.tz])


_spec = verb_of("release", default_role=Role.RESPONDER, changes_state=True)

_OPTIONAL_SERVICE = Arg("service", Word(metavar="SERVICE"), required=False)

SPECS = (
    _spec("window", window, args=(_OPTIONAL_SERVICE,), role=None, changes_state=False),
    _spec(
        "freeze",
        freeze,
        args=(
            Arg("action", Choice(("add", "list", "remove"))),
            Arg("value", Word(metavar="DATE|ID"), required=False),
        ),
        flags=(Flag("reason", Word(metavar="TEXT")),),
        role=None,
    ),
)
