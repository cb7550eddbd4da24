"""/summary note: what only people know, given before the daily or weekly report runs;
and the ask for it, ``notes.before`` the report, to whoever summaries.yaml names."""

from __future__ import annotations

from datetime import datetime

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Choice, Word, free_text
from commands.core.registry import Arg, ParsedCommand, verb_of
from commands.reports.runs import notes_given, view
from playbooks.errors import UsageError
from playbooks.messages import Message, Severity, t
from playbooks.people import Role
from playbooks.reports import notes
from storage.models import SummaryNote, Timer
from storage.repositories import summaries as repo

MAX_NOTE = 1000
ALL_SECTIONS = tuple(dict.fromkeys(s for group in notes.SECTIONS.values() for s in group))


def note(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    kind = notes.REPORT_NAMES[cmd.args["report"]]
    section: str = cmd.args["section"]
    if section not in notes.SECTIONS[kind]:
        raise UsageError(
            t(
                "summary.note_wrong_section",
                report=cmd.args["report"],
                section=section,
                sections=", ".join(notes.SECTIONS[kind]),
            ),
            usage=cmd.spec.usage(),
        )
    needed = t("summary.note_text_needed")
    text = free_text(cmd.args["text"], limit=MAX_NOTE, needed=needed, usage=cmd.spec.usage())
    ctx.session.add(
        SummaryNote(
            report=kind.value,
            section=section,
            text=text,
            author=ctx.actor.handle,
            created_at=ctx.now,
        )
    )
    ctx.audit_detail = f"note {kind.value} {section}"
    return Message.of(
        t(
            "summary.noted",
            section=t(f"summary.note.{section}"),
            report=t(f"summary.kind.{kind.value}"),
        ),
        severity=Severity.SUCCESS,
    )


def notes_due(ctx: SystemContext, timer: Timer) -> None:
    """An hour (``notes.before``) before a daily or weekly report: ask for what is missing."""
    row = repo.get(ctx.session, subscription_id=int(timer.payload["subscription_id"]))
    scheduled = datetime.fromisoformat(timer.payload["scheduled_at"])
    if row is None or row.state != "active" or row.next_run_at != scheduled:
        return  # stopped, or moved since this ask was armed
    sub = view(row)
    have = {n.section for n in notes_given(ctx.session, sub.kind, at=ctx.now)}
    ctx.effects += notes.reminder(
        sub.kind,
        report_at=scheduled,
        given=sorted(have),
        ask=ctx.summaries.notes_ask,
        platform=sub.conversation.platform,
    )


spec = verb_of("summary")
SPECS = (
    spec(
        "note",
        note,
        args=(
            Arg("report", Choice(tuple(notes.REPORT_NAMES))),
            Arg("section", Choice(ALL_SECTIONS)),
            Arg("text", Word(metavar="TEXT"), rest=True),
        ),
        role=Role.RESPONDER,
        changes_state=True,
    ),
)
TIMER_HANDLERS = {notes.REMIND_KIND: notes_due}
