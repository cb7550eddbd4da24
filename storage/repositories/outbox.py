"""The transactional outbox: messages written with the state, delivered in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import OutboxMessage


def enqueue(
    session: Session,
    *,
    platform: str,
    address: str,
    kind: str,
    message: Mapping[str, Any],
    now: datetime,
    edit_key: str | None = None,
) -> OutboxMessage:
    row = OutboxMessage(
        edit_key=edit_key,
        platform=platform,
        address=address,
        conversation_key=f"{platform}:{address}",
        kind=kind,
        message=dict(message),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def deliverable(session: Session, *, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Rows due now, oldest first, at most one per conversation.

    A conversation whose oldest pending row is still backing off is skipped
    entirely, so a later message never overtakes an earlier one.
    """
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(_heads()), col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def claim_due(
    session: Session, *, now: datetime, until: datetime, limit: int = 100
) -> list[OutboxMessage]:
    """Take the deliverable messages for this worker until ``until`` (a lease).

    Another process may be looking at the same rows: only those whose update this
    transaction wins are returned, so no message is sent by two workers. A worker
    that dies mid-send lets the lease lapse, and the message is tried again.
    """
    rows = deliverable(session, now=now, limit=limit)
    if not rows:
        return []
    won = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_([row.id for row in rows]),
            col(OutboxMessage.state) == "pending",
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .values(next_attempt_at=until)
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    )
    claimed = set(won.scalars().all())
    return [row for row in rows if row.id in claimed]


def next_attempt(session: Session) -> datetime | None:
    """When the next delivery can happen: the earliest retry among conversation heads
    (a message queued behind another cannot go first, whatever its own time)."""
    return session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(col(OutboxMessage.id).in_(_heads()))
    ).one()


def _heads() -> Any:
    """The oldest pending message of every conversation."""
    return (
        select(func.min(OutboxMessage.id))
        .where(OutboxMessage.state == "pending")
        .group_by(col(OutboxMessage.conversation_key))
    )


def get(session: Session, *, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def dead(session: Session, *, limit: int = 20) -> Sequence[OutboxMessage]:
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.state == "dead")
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()


def depth(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(OutboxMessage.state, func.count()).group_by(col(OutboxMessage.state))
    ).all()
    counts = {"pending": 0, "sent": 0, "dead": 0}
    counts.update({state: n for state, n in rows})
    return counts


def edited_ref(session: Session, *, conversation_key: str, edit_key: str) -> str | None:
    """The platform's reference to the last delivered message of ``edit_key`` there."""
    query = (
        select(OutboxMessage.platform_ref)
        .where(
            OutboxMessage.edit_key == edit_key,
            OutboxMessage.conversation_key == conversation_key,
            col(OutboxMessage.platform_ref).is_not(None),
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    return session.exec(query).first()
