"""An incident's room: asked for when the incident opens, closed after its grace, and
found again when a command is typed in it (``/incident ack`` there needs no id)."""

from __future__ import annotations

from datetime import timedelta

from commands.core.context import CommandContext, SystemContext
from commands.incidents.rows import to_view
from playbooks.effects import Conversation
from playbooks.incidents import rooms
from playbooks.incidents.alerts import more_severe
from playbooks.incidents.machine import Incident, Result
from playbooks.incidents.rooms import HANDS_ON
from storage.models import IncidentRow, Timer
from storage.repositories import incidents as repo
from storage.repositories import pages as page_rows
from storage.repositories import rooms as room_rows


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


def raised(
    ctx: CommandContext | SystemContext, row: IncidentRow, before: Incident, result: Result
) -> tuple[Result, Conversation | None]:
    """An incident raised into a severity that has rooms gets its room now, if it has none
    yet: its news is addressed there from now on. The room, when one is made."""
    after = result.incident
    if (
        row.id is None
        or rooms.incident_of(before.channel.channel) is not None
        or not after.unresolved
        or not more_severe(after.severity, before.severity)
        or not ctx.incidents.rooms.wanted(after.severity)
        or room_rows.of_incident(ctx.session, incident_id=row.id) is not None
    ):
        return result, None
    room = Conversation(before.channel.platform, rooms.address(row.id))
    row.channel = str(room)
    ctx.session.add(row)
    hands = [e.actor for e in repo.events(ctx.session, incident_id=row.id) if e.kind in HANDS_ON]
    reached = [
        person
        for page in page_rows.for_incident(ctx.session, incident_id=row.id)
        for person in (*page.paged, page.acked_by or "")
    ]
    moved = rooms.raised_into_room(
        result,
        room=room,
        name=rooms.platform_name(after.id, after.title, platform=room.platform),
        close_after=ctx.incidents.rooms.close_after,
        people=[*hands, *reached],
    )
    return moved, room


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
