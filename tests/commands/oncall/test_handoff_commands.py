"""Handoff posts through the whole pipeline, on SQLite and PostgreSQL: the next handoff is
a durable timer armed at start, moved by an override, re-armed at each firing, and a
handoff that fell due while the bot was down is posted once, late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.models import Timer
from storage.repositories import timers
from storage.unit_of_work import unit_of_work
from tests.conftest import START, Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
KEY = "oncall:web:handoff"


def handoff_timer(h: Harness) -> Timer:
    with unit_of_work(h.app.engine) as session:
        row = timers.get(session, key=KEY)
        assert row is not None
        session.expunge(row)
        return row


def posts_to_web(h: Harness) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "post" and s.address == "#web"]


async def test_the_next_handoff_is_armed_at_start_and_posts_the_weekly_change(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    timer = handoff_timer(h)
    assert (timer.state, timer.due_at) == ("pending", datetime(2026, 11, 30, 1, tzinfo=UTC))
    await h.say('/page web "disk full on db-1"', user="alice", channel="#ops")
    await h.say("/ack 1", user="bob")
    await h.advance(days=7)
    handoffs = [p for p in posts_to_web(h) if p.startswith("🔁")]
    assert len(handoffs) == 1
    assert "Primary: @carol (from @bob)" in handoffs[0]
    assert "Secondary: @bob (from @carol)" in handoffs[0]
    assert "page #1 disk full on db-1 (acknowledged)" in handoffs[0]
    # Re-armed for the handoff after.
    timer = handoff_timer(h)
    assert (timer.state, timer.due_at) == ("pending", datetime(2026, 12, 7, 1, tzinfo=UTC))


async def test_an_override_moves_the_handoff_to_its_start_and_end(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    out = await h.say("/oncall override web @dave 2026-11-23T10:00 2026-11-23T20:00", user="carol")
    assert out.status == "ok", h.reply_text(out)
    assert handoff_timer(h).due_at == datetime(2026, 11, 23, 2, tzinfo=UTC)
    await h.advance(hours=1)
    assert "Primary: @dave (from @bob)" in posts_to_web(h)[-1]
    assert handoff_timer(h).due_at == datetime(2026, 11, 23, 12, tzinfo=UTC)
    await h.advance(hours=10)
    last = posts_to_web(h)[-1]
    assert "Primary: @bob (from @dave)" in last
    assert "Secondary: @carol (stays on)" in last
    assert "No open pages or incidents." in last


async def test_a_handoff_missed_while_down_is_posted_once_late(
    make_harness: HarnessFactory,
) -> None:
    first = await make_harness()
    await first.advance(days=6)
    await first.app.stop()
    # A second process on the same database, starting after the handoff fell due.
    second = await make_harness(start=START + timedelta(days=7, hours=3))
    await second.advance(seconds=1)
    handoffs = [p for p in posts_to_web(second) if p.startswith("🔁")]
    assert len(handoffs) == 1
    assert "2026-11-30 09:00 UTC+8" in handoffs[0]
    timer = handoff_timer(second)
    assert (timer.state, timer.due_at) == ("pending", datetime(2026, 12, 7, 1, tzinfo=UTC))


async def test_a_late_post_after_several_missed_handoffs_names_the_latest(
    make_harness: HarnessFactory,
) -> None:
    first = await make_harness()
    await first.advance(days=6)
    await first.app.stop()
    # Down across the handoffs of 2026-11-30 and 2026-12-07: one post, for the latest.
    second = await make_harness(start=START + timedelta(days=14, hours=3))
    await second.advance(seconds=1)
    handoffs = [p for p in posts_to_web(second) if p.startswith("🔁")]
    assert len(handoffs) == 1
    assert "2026-12-07 09:00 UTC+8" in handoffs[0]
    timer = handoff_timer(second)
    assert (timer.state, timer.due_at) == ("pending", datetime(2026, 12, 14, 1, tzinfo=UTC))
