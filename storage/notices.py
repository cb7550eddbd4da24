"""Tell the other replicas, on commit, that timers or outbox rows changed (PostgreSQL NOTIFY).

What a transaction has to announce is gathered while it runs and sent just before it
commits, every notice in one statement: one round trip, not one per notice (PostgreSQL
holds them until the commit, and drops them if it rolls back)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

CHANNEL = "shipwatch"
Topic = Literal["timers", "outbox", "guards"]
_QUEUED = "shipwatch.notices"


def notify(session: Session, topic: Topic) -> None:
    """Queue ``topic`` on the session's transaction: PostgreSQL delivers it to every
    listener when (and only if) the transaction commits, once however often it is queued.
    SQLite means one process, which already knows."""
    queue(session, topic)


def queue(session: OrmSession, payload: str) -> None:
    """Queue any payload on :data:`CHANNEL` for this transaction's commit (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection()  # in a transaction from now on, so a rollback forgets the notice
    session.info.setdefault(_QUEUED, {})[payload] = None


@event.listens_for(OrmSession, "before_commit")
def _send(session: OrmSession) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    session.flush()  # the last flush's notices (storage.changes queues them) join the rest
    queued: dict[str, None] = session.info.pop(_QUEUED, {})
    if not queued:
        return
    notices: list[Any] = [
        func.pg_notify(bindparam("channel"), bindparam(f"p{n}")) for n in range(len(queued))
    ]
    params = {"channel": CHANNEL} | {f"p{n}": payload for n, payload in enumerate(queued)}
    session.connection().execute(select(*notices), params)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget(session: OrmSession, previous_transaction: Any) -> None:
    """Any rollback, even of a transaction that never reached the database."""
    session.info.pop(_QUEUED, None)
