"""/release checklist, check, uncheck, gonogo, runbook and step: the coordination around a
release's stages, and the timers that post progress, runbook steps and follow-ups (the
deploy windows and freezes are ``commands.releases.windows``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Choice, Integer, Word, free_text
from commands.core.named import service_named
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from commands.procedures import playbook as playbook_commands
from commands.procedures import rows as procedure_rows
from commands.releases import launch_rows
from commands.releases.rows import to_view
from playbooks.errors import NotFound, PermissionDenied, UsageError
from playbooks.launch import gonogo as matrix
from playbooks.launch import state as launch_state
from playbooks.launch import timers as launch_timers
from playbooks.launch import views as launch_views
from playbooks.launch.state import Mark
from playbooks.messages import Message, Severity, raw, t
from playbooks.people import Role
from playbooks.procedures import runs as procedure_runs
from playbooks.procedures.runs import Run
from playbooks.releases.machine import Refused, Release, ReleaseState
from storage.models import ProcedureRun, ReleaseRow, Timer
from storage.repositories import procedure_runs as procedure_repo
from storage.repositories import releases as repo

MAX_NOTE = 500


def _latest(ctx: CommandContext, name: str) -> tuple[ReleaseRow, Release]:
    """The service's current release: the live one, else the latest (follow-ups, runbook)."""
    service = service_named(ctx, name)
    row = repo.active_for(ctx.session, service=service.name, for_update=True) or repo.latest_for(
        ctx.session, service=service.name, for_update=True
    )
    if row is None:
        raise NotFound(t("release.never_released", service=service.name))
    return row, to_view(row)


def _note(cmd: ParsedCommand) -> str:
    return free_text(cmd.flags["note"], limit=MAX_NOTE, needed=None, usage=cmd.spec.usage())


