"""Conversations that stand for something: an incident's room. A reply typed in a room
is addressed as the room (``#inc-42``), and ``/incident ack`` typed there means its
incident. The pipeline asks this before any command room is involved."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from commands.core.registry import CommandTable
from playbooks.effects import Conversation
from storage.repositories import rooms as room_rows
from storage.unit_of_work import unit_of_work

FAMILY = "/incident"


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
