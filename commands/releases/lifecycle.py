"""/release start, go, status, promote, pause, resume, applied, approve, rollback, retry,
abort, history and plans: start a release and walk it through its plan's stages from chat
(the gates a start or a retry passes are ``commands.releases.gates``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from commands.core.context import CommandContext, SystemContext
from commands.core.effects import without_echo
from commands.core.grammar import Word, free_text
from commands.core.named import service_named
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from commands.procedures import rows as procedure_rows
from commands.releases import gates as release_gates
from commands.releases import launch_rows
from commands.releases.freezes import freezes_for
from commands.releases.rows import entry_of, save, to_view
from playbooks.effects import Conversation
from playbooks.errors import NotFound, PermissionDenied, UsageError
from playbooks.launch.plan import WindowPolicy
from playbooks.messages import Message, Text, t
from playbooks.people import Role
from playbooks.releases import machine, views
from playbooks.releases.machine import Release, ReleaseState, Result
from playbooks.releases.plan import Service
from playbooks.releases.settled import settled
from storage.models import ReleaseRow
from storage.repositories import releases as repo

VERSION = re.compile(r"^v?\d+(\.\d+){0,3}([-+][0-9A-Za-z][0-9A-Za-z.-]*)?$")
MAX_REASON = 500
MAX_HISTORY = 30


# /release status without a service lists at most this many live releases.
LISTED = 20


def _active(ctx: CommandContext, service: Service) -> tuple[ReleaseRow, Release]:
    row = repo.active_for(ctx.session, service=service.name, for_update=True)
    if row is None:
        raise NotFound(t("release.nothing_active", service=service.name))
    return row, to_view(row)


def _reason(value: str | None, *, required: bool, cmd: ParsedCommand) -> str:
    needed = t("release.reason_needed", command=f"/{cmd.spec.name}") if required else None
    return free_text(value, limit=MAX_REASON, needed=needed, usage=cmd.spec.usage())


def _finish(ctx: CommandContext, row: ReleaseRow, result: Result, detail: str) -> Message:
    result = settled(result)
    save(ctx.session, row, result, now=ctx.now)
    reply = result.reply
    assert reply is not None
    ctx.effects += without_echo(result.effects, here=ctx.conversation, reply=reply)
    ctx.effects += procedure_rows.rollback_started(
        ctx.session, ctx.directory, result.release, result.history
    )
    ctx.audit_detail = f"release {row.id} {row.service} {row.version}: {detail}"
    return reply


def start(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    service = service_named(ctx, cmd.args["service"])
    version = str(cmd.args["version"])
    if not VERSION.fullmatch(version) or len(version) > 100:
        raise UsageError(t("release.bad_version", value=version), usage=cmd.spec.usage())
    plan_name = cmd.flags["plan"] or service.plan
    plan = ctx.releases.plans.get(plan_name)
    if plan is None:
        known = ", ".join(sorted(ctx.releases.plans))
        raise NotFound(t("release.unknown_plan", value=plan_name, known=known))
    note = _reason(cmd.flags["note"], required=False, cmd=cmd)
    reason = _reason(cmd.flags["reason"], required=bool(cmd.flags["force"]), cmd=cmd)
    # A plan that prepares moves no traffic at the start: its windows are judged at go.
    passed = release_gates.check(
        ctx,
        cmd,
        service,
        what="start",
        windows=None if plan.prepares else plan.launch.windows,
        reason=reason,
    )
    active = repo.active_for(ctx.session, service=service.name, for_update=True)
    if active is not None:
        raise machine.Refused(
            t(
                "release.already_active",
                service=service.name,
                version=active.version,
                percent=active.percent,
                owner=active.owner,
            )
        )
    row = repo.add(
        ctx.session,
        ReleaseRow(
            service=service.name,
            version=version,
            plan=plan.to_json(),
            state=ReleaseState.PENDING.value,
            owner=ctx.actor.handle,
            channel=str(
                Conversation.parse(service.release_channel, default_platform=ctx.channels_platform)
            ),
            traffic=service.traffic.value,
            metrics=service.metrics,
            note=note,
            started_at=ctx.now,
            updated_at=ctx.now,
        ),
    )
    result = machine.start(to_view(row), now=ctx.now)
    detail = f"{'prepare' if plan.prepares else 'start'} with plan {plan.name}"
    return _finish_passed(ctx, row, result, detail, passed=passed, window_line="window.forced")


def go(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """A prepared release's first traffic: once its required checks are ticked, and in a
    deploy window (the moment traffic moves), or forced past the window as a start is."""
    service = service_named(ctx, cmd.args["service"])
    row, r = _active(ctx, service)
    result = machine.go(
        r, actor=ctx.actor.handle, now=ctx.now, gates=launch_rows.go_blockers(ctx.session, r)
    )
    forced = _window_gate(ctx, cmd, service, r.plan.launch.windows, what="go")
    detail = f"go: 0% → {result.release.percent:g}%"
    return _finish_gated(ctx, row, result, detail, forced=forced, said="window.forced_go")


def _finish_gated(
    ctx: CommandContext,
    row: ReleaseRow,
    result: Result,
    detail: str,
    *,
    forced: str | None,
    said: str,
) -> Message:
    """``_finish`` for a move that keeps to the deploy windows, or was forced past one: the
    audit entry and the reply say so (``said``: the catalog key of the reply's line)."""
    if forced:
        detail += f"; outside a window, forced: {forced}"
    reply = _finish(ctx, row, result, detail)
    if forced:
        reply = replace(reply, blocks=(*reply.blocks, t(said, reason=forced)))
    return reply


def _finish_passed(
    ctx: CommandContext,
    row: ReleaseRow,
    result: Result,
    detail: str,
    *,
    passed: release_gates.Passed,
    window_line: str,
) -> Message:
    """``_finish`` for a start or a retry that passed its gates, or was forced past them:
    the history, the audit entry, the reply and the release channel say so."""
    forced_past = release_gates.said(result, passed, window_line=window_line)
    if passed.window_forced:
        detail += f"; outside a window, forced: {passed.reason}"
    return _finish(ctx, row, result, detail + forced_past)


def _window_gate(
    ctx: CommandContext,
    cmd: ParsedCommand,
    service: Service,
    policy: WindowPolicy,
    *,
    what: str = "go",
) -> str:
    """Refuse a prepared release's go outside the plan's deploy windows or on a frozen
    day, unless a release manager forces it; the reason given when forced (a start or a
    retry passes the same window gate with the others in ``gates.check``)."""
    force = bool(cmd.flags["force"])
    reason = _reason(cmd.flags["reason"], required=force, cmd=cmd)
    if force and not ctx.actor.has_role(Role.RELEASE_MANAGER):
        raise PermissionDenied(command=f"/release {what} --force", role=Role.RELEASE_MANAGER.value)
    closed = launch_rows.closed_window(ctx, policy, service=service.name, what=what)
    if closed is None:
        return ""
    if not force:
        raise machine.Refused(closed, details=(t("window.force_hint", service=service.name),))
    return reason


def _launch_gates(
    ctx: CommandContext | SystemContext, r: Release, *, to: str | None = None
) -> list[Text]:
    """Checklist, Go/No-Go and window reasons not to enter the next (or named) stage, or,
    for a prepared release, the first."""
    if r.state is ReleaseState.PREPARED:
        return launch_rows.go_blockers(ctx.session, r) + _closed_window(ctx, r)
    if r.state is not ReleaseState.IN_STAGE or (to is None and r.final_stage):
        return []
    target = machine.resolve_target(r, to)
    return launch_rows.blockers(ctx, r, target=target)


def _closed_window(ctx: CommandContext | SystemContext, r: Release) -> list[Text]:
    """The deploy window a prepared release's go would be refused for now, if any."""
    closed = launch_rows.closed_window(ctx, r.plan.launch.windows, service=r.service, what="go")
    return [closed] if closed is not None else []


def status_gates(ctx: CommandContext | SystemContext, r: Release) -> list[Text]:
    """What /release status lists as holding the release: an incident freeze holds
    promotions, not a prepared release's go (the fix may be this very release)."""
    frozen = (
        freezes_for(ctx.session, r.service, now=ctx.now)
        if r.state is not ReleaseState.PREPARED
        else []
    )
    return frozen + _launch_gates(ctx, r)


def status(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    name = cmd.args["service"]
    if name is not None:
        service = service_named(ctx, name)
        found = repo.latest_with_plan_text(ctx.session, service=service.name)
        if found is None:
            return Message.of(t("release.never_released", service=service.name))
        view = to_view(found[0], plan_text=found[1])
        return views.status(
            view,
            now=ctx.now,
            held_by=status_gates(ctx, view),
            simulated=ctx.simulated(view.metrics),
        )
    rows, live = repo.needing_eyes_first(ctx.session, limit=LISTED)
    if not rows:
        return Message.of(t("release.none_active"))
    if live == 1:
        only = to_view(rows[0][0], plan_text=rows[0][1])
        return views.status(
            only,
            now=ctx.now,
            held_by=status_gates(ctx, only),
            simulated=ctx.simulated(only.metrics),
        )
    # A chat message lists a screenful; the rest are a command or a page away.
    some = (t("release.active_some", shown=len(rows)),) if live > len(rows) else ()
    return Message(
        blocks=(t("release.active_header", count=live), *some),
        fields=tuple(
            views.summary_line(to_view(row, plan_text=plan), now=ctx.now) for row, plan in rows
        ),
    )


def promote(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    force = bool(cmd.flags["force"])
    reason = _reason(cmd.flags["reason"], required=force, cmd=cmd)
    if force and not ctx.actor.has_role(Role.RELEASE_MANAGER):
        raise PermissionDenied(command="/release promote --force", role=Role.RELEASE_MANAGER.value)
    row, r = _active(ctx, service_named(ctx, cmd.args["service"]))
    result = machine.promote(
        r,
        actor=ctx.actor.handle,
        now=ctx.now,
        to=cmd.flags["to"],
        force_reason=reason if force else None,
        held_by=freezes_for(ctx.session, r.service, now=ctx.now)
        + _launch_gates(ctx, r, to=cmd.flags["to"]),
    )
    detail = f"{r.percent:g}% → {result.release.percent:g}%" + (
        f" forced: {reason}" if force else ""
    )
    return _finish(ctx, row, result, detail)


def _simple(
    move: Callable[..., Result], *, takes_reason: bool = False
) -> Callable[[CommandContext, ParsedCommand], Message]:
    """A command that loads the service's active release and applies one move."""

    def handler(ctx: CommandContext, cmd: ParsedCommand) -> Message:
        row, r = _active(ctx, service_named(ctx, cmd.args["service"]))
        extra = (
            {"reason": _reason(cmd.flags["reason"], required=False, cmd=cmd)}
            if takes_reason
            else {}
        )
        result = move(r, actor=ctx.actor.handle, now=ctx.now, **extra)
        return _finish(ctx, row, result, cmd.spec.verb or "")

    return handler


def rollback(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    service = service_named(ctx, cmd.args["service"])
    plan = ctx.releases.plans.get(service.plan)
    reasons = plan.rollback_reasons if plan is not None else ()
    if not cmd.flags["reason"] and reasons:
        listed = "; ".join(f"{key} ({text})" for key, text in reasons)
        raise UsageError(
            t("release.rollback_reason_needed", service=service.name, reasons=listed),
            usage=cmd.spec.usage(),
        )
    reason = _rollback_reason(_reason(cmd.flags["reason"], required=True, cmd=cmd), reasons)
    row = repo.active_for(ctx.session, service=service.name, for_update=True)
    if row is None:
        latest = repo.latest_for(ctx.session, service=service.name)
        if latest is not None and latest.state == ReleaseState.ROLLED_BACK.value:
            raise machine.Refused(
                t("release.already_rolled_back", service=service.name, version=latest.version)
            )
        raise NotFound(t("release.nothing_active", service=service.name))
    result = machine.rollback(to_view(row), actor=ctx.actor.handle, now=ctx.now, reason=reason)
    return _finish(ctx, row, result, f"rollback: {reason}")


def _rollback_reason(given: str, reasons: tuple[tuple[str, str], ...]) -> str:
    """One word of the plan's manual rollback triggers (seed 003 §9.1) in the plan's words;
    anything else as written."""
    for key, text in reasons:
        if given.strip().lower() == key:
            return f"{key}: {text}"
    return given


def _rolled_back(ctx: CommandContext, service: Service) -> tuple[ReleaseRow, Release]:
    active = repo.active_for(ctx.session, service=service.name)
    if active is not None:
        raise machine.Refused(
            t(
                "release.already_active",
                service=service.name,
                version=active.version,
                percent=active.percent,
                owner=active.owner,
            )
        )
    row = repo.latest_for(ctx.session, service=service.name, for_update=True)
    if row is None or row.state != ReleaseState.ROLLED_BACK.value:
        raise NotFound(t("release.nothing_to_retry", service=service.name))
    return row, to_view(row)


def retry(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    service = service_named(ctx, cmd.args["service"])
    reason = _reason(cmd.flags["reason"], required=bool(cmd.flags["force"]), cmd=cmd)
    row, r = _rolled_back(ctx, service)
    # A retry deploys again, so it keeps to the same gates as a start, and is not sent
    # into a guard that still reads bad.
    passed = release_gates.check(
        ctx,
        cmd,
        service,
        what="retry",
        windows=r.plan.launch.windows,
        reason=reason,
        retrying=r,
    )
    result = machine.retry(r, actor=ctx.actor.handle, now=ctx.now)
    detail = f"retry attempt {result.release.attempt}"
    return _finish_passed(
        ctx, row, result, detail, passed=passed, window_line="window.forced_retry"
    )


def abort(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    reason = _reason(cmd.flags["reason"], required=True, cmd=cmd)
    service = service_named(ctx, cmd.args["service"])
    row = repo.active_for(ctx.session, service=service.name, for_update=True)
    if row is None:
        latest = repo.latest_for(ctx.session, service=service.name, for_update=True)
        if latest is None or latest.state != ReleaseState.ROLLED_BACK.value:
            raise NotFound(t("release.nothing_active", service=service.name))
        row = latest
    result = machine.abort(to_view(row), actor=ctx.actor.handle, now=ctx.now, reason=reason)
    return _finish(ctx, row, result, f"abort: {reason}")


def history(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    name = cmd.args["service"]
    if name is None:
        events = repo.events(ctx.session, limit=MAX_HISTORY)
        labels: dict[int, str] = {}
        for event in events:
            if event.release_id not in labels:
                row = repo.get(ctx.session, release_id=event.release_id)
                labels[event.release_id] = f"{row.service} {row.version}" if row else "?"
        return views.history(None, [(labels[e.release_id], entry_of(e)) for e in events])
    service = service_named(ctx, name)
    row = repo.latest_for(ctx.session, service=service.name)
    if row is None:
        return Message.of(t("release.never_released", service=service.name))
    assert row.id is not None
    label = f"{row.service} {row.version}"
    events = repo.events(ctx.session, release_id=row.id, limit=MAX_HISTORY)
    return views.history(label, [(label, entry_of(e)) for e in events])


def plans(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    return views.plans(ctx.releases.plans[name] for name in sorted(ctx.releases.plans))


_SERVICE = Arg("service", Word(metavar="SERVICE"))
_OPTIONAL_SERVICE = Arg("service", Word(metavar="SERVICE"), required=False)
_REASON = Flag("reason", Word(metavar="TEXT"))
_REQUIRED_REASON = Flag("reason", Word(metavar="TEXT"), required=True)


_spec = verb_of("release", default_role=None, changes_state=False)


SPECS = (
    _spec(
        "start",
        start,
        args=(_SERVICE, Arg("version", Word(metavar="VERSION"))),
        flags=(
            Flag("plan", Word(metavar="PLAN")),
            Flag("note", Word(metavar="TEXT")),
            Flag("force"),
            _REASON,
        ),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "go",
        go,
        args=(_SERVICE,),
        flags=(Flag("force"), _REASON),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec("status", status, args=(_OPTIONAL_SERVICE,)),
    _spec(
        "promote",
        promote,
        args=(_SERVICE,),
        flags=(Flag("to", Word(metavar="PERCENT|STAGE")), Flag("force"), _REASON),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "pause",
        _simple(machine.pause, takes_reason=True),
        args=(_SERVICE,),
        flags=(_REASON,),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "resume", _simple(machine.resume), args=(_SERVICE,), role=Role.RESPONDER, changes_state=True
    ),
    _spec(
        "applied",
        _simple(machine.applied),
        args=(_SERVICE,),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "approve",
        _simple(machine.approve),
        args=(_SERVICE,),
        role=Role.RELEASE_MANAGER,
        changes_state=True,
    ),
    _spec(
        "rollback",
        rollback,
        args=(_SERVICE,),
        flags=(_REQUIRED_REASON,),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "retry",
        retry,
        args=(_SERVICE,),
        flags=(Flag("force"), _REASON),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "abort",
        abort,
        args=(_SERVICE,),
        flags=(_REQUIRED_REASON,),
        role=Role.RELEASE_MANAGER,
        changes_state=True,
    ),
    _spec("history", history, args=(_OPTIONAL_SERVICE,)),
    _spec("plans", plans),
)
