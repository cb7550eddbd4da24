"""An incident's room: asked for when the incident opens, closed after its grace, and
found again when a command is typed in it (``/incident ack`` there needs no id)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from commands.core.registry import CommandTable
from commands.incidents.rows import to_view
from playbooks.effects import Conversation
from playbooks.incidents import rooms
from playbooks.incidents.machine import Incident, Result
from storage.models import IncidentRow, Timer
from storage.repositories import incidents as repo
from storage.repositories import rooms as room_rows
from storage.unit_of_work import unit_of_work

FAMILY = "/incident"


def give_room(
    ctx: CommandContext | SystemContext, row: IncidentRow, *, shared: Conversation
) -> bool:
    """Address a new incident's news to a room of its own, where its severity asks for
    one; whether it does. Called before the incident's opening is decided."""
    if row.id is None or not ctx.incidents.rooms.wanted(row.severity):
        return False
    row.channel = str(Conversation(shared.platform, rooms.address(row.id)))
    ctx.session.add(row)
    return True


def opened(
    ctx: CommandContext | SystemContext,
    row: IncidentRow,
    result: Result,
    *,
    shared: Conversation,
    paged: list[str],
) -> Result:
    """The opening of an incident given a room, told there, with one line elsewhere."""
    i = result.incident
    return rooms.opened_in_room(
        result,
        name=rooms.platform_name(i.id, i.title, platform=shared.platform),
        shared=shared,
        close_after=ctx.incidents.rooms.close_after,
        paged=paged,
    )


def after_move(ctx: CommandContext, before: Incident, after: Incident) -> None:
    """Closing the incident arms the room's closing; reopening it disarms it."""
    room = room_rows.of_incident(ctx.session, incident_id=after.id)
    grace = ctx.incidents.rooms.close_after
    if room is not None:
        grace = timedelta(seconds=room.close_after_seconds)
    ctx.effects += rooms.after_move(before, after, now=ctx.now, close_after=grace)


def on_close(ctx: SystemContext, timer: Timer) -> None:
    row = repo.get(ctx.session, incident_id=int(timer.payload["incident_id"]), for_update=True)
    if row is not None:
        ctx.effects += rooms.close_due(to_view(row))


TIMER_HANDLERS = {rooms.KIND_CLOSE: on_close}


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
