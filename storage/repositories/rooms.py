"""Incident rooms: asked for, made (or refused), closed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import IncidentRoom

PENDING, OPEN, FALLBACK, CLOSED = "pending", "open", "fallback", "closed"


def ask(
    session: Session,
    *,
    incident_id: int,
    platform: str,
    address: str,
    name: str,
    fallback: str,
    close_after_seconds: int,
    now: datetime,
) -> IncidentRoom:
    room = IncidentRoom(
        incident_id=incident_id,
        platform=platform,
        address=address,
        name=name,
        fallback=fallback,
        close_after_seconds=close_after_seconds,
        created_at=now,
    )
    session.add(room)
    session.flush()
    return room


def of_incident(session: Session, *, incident_id: int) -> IncidentRoom | None:
    return session.get(IncidentRoom, incident_id)


def at(session: Session, *, platform: str, address: str) -> IncidentRoom | None:
    """The room addressed as ``address`` (Shipwatch's ``#inc-42``)."""
    return session.exec(
        select(IncidentRoom).where(
            IncidentRoom.platform == platform, IncidentRoom.address == address
        )
    ).first()


def where_typed(session: Session, *, platform: str, channel: str) -> IncidentRoom | None:
    """The live room a message was typed in, by its platform id or by its address."""
    return session.exec(
        select(IncidentRoom)
        .where(
            IncidentRoom.platform == platform,
            col(IncidentRoom.state).in_((PENDING, OPEN)),
            (col(IncidentRoom.platform_id) == channel) | (col(IncidentRoom.address) == channel),
        )
        .order_by(col(IncidentRoom.incident_id).desc())
    ).first()


def newly_invited(session: Session, *, platform: str, address: str, people: list[str]) -> list[str]:
    """Those of ``people`` not asked into the room before, now recorded as asked."""
    room = at(session, platform=platform, address=address)
    if room is None:
        return []
    new = [p for p in dict.fromkeys(people) if p not in room.invited]
    if new:
        room.invited = [*room.invited, *new]
        session.add(room)
    return new


def opened(session: Session, *, platform: str, address: str, platform_id: str) -> None:
    room = at(session, platform=platform, address=address)
    if room is not None and room.state == PENDING:
        room.state, room.platform_id = OPEN, platform_id
        session.add(room)


def refused(session: Session, *, platform: str, address: str, reason: str) -> bool:
    """Record that no room could be made; whether this is the first refusal of its kind
    on the platform (said once, not for every incident)."""
    room = at(session, platform=platform, address=address)
    if room is None:
        return False
    earlier = session.exec(
        select(IncidentRoom.incident_id).where(
            IncidentRoom.platform == platform,
            IncidentRoom.state == FALLBACK,
            IncidentRoom.reason == reason[:500],
            IncidentRoom.incident_id != room.incident_id,
        )
    ).first()
    room.state, room.reason = FALLBACK, reason[:500]
    session.add(room)
    return earlier is None


def closed(session: Session, *, platform: str, address: str) -> None:
    room = at(session, platform=platform, address=address)
    if room is not None and room.state == OPEN:
        room.state = CLOSED
        session.add(room)
