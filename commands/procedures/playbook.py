"""/playbook list, show, run and step: the emergency playbooks of seed 003 §8.2 started
from chat and tracked like a runbook; and the timers of every run (rollback runbooks too)."""

from __future__ import annotations

from datetime import timedelta

from commands.core.context import CommandContext, SystemContext
from commands.core.effects import without_echo
from commands.core.grammar import Choice, Integer, Word, free_text
from commands.core.named import service_named
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from commands.procedures import rows
from playbooks.effects import Conversation, Effect
from playbooks.errors import NotFound
from playbooks.messages import Message, MessageField, joined, raw, t
from playbooks.people import Role
from playbooks.procedures import runs
from playbooks.procedures.plan import Procedure, owner_word
from playbooks.procedures.runs import Run, RunKind
from storage.models import ProcedureRun, Timer
from storage.repositories import procedure_runs as repo

MAX_NOTE = 500
LIST_RUNS = 10


def _procedure(ctx: CommandContext, name: str) -> Procedure:
    found = ctx.releases.playbooks.get(name.lower())
    if found is None:
        if not ctx.releases.playbooks:
            raise NotFound(t("playbook.none"))
        known = ", ".join(sorted(ctx.releases.playbooks))
        raise NotFound(t("playbook.unknown", value=name, known=known))
    return found


def _run(ctx: CommandContext | SystemContext, run_id: int) -> tuple[ProcedureRun, Run]:
    row = repo.get(ctx.session, run_id=run_id, for_update=True)
    if row is None:
        raise NotFound(t("playbook.no_such_run", id=run_id))
    return row, rows.to_run(row)


def _note(cmd: ParsedCommand) -> str:
    return free_text(cmd.flags["note"], limit=MAX_NOTE, needed=None, usage=cmd.spec.usage())


def _described(p: Procedure) -> Message:
    blocks = [t("playbook.described", name=p.name, title=raw(p.title))]
    if p.trigger:
        blocks.append(t("run.trigger", trigger=raw(p.trigger)))
    deciders = [owner_word(w) for w in p.decision]
    blocks.append(
        t("playbook.decides", who=joined(deciders, separator="list.commas") if deciders else "-")
    )
    blocks.append(t("playbook.notifies", who=", ".join(p.notify) or "-"))
    blocks.append(t("playbook.recovery", clock=p.clock) if p.clock else t("playbook.no_recovery"))
    fields = tuple(
        MessageField(
            t(
                "playbook.step_label",
                number=n,
                offset=f"T+{_span(s.due)}",
                owner=owner_word(s.owner),
            ),
            raw(s.text),
        )
        for n, s in enumerate(p.steps, start=1)
    )
    blocks.append(t("playbook.run_hint", name=p.name))
    return Message(blocks=tuple(blocks), fields=fields)