def checklist(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    _, r = _latest(ctx, cmd.args["service"])
    return launch_views.checklist(r, launch_rows.load(ctx.session, r.id))


def check(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    _, r = _latest(ctx, cmd.args["service"])
    number = int(cmd.args["item"])
    state = launch_state.check(
        launch_rows.load(ctx.session, r.id),
        r,
        number=number,
        by=ctx.actor.handle,
        at=ctx.now,
        note=_note(cmd),
    )
    launch_rows.store(ctx.session, release_id=r.id, state=state, now=ctx.now)
    entry = launch_state.item(r, number)
    ctx.audit_detail = f"release {r.id} {r.service}: ticked item {number}: {entry.text}"
    text = t("checklist.ticked_reply", number=number, text=raw(entry.text), actor=ctx.actor.handle)
    left = launch_state.open_items(state, r)
    required = [n for n, item in left if item.required]
    tail = t("checklist.left", count=len(left), required=len(required), service=r.service)
    return Message(blocks=(text, tail), severity=Severity.SUCCESS)


def uncheck(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    _, r = _latest(ctx, cmd.args["service"])
    number = int(cmd.args["item"])
    state = launch_state.uncheck(launch_rows.load(ctx.session, r.id), r, number=number)
    launch_rows.store(ctx.session, release_id=r.id, state=state, now=ctx.now)
    entry = launch_state.item(r, number)
    ctx.audit_detail = f"release {r.id} {r.service}: unticked item {number}: {entry.text}"
    return Message.of(
        t("checklist.unticked", number=number, text=raw(entry.text), actor=ctx.actor.handle)
    )


def gonogo(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    _, r = _latest(ctx, cmd.args["service"])
    state = launch_rows.load(ctx.session, r.id)
    words = str(cmd.args["scores"] or "").split()
    if cmd.flags["approve"]:
        if words:
            raise UsageError(t("gonogo.approve_alone"), usage=cmd.spec.usage())
        if not ctx.actor.has_role(Role.RELEASE_MANAGER):
            raise PermissionDenied(
                command="/release gonogo --approve", role=Role.RELEASE_MANAGER.value
            )
        if not r.plan.launch.gonogo.approve_review:
            raise Refused(t("gonogo.review_not_approvable", service=r.service, plan=r.plan.name))
        a = state.assessment
        if a is None or a.verdict is not matrix.Verdict.REVIEW:
            raise Refused(t("gonogo.nothing_to_approve", service=r.service))
        approved = replace(a, approved_by=ctx.actor.handle)
        launch_rows.store(
            ctx.session, release_id=r.id, state=replace(state, assessment=approved), now=ctx.now
        )
        ctx.audit_detail = f"release {r.id} {r.service}: REVIEW {a.score:g}% approved"
        return launch_views.gonogo(r, approved)
    if not words:
        raise UsageError(t("gonogo.values_needed"), usage=cmd.spec.usage())
    policy = r.plan.launch.gonogo
    values = matrix.parse_values(words, policy)
    a = matrix.assess(values, policy, by=ctx.actor.handle, at=ctx.now)
    launch_rows.store(ctx.session, release_id=r.id, state=replace(state, assessment=a), now=ctx.now)
    ctx.audit_detail = f"release {r.id} {r.service}: {a.verdict.value} {a.score:g}%"
    return launch_views.gonogo(r, a)


def _rollback_run(ctx: CommandContext, r: Release) -> tuple[ProcedureRun, Run] | None:
    """While a release is rolled back, its runbook is the rollback's."""
    if r.state is not ReleaseState.ROLLED_BACK:
        return None
    row = procedure_repo.latest_for_release(ctx.session, release_id=r.id, for_update=True)
    return (row, procedure_rows.to_run(row)) if row is not None else None


def runbook(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    _, r = _latest(ctx, cmd.args["service"])
    rolled_back = _rollback_run(ctx, r)
    if rolled_back is not None:
        run = rolled_back[1]
        return procedure_runs.view(run, now=ctx.now, who=procedure_rows.who_for(ctx.directory, run))
    return launch_views.runbook(r, launch_rows.load(ctx.session, r.id), now=ctx.now)


def step(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    _, r = _latest(ctx, cmd.args["service"])
    number = int(cmd.args["step"])
    rolled_back = _rollback_run(ctx, r)
    if rolled_back is not None:
        mark = "done" if cmd.args["mark"] == "done" else "skipped"
        row, run = rolled_back
        return playbook_commands.mark_step(ctx, row, run, number=number, mark=mark, note=_note(cmd))
    steps = r.plan.launch.runbook
    if not steps:
        raise launch_state.Unknown(t("runbook.none", service=r.service, plan=r.plan.name))
    if not 1 <= number <= len(steps):
        raise launch_state.Unknown(t("runbook.no_such_step", number=number, count=len(steps)))
    state = launch_rows.load(ctx.session, r.id)
    mark = "done" if cmd.args["mark"] == "done" else "skipped"
    before = state.steps.get(number)
    if before is not None:
        raise Refused(before.refusal(number))
    marks = {**state.steps, number: Mark(ctx.actor.handle, ctx.now, _note(cmd), mark)}
    launch_rows.store(ctx.session, release_id=r.id, state=replace(state, steps=marks), now=ctx.now)
    ctx.audit_detail = f"release {r.id} {r.service}: step {number} {mark}"
    return launch_views.marked(r, number, state=mark, actor=ctx.actor.handle)


# ---------------------------------------------------------------- timers


def _release(ctx: SystemContext, timer: Timer) -> Release | None:
    row = repo.get(ctx.session, release_id=int(timer.payload["release_id"]))
    return to_view(row) if row is not None else None


def progress_due(ctx: SystemContext, timer: Timer) -> None:
    r = _release(ctx, timer)
    if r is not None:
        ctx.effects += launch_timers.progress(
            r,
            launch_rows.load(ctx.session, r.id),
            now=ctx.now,
            before=timer.payload.get("values", {}),
            simulated=ctx.simulated(r.metrics),
            said=timer.payload.get("said"),
        )


def followup_measure(ctx: SystemContext, timer: Timer) -> None:
    r = _release(ctx, timer)
    if r is not None:
        ctx.effects += launch_timers.followup_measure(r, timer.payload, now=ctx.now)


def followup_due(ctx: SystemContext, timer: Timer) -> None:
    r = _release(ctx, timer)
    if r is not None:
        ctx.effects += launch_timers.followup(
            r,
            day=int(timer.payload["day"]),
            completed_at=datetime.fromisoformat(timer.payload["completed_at"]),
            before=timer.payload.get("values", {}),
            simulated=ctx.simulated(r.metrics),
        )


def step_due(ctx: SystemContext, timer: Timer) -> None:
    r = _release(ctx, timer)
    if r is None:
        return
    number = int(timer.payload["step"])
    if not 1 <= number <= len(r.plan.launch.runbook):
        return
    owner = r.plan.launch.runbook[number - 1].owner
    ctx.effects += launch_timers.step_due(
        r,
        launch_rows.load(ctx.session, r.id),
        number=number,
        owners=launch_rows.owners_of(ctx.directory, r, owner),
    )


_SERVICE = Arg("service", Word(metavar="SERVICE"))
_NOTE = Flag("note", Word(metavar="TEXT"))
_ITEM = Arg("item", Integer(metavar="N", maximum=1000))

_spec = verb_of("release", default_role=Role.RESPONDER, changes_state=True)

SPECS = (
    _spec("checklist", checklist, args=(_SERVICE,), role=None, changes_state=False),
    _spec("check", check, args=(_SERVICE, _ITEM), flags=(_NOTE,)),
    _spec("uncheck", uncheck, args=(_SERVICE, _ITEM)),
    _spec(
        "gonogo",
        gonogo,
        args=(_SERVICE, Arg("scores", Word(metavar="NAME=VALUE"), required=False, rest=True)),
        flags=(Flag("approve"),),
    ),
    _spec("runbook", runbook, args=(_SERVICE,), role=None, changes_state=False),
    _spec(
        "step",
        step,
        args=(
            _SERVICE,
            Arg("step", Integer(metavar="N", maximum=1000)),
            Arg("mark", Choice(("done", "skip"))),
        ),
        flags=(_NOTE,),
    ),
)

TIMER_HANDLERS = {
    launch_timers.PROGRESS_KIND: progress_due,
    launch_timers.FOLLOWUP_MEASURE_KIND: followup_measure,
    launch_timers.FOLLOWUP_KIND: followup_due,
    launch_timers.STEP_KIND: step_due,
}
