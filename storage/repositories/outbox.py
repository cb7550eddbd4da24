"""The transactional outbox: messages written with the state, delivered in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    case,
    func,
    insert,
    or_,
    type_coerce,
    update,
)
from sqlmodel import Session, col, select

from storage.models import OutboxMessage
from storage.types import UTCDateTime
from storage.unit_of_work import execute_unflushed

# A post that only refreshes an earlier one of its edit_key: edited in place where the
# platform edits, and not sent at all elsewhere.
REVISION = "revise"
# An incident room's platform work, in the room's own conversation (its posts wait for it).
ROOM_OPEN, ROOM_INVITE, ROOM_CLOSE = "room_open", "room_invite", "room_close"
ROOM_KINDS = frozenset({ROOM_OPEN, ROOM_INVITE, ROOM_CLOSE})


_ENQUEUING = insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


def enqueue(
    session: Session,
    *,
    platform: str,
    address: str,
    kind: str,
    message: Mapping[str, Any],
    now: datetime,
    edit_key: str | None = None,
    priority: int = 1,
    locale: str | None = None,
    unless_member_of: Mapping[str, Any] | None = None,
    follow_up: Mapping[str, Any] | None = None,
) -> None:
    """One INSERT, at once: messages are numbered in the order they were said, which is
    the order each conversation gets them in. The row is only written, so no ORM object
    is built for it."""
    execute_unflushed(
        session,
        _ENQUEUING,
        {
            "follow_up": dict(follow_up) if follow_up else None,
            "unless_member_of": dict(unless_member_of) if unless_member_of else None,
            "edit_key": edit_key,
            "priority": priority,
            "locale": locale,
            "platform": platform,
            "address": address,
            "conversation_key": f"{platform}:{address}",
            "kind": kind,
            "message": dict(message),
            "next_attempt_at": now,
            "created_at": now,
        },
    )


def deliverable(
    session: Session, *, now: datetime, platform: str | None = None, limit: int = 100
) -> list[OutboxMessage]:
    """Rows due now and held by nobody, at most one per conversation: the most urgent
    first (pages before reports), then the oldest.

    A conversation whose oldest pending row is still backing off (or is being
    delivered) is skipped entirely, so a later message never overtakes an earlier one.
    """
    query = select(OutboxMessage).where(
        col(OutboxMessage.id).in_(_heads()),
        col(OutboxMessage.next_attempt_at) <= now,
        _unclaimed(now),
    )
    if platform is not None:
        query = query.where(col(OutboxMessage.platform) == platform)
    query = query.order_by(col(OutboxMessage.priority), col(OutboxMessage.id)).limit(limit)
    return list(session.exec(query).all())


def platforms_due(session: Session, *, now: datetime) -> list[str]:
    """The platforms with a conversation whose turn it is now."""
    return sorted(session.exec(_platforms_due_statement(), params={"now": now}).all())


@cache
def _platforms_due_statement() -> Any:
    """Asked after every change to the outbox: built once (its parameter is ``now``)."""
    now = bindparam("now", type_=UTCDateTime())
    return (
        select(OutboxMessage.platform)
        .where(
            col(OutboxMessage.id).in_(_heads()),
            col(OutboxMessage.next_attempt_at) <= now,
            _unclaimed(now),
        )
        .distinct()
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message taken for delivery, as it stood when claimed: what sending it reads."""

    id: int
    platform: str
    address: str
    conversation_key: str
    kind: str
    message: dict[str, Any]
    priority: int
    attempts: int
    edit_key: str | None
    locale: str | None
    unless_member_of: dict[str, Any] | None
    follow_up: dict[str, Any] | None


@cache
def _claim_statement(*, one_platform: bool) -> Any:
    """UPDATE … RETURNING that claims the conversation heads ``deliverable`` would list.
    Built once, and cached compiled: making it anew cost more than running it. Its
    parameters are ``now``, ``owner``, ``until``, ``limit`` and, for one platform's,
    ``lane_platform``."""
    now = bindparam("now", type_=UTCDateTime())
    picked = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.id).in_(_heads()),
        col(OutboxMessage.next_attempt_at) <= now,
        _unclaimed(now),
    )
    if one_platform:
        picked = picked.where(col(OutboxMessage.platform) == bindparam("lane_platform"))
    picked = picked.order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
    return (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(picked.limit(bindparam("limit", type_=Integer()))),
            col(OutboxMessage.state) == "pending",
            col(OutboxMessage.next_attempt_at) <= now,
            _unclaimed(now),
        )
        .values(
            claimed_by=bindparam("owner", type_=String()),
            claimed_until=bindparam("until", type_=UTCDateTime()),
        )
        .returning(*(col(getattr(OutboxMessage, field.name)) for field in fields(Claimed)))
    )


