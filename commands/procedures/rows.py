"""Between stored procedure runs and the domain: load and save a run, who its owner words
mean, and the rollback runbook a release's rollback starts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from commands.releases.launch_rows import people_meant
from playbooks.effects import Conversation, Effect
from playbooks.launch.state import Mark
from playbooks.messages import t, text_to_str
from playbooks.people import Directory
from playbooks.procedures import runs
from playbooks.procedures.plan import Procedure
from playbooks.procedures.runs import Run, RunKind, Who
from playbooks.releases.machine import HistoryEntry, Move, Release
from storage.models import ProcedureRun
from storage.repositories import procedure_runs as repo


def to_run(row: ProcedureRun) -> Run:
    assert row.id is not None
    return Run(
        id=row.id,
        kind=RunKind(row.kind),
        procedure=Procedure.from_json(row.procedure),
        channel=Conversation.parse(row.channel),
        started_at=row.started_at,
        started_by=row.started_by,
        service=row.service,
        release_id=row.release_id,
        subject=row.subject,
        reason=row.reason,
        marks={int(k): Mark.from_json(v) for k, v in row.marks.items()},
        closed_at=row.closed_at,
    )


def add(session: Session, run: Run) -> Run:
    """Store a new run (its ``id`` ignored) and return it with its id."""
    row = repo.add(
        session,
        ProcedureRun(
            kind=run.kind.value,
            name=run.procedure.name,
            service=run.service,
            release_id=run.release_id,
            subject=run.subject,
            channel=str(run.channel),
            reason=run.reason,
            procedure=run.procedure.to_json(),
            started_at=run.started_at,
            started_by=run.started_by,
            updated_at=run.started_at,
        ),
    )
    return to_run(row)


def store(session: Session, row: ProcedureRun, run: Run, *, now: datetime) -> None:
    row.marks = {str(k): v.to_json() for k, v in run.marks.items()}
    row.closed_at = run.closed_at
    row.updated_at = now
    session.add(row)
    session.flush()


def who_for(directory: Directory, run: Run) -> Who:
    """Every owner, decision and notify word of the run → the people it means now."""
    p = run.procedure
    words = {"owner", *(s.owner for s in p.steps), *p.decision, *p.notify}
    return {
        word: people_meant(directory, word, starter=run.started_by)
        for word in words
        if not word.startswith("#") and ":" not in word
    }


def rollback_started(
    session: Session,
    directory: Directory,
    r: Release,
    history: Sequence[HistoryEntry],
) -> list[Effect]:
    """A rollback (automatic or a person's) starts the plan's rollback runbook, owned by
    the release's owner, posted in the release channel, its clock running."""
    procedure = r.plan.rollback_runbook
    entry = next((e for e in history if e.move is Move.ROLLBACK), None)
    if procedure is None or entry is None:
        return []
    run = add(
        session,
        Run(
            id=0,
            kind=RunKind.ROLLBACK,
            procedure=procedure,
            channel=r.channel,
            started_at=entry.at,
            started_by=r.owner,
            service=r.service,
            release_id=r.id,
            subject=f"{r.service} {r.version}",
            reason=text_to_str(t("run.started_by", actor=entry.actor, reason=entry.reason))
            if entry.reason
            else f"@{entry.actor}",
        ),
    )
    return runs.opened(run, who=who_for(directory, run))
