"""Conversations that stand for something: an incident's room. A reply typed in a room
is addressed as the room (``#inc-42``), ``/incident ack`` typed there means its
incident, and any command typed there goes on its timeline. The pipeline asks this
before any command room is involved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from commands.core.registry import CommandSpec, CommandTable
from playbooks.effects import Conversation
from playbooks.incidents.rooms import incident_of
from playbooks.messages import Text, raw, t, text_to_str
from storage.models import IncidentEvent
from storage.repositories import incidents as incident_rows
from storage.repositories import rooms as room_rows
from storage.unit_of_work import unit_of_work

FAMILY = "/incident"
KIND = "command"  # the timeline line of a command typed in the room
MAX_TYPED = 300  # characters of the command kept on the timeline


@dataclass(frozen=True, slots=True)
class Watch:
    """A command typed in an incident's room, before it runs: the incident, and its
    latest timeline line then (a line after it means the command wrote its own)."""

    incident_id: int
    last_line: int


def watch(session: Session, conversation: Conversation, spec: CommandSpec) -> Watch | None:
    """Whether a command typed in ``conversation`` (as addressed) goes on an incident's
    timeline: in a room, unless it is one of the incident's own read-only views (``show``,
    ``timeline``…), which say nothing new."""
    incident_id = incident_of(conversation.channel)
    if incident_id is None or (spec.family == FAMILY[1:] and not spec.changes_state):
        return None
    if incident_rows.get(session, incident_id=incident_id) is None:
        return None
    return Watch(incident_id, incident_rows.last_event_id(session, incident_id=incident_id))


def on_timeline(
    session: Session,
    seen: Watch,
    *,
    actor: str,
    typed: str,
    result: Text | None,
    now: datetime,
    refused: bool = False,
) -> None:
    """One line for a command typed in the room: who, what was typed, what came of it in
    short (the reply's first line, or why it was refused). None when the command wrote a
    line of its own."""
    if _wrote_a_line(session, seen):
        return
    command = raw(typed if len(typed) <= MAX_TYPED else typed[: MAX_TYPED - 1] + "…")
    if result is None:
        line = t("incident.room.command_bare", command=command)
    elif refused:
        line = t("incident.room.command_refused", command=command, reason=result)
    else:
        line = t("incident.room.command", command=command, result=result)
    incident_rows.add_event(
        session,
        IncidentEvent(
            incident_id=seen.incident_id, at=now, actor=actor, kind=KIND, text=text_to_str(line)
        ),
    )


def _wrote_a_line(session: Session, seen: Watch) -> bool:
    """Whether this transaction put a line on the incident's timeline since ``seen`` (a
    line another request wrote meanwhile is not this command's)."""
    return any(
        isinstance(row, IncidentEvent)
        and row.incident_id == seen.incident_id
        and (row.id is None or row.id > seen.last_line)
        for row in (*session.new, *session.identity_map.values())
    )


def addressed(session: Session, conversation: Conversation) -> Conversation:
    """A conversation as incidents address it: a room typed in by its platform id is
    ``#inc-42``, so a reply there is not said twice."""
    if conversation.channel.startswith(("#", "@")):
        return conversation  # a name (the console's, channels.yaml's): no platform id
    room = room_rows.where_typed(
        session, platform=conversation.platform, channel=conversation.channel
    )
    return Conversation(conversation.platform, room.address) if room else conversation


def with_room_incident(
    engine: Engine, text: str, *, conversation: Conversation, table: CommandTable
) -> str:
    """``/incident ack`` typed in an incident's room means that incident: its id is put
    where the command expects one. Anything else is left as typed."""
    words = text.strip().split(maxsplit=2)
    if len(words) < 2 or words[0].split("@", 1)[0].lower() != FAMILY:
        return text
    verb = words[1].lower()
    spec = next((s for s in table.specs("incident") if s.verb == verb), None)
    if spec is None or not spec.args or spec.args[0].name != "id":
        return text
    rest = words[2] if len(words) > 2 else ""
    first = rest.split(maxsplit=1)[0] if rest.strip() else ""
    if first.isdigit():
        return text
    with unit_of_work(engine) as session:
        room = room_rows.where_typed(
            session, platform=conversation.platform, channel=conversation.channel
        )
        if room is None:
            return text
        incident_id = room.incident_id
    return f"{words[0]} {words[1]} {incident_id} {rest}".rstrip()