def claim_due(
    session: Session,
    *,
    now: datetime,
    owner: str,
    until: datetime,
    platform: str | None = None,
    limit: int = 100,
) -> list[Claimed]:
    """Take the deliverable messages for ``owner`` (an instance id) until ``until``: those
    ``deliverable`` would list, the most urgent first.

    Another process may be looking at the same rows: one UPDATE picks the conversation
    heads and claims them, and (on PostgreSQL) a row another transaction claimed first is
    checked again once that one commits and is left out, so no message is sent by two
    workers. A worker that dies lets its short claims lapse, and another takes the
    messages over.
    """
    params = {"now": now, "owner": owner, "until": until, "limit": limit, "lane_platform": platform}
    if platform is None:
        del params["lane_platform"]
    won = session.connection().execute(_claim_statement(one_platform=platform is not None), params)
    # Plain rows: the ORM's objects cost more than the statement, and are only read.
    claimed = [Claimed(*row) for row in won]
    claimed.sort(key=lambda row: (row.priority, row.id))
    return claimed


_SENT = (
    update(OutboxMessage)
    .where(col(OutboxMessage.id) == bindparam("message_id"))
    .values(
        state="sent",
        sent_at=bindparam("now", type_=UTCDateTime()),
        attempts=col(OutboxMessage.attempts) + 1,
        claimed_by=None,
        claimed_until=None,
        platform_ref=bindparam("ref", type_=String()),
    )
)
_COVERED = (
    update(OutboxMessage)
    .where(col(OutboxMessage.id) == bindparam("message_id"))
    .values(
        state="covered",
        sent_at=bindparam("now", type_=UTCDateTime()),
        claimed_by=None,
        claimed_until=None,
    )
)


def sent(session: Session, *, message_id: int, ref: str | None, now: datetime) -> None:
    """Record a message as delivered (``ref``: the platform's reference to it, if any)."""
    params = {"message_id": message_id, "now": now, "ref": ref[:200] if ref else None}
    session.connection().execute(_SENT, params)


def covered(session: Session, *, message_id: int, now: datetime) -> None:
    """Record a direct message as not sent: its reader had the news in a channel."""
    session.connection().execute(_COVERED, {"message_id": message_id, "now": now})


def hold(session: Session, *, message_id: int, owner: str, until: datetime) -> bool:
    """Extend ``owner``'s claim on one message to ``until``; False if it is no longer
    theirs to send (delivered, or taken over after the claim lapsed)."""
    held = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.state) == "pending",
            col(OutboxMessage.claimed_by) == owner,
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(held.rowcount)  # type: ignore[attr-defined]


def renew_claims(session: Session, *, owner: str, until: datetime) -> int:
    """Extend every claim ``owner`` still holds to ``until``; how many."""
    renewed = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.state) == "pending", col(OutboxMessage.claimed_by) == owner)
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(renewed.rowcount)  # type: ignore[attr-defined]


def release_claims(session: Session, *, except_owner: str) -> int:
    """Drop every claim not held by ``except_owner``: for a process that knows it is the
    only one (SQLite), claims it finds on start are a dead predecessor's. How many."""
    released = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.claimed_by).is_not(None),
            col(OutboxMessage.claimed_by) != except_owner,
        )
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(released.rowcount)  # type: ignore[attr-defined]


def next_attempt(session: Session) -> datetime | None:
    """When the next delivery can happen: the earliest moment among conversation heads
    that one is due and unclaimed (a message queued behind another cannot go first,
    whatever its own time)."""
    return session.exec(_next_attempt_statement()).one()


@cache
def _next_attempt_statement() -> Any:
    ready_at = case(
        (
            col(OutboxMessage.claimed_until) > col(OutboxMessage.next_attempt_at),
            col(OutboxMessage.claimed_until),
        ),
        else_=col(OutboxMessage.next_attempt_at),
    )
    return select(type_coerce(func.min(ready_at), UTCDateTime)).where(
        col(OutboxMessage.id).in_(_heads())
    )


def _unclaimed(now: datetime | ColumnElement[datetime]) -> Any:
    return or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) <= now)


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
    counts = {"pending": 0, "sent": 0, "dead": 0, "covered": 0}
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


def directs_at(session: Session, *, times: Sequence[datetime]) -> Sequence[OutboxMessage]:
    """The direct messages written at any of ``times`` (a page's notifications are written
    in the transaction that notified, so at the notification's time)."""
    if not times:
        return []
    query = select(OutboxMessage).where(
        OutboxMessage.kind == "direct",
        col(OutboxMessage.created_at).in_(sorted(set(times))),
    )
    return session.exec(query.order_by(col(OutboxMessage.id))).all()
