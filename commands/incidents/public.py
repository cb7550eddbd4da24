"""What the public is told of an incident: ``/incident update ID --public TEXT`` and
``/incident public-title ID TEXT``, and the read the status page is built from (only the
public title and the public updates of the public services' incidents)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from commands.core.context import CommandContext
from commands.core.effects import without_echo
from commands.core.grammar import Integer, Word, free_text
from commands.core.registry import Arg, ParsedCommand, verb_of
from commands.incidents.rows import save, to_view
from playbooks.errors import NotFound
from playbooks.incidents import status
from playbooks.incidents.machine import IncidentState, Result
from playbooks.messages import Message, t, text_from_str
from playbooks.people import Role
from storage.models import IncidentRow
from storage.repositories import incidents as repo
from storage.unit_of_work import unit_of_work

MAX_PUBLIC_TITLE = 200
MAX_PUBLIC_TEXT = 2000


def _load(ctx: CommandContext, incident_id: int) -> IncidentRow:
    row = repo.get(ctx.session, incident_id=incident_id, for_update=True)
    if row is None:
        raise NotFound(t("incident.unknown", id=incident_id))
    return row


def _finish(ctx: CommandContext, row: IncidentRow, result: Result, detail: str) -> Message:
    save(ctx.session, row, result)
    reply = result.reply
    assert reply is not None
    ctx.effects += without_echo(result.effects, here=ctx.conversation, reply=reply)
    ctx.audit_detail = f"incident {row.id}: {detail}"
    return reply


def update(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """``/incident update ID --public TEXT`` (the update handler hands it here)."""
    row = _load(ctx, cmd.args["id"])
    text = free_text(
        cmd.args["text"],
        limit=MAX_PUBLIC_TEXT,
        needed=t("incident.text_needed", what=t("incident.what.public_update")),
        usage=cmd.spec.usage(),
    )
    result = status.public_update(to_view(row), actor=ctx.actor.handle, now=ctx.now, text=text)
    return _finish(ctx, row, result, "public update")


def public_title(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    title = free_text(
        cmd.args["title"],
        limit=MAX_PUBLIC_TITLE,
        needed=t("incident.text_needed", what=t("incident.what.public_title")),
        usage=cmd.spec.usage(),
    )
    row = _load(ctx, cmd.args["id"])
    result = status.public_title(to_view(row), title, actor=ctx.actor.handle, now=ctx.now)
    row.public_title = title
    return _finish(ctx, row, result, "public title")


_spec = verb_of("incident", default_role=Role.RESPONDER, changes_state=True)

SPECS = (
    _spec(
        "public-title",
        public_title,
        args=(Arg("id", Integer(metavar="ID")), Arg("title", Word(metavar="TEXT"), rest=True)),
    ),
)


# ---------------------------------------------------------------- the status page's read


def public_incidents(
    engine: Engine, *, services: Sequence[str], since: datetime
) -> list[status.PublicIncident]:
    """The incidents of the public services unresolved or resolved since ``since``, as
    the public may know them: severity, times, public title and public updates alone."""
    with unit_of_work(engine) as session:
        rows = repo.of_services_since(session, services=services, since=since)
        ids = [row.id for row in rows if row.id is not None]
        updates: dict[int, list[status.PublicUpdate]] = {}
        for event in repo.events_of_kind(session, incident_ids=ids, kind=status.PUBLIC_UPDATE):
            said = text_from_str(event.text)
            text = str(said.params.get("text", "")) if said.key == "raw" else ""
            if text:
                said_then = status.PublicUpdate(event.at, text)
                updates.setdefault(event.incident_id, []).append(said_then)
        return [
            status.PublicIncident(
                id=row.id,
                service=row.service or "",
                severity=row.severity,
                mitigated=row.state == IncidentState.MITIGATED.value,
                opened_at=row.opened_at,
                resolved_at=None if row.state in repo.UNRESOLVED else (row.resolved_at or since),
                public_title=row.public_title,
                updates=tuple(updates.get(row.id, ())),
            )
            for row in rows
            if row.id is not None
        ]
