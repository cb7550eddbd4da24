"""Tell the other replicas, on commit, that timers or outbox rows changed (PostgreSQL NOTIFY)."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import text
from sqlmodel import Session

CHANNEL = "shipwatch"
Topic = Literal["timers", "outbox", "guards"]


def notify(session: Session, topic: Topic) -> None:
    """Queue ``topic`` on the session's transaction: PostgreSQL delivers it to every
    listener when (and only if) the transaction commits, once however often it is queued.
    SQLite means one process, which already knows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_notify(:channel, :topic)"), {"channel": CHANNEL, "topic": topic}
    )