def _span(due: timedelta) -> str:
    minutes = int(due.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def list_(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    known = sorted(ctx.releases.playbooks.items())
    blocks = [t("playbook.list_header", count=len(known)) if known else t("playbook.none")]
    blocks += [raw(f"• {name} — {p.title}: {p.trigger or '-'}") for name, p in known]
    fields = []
    recent = [rows.to_run(row) for row in repo.recent(ctx.session, limit=LIST_RUNS)]
    for run in recent:
        state = (
            t("playbook.run_closed", at=run.closed_at)
            if run.closed_at
            else t("playbook.run_open", open=len(run.open_steps), count=len(run.procedure.steps))
        )
        fields.append(
            MessageField(
                t(
                    "playbook.run_line",
                    label=run.label,
                    at=run.started_at,
                    kind=t(f"run.kind.{run.kind}"),
                ),
                state,
            )
        )
    if recent:
        blocks.append(t("playbook.runs_header", count=len(recent)))
    return Message(blocks=tuple(blocks), fields=tuple(fields))


def show(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    what = str(cmd.args["what"]).lstrip("#")
    if what.isdigit():
        _, run = _run(ctx, int(what))
        return runs.view(run, now=ctx.now, who=rows.who_for(ctx.directory, run))
    return _described(_procedure(ctx, what))


def run(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    procedure = _procedure(ctx, cmd.args["name"])
    service = service_named(ctx, cmd.flags["service"]) if cmd.flags["service"] else None
    channel = ctx.conversation
    if service is not None:
        address = service.incident_channel or service.release_channel
        channel = Conversation.parse(address, default_platform=ctx.channels_platform)
    started = rows.add(
        ctx.session,
        Run(
            id=0,
            kind=RunKind.PLAYBOOK,
            procedure=procedure,
            channel=channel,
            started_at=ctx.now,
            started_by=ctx.actor.handle,
            service=service.name if service else None,
            subject=service.name if service else "",
            reason=f"@{ctx.actor.handle}" + (f": {note}" if (note := _note(cmd)) else ""),
        ),
    )
    who = rows.who_for(ctx.directory, started)
    notify = [
        Conversation.parse(word, default_platform=ctx.channels_platform)
        for word in procedure.notify
        if word.startswith("#") or ":" in word
    ]
    people: list[str] = []
    for word in (*procedure.decision, *procedure.notify):
        people += [h for h in who.get(word, ()) if h not in people and h != ctx.actor.handle]
    effects: list[Effect] = runs.opened(started, who=who, notify=notify, people=people)
    reply = runs.view(started, now=ctx.now, who=who)
    if ctx.conversation not in (started.channel, *notify):
        # Told in full where it is followed (and to whom it notifies), pointed to here:
        # not a third copy with a third set of buttons.
        where = str(started.channel.channel)
        reply = Message.of(
            t("run.started_elsewhere", id=started.id, title=raw(procedure.title), channel=where)
        )
    ctx.effects += without_echo(effects, here=ctx.conversation, reply=reply)
    ctx.audit_detail = f"run {started.id} {procedure.name}" + (
        f" for {service.name}" if service else ""
    )
    return reply


def mark_step(
    ctx: CommandContext, row: ProcedureRun, run: Run, *, number: int, mark: str, note: str
) -> Message:
    """Mark a run's step (from /playbook step or, for a rollback, /release step)."""
    after, effects, reply = runs.mark(
        run, number, state=mark, by=ctx.actor.handle, at=ctx.now, note=note
    )
    rows.store(ctx.session, row, after, now=ctx.now)
    ctx.effects += without_echo(effects, here=ctx.conversation, reply=reply)
    ctx.audit_detail = f"run {run.id} {run.procedure.name}: step {number} {mark}"
    return reply


def step(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, run_ = _run(ctx, int(cmd.args["run"]))
    mark = "done" if cmd.args["mark"] == "done" else "skipped"
    return mark_step(ctx, row, run_, number=int(cmd.args["step"]), mark=mark, note=_note(cmd))


# ---------------------------------------------------------------- timers


def _timer_run(ctx: SystemContext, timer: Timer) -> Run | None:
    row = repo.get(ctx.session, run_id=int(timer.payload["run_id"]))
    return rows.to_run(row) if row is not None else None


def step_overdue(ctx: SystemContext, timer: Timer) -> None:
    found = _timer_run(ctx, timer)
    if found is not None:
        ctx.effects += runs.step_overdue(
            found, int(timer.payload["step"]), now=ctx.now, who=rows.who_for(ctx.directory, found)
        )


def clock_over(ctx: SystemContext, timer: Timer) -> None:
    found = _timer_run(ctx, timer)
    if found is not None:
        ctx.effects += runs.clock_over(found, who=rows.who_for(ctx.directory, found))


def update_due(ctx: SystemContext, timer: Timer) -> None:
    found = _timer_run(ctx, timer)
    if found is not None:
        ctx.effects += runs.update_due(found, now=ctx.now)


_NOTE = Flag("note", Word(metavar="TEXT"))
_spec = verb_of("playbook", default_role=None, changes_state=False)

SPECS = (
    _spec("list", list_),
    _spec("show", show, args=(Arg("what", Word(metavar="ID|NAME")),)),
    _spec(
        "run",
        run,
        args=(Arg("name", Word(metavar="PLAYBOOK")),),
        flags=(Flag("service", Word(metavar="SERVICE")), _NOTE),
        role=Role.RESPONDER,
        changes_state=True,
    ),
    _spec(
        "step",
        step,
        args=(
            Arg("run", Integer(metavar="ID", maximum=10**9)),
            Arg("step", Integer(metavar="N", maximum=1000)),
            Arg("mark", Choice(("done", "skip"))),
        ),
        flags=(_NOTE,),
        role=Role.RESPONDER,
        changes_state=True,
    ),
)

TIMER_HANDLERS = {
    runs.STEP_KIND: step_overdue,
    runs.CLOCK_KIND: clock_over,
    runs.UPDATES_KIND: update_due,
}
