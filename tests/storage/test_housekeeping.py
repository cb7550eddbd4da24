"""The sweep deletes rows whose work is done once older than kept, a batch at a time, and
nothing a person still reads or the bot still needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from storage.models import (
    ActionToken,
    GuardReading,
    OutboxMessage,
    ReleaseRow,
    SeenEvent,
    Timer,
    WebSession,
)
from storage.repositories import housekeeping
from storage.unit_of_work import unit_of_work

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=1)
KEEP_FROM = NOW - timedelta(days=30)


def message(
    state: str, at: datetime, n: int, *, edit_key: str | None = None, conversation: str = ""
) -> OutboxMessage:
    address = conversation or f"#c{n}"
    return OutboxMessage(
        platform="console",
        address=address,
        conversation_key=f"console:{address}",
        message={"n": n},
        state=state,
        next_attempt_at=at,
        created_at=at,
        edit_key=edit_key,
        platform_ref=f"ref{n}" if state == "sent" and edit_key else None,
    )


def timer(key: str, state: str, due: datetime) -> Timer:
    return Timer(key=key, kind="x", due_at=due, payload={}, state=state, created_at=due)


def seed(session: Session) -> None:
    session.add_all(
        [
            message("sent", OLD, 1),
            message("covered", OLD, 2),
            message("sent", RECENT, 3),
            message("pending", OLD, 4),  # not delivered yet: never deleted
            message("dead", OLD, 5),  # the admin reads it
            # Edited in place: the last one sent of its edit_key holds the reference the
            # next edit needs; an earlier one is done once a newer one was sent.
            message("sent", OLD, 6, edit_key="status", conversation="#e"),
            message("sent", OLD + timedelta(hours=1), 7, edit_key="status", conversation="#e"),
            message("sent", OLD, 8, edit_key="status", conversation="#f"),
            timer("fired-old", "fired", OLD),
            timer("cancelled-old", "cancelled", OLD),
            timer("failed-old", "failed", OLD),  # set aside for a person to look at
            timer("pending-old", "pending", OLD),  # overdue: it still fires
            timer("fired-recent", "fired", RECENT),
            SeenEvent(source="slack", event_id="old", seen_at=OLD),
            SeenEvent(source="slack", event_id="recent", seen_at=RECENT),
            ActionToken(
                token="old",
                command="/ack 1",
                platform="console",
                channel="#ops",
                created_at=OLD,
                expires_at=OLD + timedelta(days=7),
            ),
            ActionToken(
                token="recent",
                command="/ack 2",
                platform="console",
                channel="#ops",
                created_at=RECENT - timedelta(days=7),
                expires_at=RECENT,
            ),
            WebSession(
                id_hash="gone",
                handle="alice",
                created_at=RECENT - timedelta(hours=12),
                expires_at=NOW - timedelta(minutes=1),
                csrf="x",
            ),
            WebSession(
                id_hash="live",
                handle="alice",
                created_at=NOW,
                expires_at=NOW + timedelta(hours=12),
                csrf="y",
            ),
        ]
    )
    release = ReleaseRow(
        service="web",
        version="1.0.0",
        plan={},
        state="done",
        owner="alice",
        channel="console:#ops",
        traffic="simulated",
        metrics="simulated",
        started_at=OLD,
        updated_at=OLD,
    )
    session.add(release)
    session.flush()
    assert release.id is not None
    for at in (OLD, RECENT):
        session.add(
            GuardReading(
                release_id=release.id, guard="errors", at_second=int(at.timestamp()), value=0.1
            )
        )


def left(session: Session) -> dict[str, list[str]]:
    return {
        "outbox": sorted(str(m.message["n"]) for m in session.exec(select(OutboxMessage)).all()),
        "timers": sorted(t.key for t in session.exec(select(Timer)).all()),
        "seen_events": sorted(e.event_id for e in session.exec(select(SeenEvent)).all()),
        "action_tokens": sorted(a.token for a in session.exec(select(ActionToken)).all()),
        "web_sessions": sorted(w.id_hash for w in session.exec(select(WebSession)).all()),
        "guard_readings": sorted(
            str(g.at_second) for g in session.exec(select(GuardReading)).all()
        ),
    }


def test_the_sweep_deletes_what_is_done_and_old_and_nothing_else(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        seed(session)
    with unit_of_work(engine) as session:
        deleted = housekeeping.sweep(session, before=KEEP_FROM, now=NOW)
    assert deleted == {
        "outbox": 3,
        "timers": 2,
        "seen_events": 1,
        "action_tokens": 1,
        "web_sessions": 1,
        "guard_readings": 1,
    }
    with unit_of_work(engine) as session:
        assert left(session) == {
            "outbox": ["3", "4", "5", "7", "8"],
            "timers": ["failed-old", "fired-recent", "pending-old"],
            "seen_events": ["recent"],
            "action_tokens": ["recent"],
            "web_sessions": ["live"],
            "guard_readings": [str(int(RECENT.timestamp()))],
        }
    with unit_of_work(engine) as session:  # nothing more to do
        assert set(housekeeping.sweep(session, before=KEEP_FROM, now=NOW).values()) == {0}


def test_a_backlog_goes_a_batch_at_a_time_oldest_first(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(7):
            session.add(SeenEvent(source="slack", event_id=f"e{n}", seen_at=OLD + timedelta(n)))
    with unit_of_work(engine) as session:
        assert housekeeping.sweep(session, before=KEEP_FROM, now=NOW, batch=3)["seen_events"] == 3
    with unit_of_work(engine) as session:
        kept = sorted(e.event_id for e in session.exec(select(SeenEvent)).all())
        assert kept == ["e3", "e4", "e5", "e6"]
        assert session.exec(select(func.count()).select_from(SeenEvent)).one() == 4
