"""The effect writer tells the scheduler only the last word on each timer key, says the same
message to one conversation once, and marks where a direct message's news is posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import select

from commands.core.effects import apply
from playbooks.effects import ArmTimer, CancelTimer, Conversation, DirectMessage, Post
from playbooks.messages import Message, raw
from playbooks.people import Directory, Person
from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_cancel_then_arm_of_one_key_leaves_it_armed(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        apply(
            session,
            [ArmTimer("k", "kind", NOW + timedelta(minutes=5))],
            now=NOW,
            directory=Directory.of([]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    with unit_of_work(engine) as session:
        applied = apply(
            session,
            [CancelTimer("k"), ArmTimer("k", "kind", NOW + timedelta(minutes=9)), CancelTimer("j")],
            now=NOW,
            directory=Directory.of([]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    assert applied.armed == [("k", NOW + timedelta(minutes=9))]
    assert applied.cancelled == []
    with unit_of_work(engine) as session:
        applied = apply(
            session,
            [ArmTimer("k", "kind", NOW + timedelta(minutes=10)), CancelTimer("k")],
            now=NOW,
            directory=Directory.of([]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    assert applied.armed == []
    assert applied.cancelled == ["k"]


def test_the_same_post_twice_in_one_go_is_said_once(engine: Engine) -> None:
    incidents = Conversation("console", "#incidents")
    news = Message.of(raw("🚨 Incident #1 [P0]"))
    with unit_of_work(engine) as session:
        applied = apply(
            session,
            [
                Post(incidents, news),
                Post(incidents, news),  # the tech channel is the incident channel
                Post(Conversation("console", "#tech"), news),
                DirectMessage("bob", news),
                DirectMessage("bob", news),
            ],
            now=NOW,
            directory=Directory.of([Person("bob", "Bob", identities={"console": "bob"})]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    assert applied.enqueued == 3
    with unit_of_work(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
        assert sorted(r.conversation_key for r in rows) == [
            "console:#incidents",
            "console:#tech",
            "console:bob",
        ]


def test_a_direct_message_names_where_its_news_is_posted_with_the_readers_ids(
    engine: Engine,
) -> None:
    releases = Conversation("slack", "#releases")
    alice = Person("alice", "Alice", identities={"telegram": "1001", "slack": "U0ALICE"})
    with unit_of_work(engine) as session:
        apply(
            session,
            [DirectMessage("alice", Message.of(raw("rolled back")), unless_in=(releases,))],
            now=NOW,
            directory=Directory.of([alice]),
            new_token=lambda: "t",
            reachable=frozenset({"telegram", "slack"}),
        )
    with unit_of_work(engine) as session:
        [row] = session.exec(select(OutboxMessage)).all()
        assert (row.platform, row.address) == ("telegram", "1001")
        assert row.unless_member_of == {
            "person": "alice",
            "in": [["slack", "#releases", "U0ALICE"]],
        }
