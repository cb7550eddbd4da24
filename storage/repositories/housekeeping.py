"""Rows whose work is done, deleted once older than the operator keeps them.

Sent messages, fired and cancelled timers, the ledger's event ids, expired button tokens
and web sessions, guard readings: written on every event, read for a while, then never
again. Kept forever they only grow the database and every backup of it. Incidents,
pages, releases, their timelines, the audit log, dead messages and failed timers are
history a person reads, and are never deleted here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, or_, select
from sqlmodel import Session

from storage.models import (
    ActionToken,
    GuardReading,
    OutboxMessage,
    SeenEvent,
    Timer,
    WebSession,
)
from storage.unit_of_work import execute_unflushed

# At most this many rows of each kind in one sweep's transaction: on SQLite it holds the
# one write lock, so a backlog is cleared a batch at a time, not in one long stop.
BATCH = 5000


def _table(model: Any) -> Table:
    return model.__table__


def _done(before: datetime, now: datetime) -> dict[str, tuple[Table, Any, ColumnElement[bool]]]:
    """Each kind's table, the column that orders it oldest first (None: its key is not
    in time order, and any done rows go first), and which of its rows are done and older
    than ``before``."""
    outbox, timers, seen = _table(OutboxMessage), _table(Timer), _table(SeenEvent)
    tokens, sessions, readings = _table(ActionToken), _table(WebSession), _table(GuardReading)
    # A message edited in place is found by its platform reference on the last one sent
    # of its edit_key there (outbox.edited_ref): that one stays until a newer one is sent.
    newer = outbox.alias("newer")
    edited_since = (
        select(newer.c.id)
        .where(
            newer.c.conversation_key == outbox.c.conversation_key,
            newer.c.edit_key == outbox.c.edit_key,
            newer.c.platform_ref.is_not(None),
            newer.c.id > outbox.c.id,
        )
        .exists()
    )
    return {
        "outbox": (
            outbox,
            outbox.c.id,
            and_(
                outbox.c.state.in_(("sent", "covered")),
                outbox.c.created_at < before,
                or_(outbox.c.edit_key.is_(None), edited_since),
            ),
        ),
        "timers": (
            timers,
            timers.c.id,
            and_(timers.c.state.in_(("fired", "cancelled")), timers.c.due_at < before),
        ),
        "seen_events": (seen, seen.c.id, seen.c.seen_at < before),
        "action_tokens": (tokens, None, tokens.c.expires_at < before),
        # A session ended when it expired: it is kept no longer than that (and its hash
        # only ever let its cookie in).
        "web_sessions": (sessions, None, sessions.c.expires_at < now),
        "guard_readings": (
            readings,
            readings.c.id,
            readings.c.at_second < int(before.timestamp()),
        ),
    }


def sweep(
    session: Session, *, before: datetime, now: datetime, batch: int = BATCH
) -> dict[str, int]:
    """Delete up to ``batch`` done rows of each kind older than ``before``, oldest
    first; how many of each. A kind at ``batch`` may have more left."""
    deleted: dict[str, int] = {}
    for kind, (table, order, done) in _done(before, now).items():
        key = table.primary_key.columns.values()[0]
        picked = select(key).where(done)
        if order is not None:
            picked = picked.order_by(order)
        oldest = picked.limit(batch).scalar_subquery()
        deleted[kind] = execute_unflushed(session, delete(table).where(key.in_(oldest))).rowcount
    return deleted
