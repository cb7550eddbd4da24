"""Outbox claims: a dead process's messages go on within seconds, a live one's are left alone."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from bot.adapters.base import Capabilities
from bot.delivery import CLAIM
from bot.i18n import Translator
from commands.core.effects import apply
from playbooks.effects import Conversation, Post
from playbooks.messages import Message, raw
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.adapters import RecordingAdapter
from tests.fakes.log_signal import LogSignal
from tests.support import outbox_rows

ON_POSTGRES = [pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class StuckAdapter(RecordingAdapter):
    """A platform that takes as long as the test says: a post waits until ``release``.
    Its conversations are delivered to four at a time, as a chat platform's are."""

    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(
            callback_buttons=True,
            edits=False,
            ephemeral=False,
            max_length=4000,
            conversations_at_once=4,
        )
    )
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        self.entered.set()
        await self.release.wait()
        return await super().post(channel, message, tr=tr)


async def enqueue(h: Harness, *channels: str) -> None:
    """One post to each channel, committed to the outbox as a command would (not sent yet)."""
    with unit_of_work(h.app.engine) as session:
        apply(
            session,
            [Post(Conversation("console", c), Message.of(raw(f"to {c}"))) for c in channels],
            now=h.clock.now(),
            directory=h.app.config.directory,
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )


async def die_mid_send(h: Harness, adapter: StuckAdapter) -> datetime:
    """Start delivering, stop dead while the first message is on its way (as kill -9 does:
    nothing is released); when the claims were taken."""
    claimed_at = h.clock.now()
    worker = asyncio.create_task(h.app.delivery.deliver_due())
    await asyncio.wait_for(adapter.entered.wait(), timeout=5)
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    return claimed_at


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_restart_on_sqlite_delivers_a_dead_process_claims_at_once(
    make_harness: HarnessFactory,
) -> None:
    # SQLite means one process: a claim found on start can only be a dead predecessor's.
    stuck = StuckAdapter()
    first = await make_harness(adapter=stuck)
    await enqueue(first, "#ops", "#releases", "#oncall")
    await die_mid_send(first, stuck)
    held = outbox_rows(first.app.engine)
    assert [r.claimed_by for r in held] == [first.app.instance_id] * 3
    assert all(r.claimed_until == first.clock.now() + CLAIM for r in held)
    assert all(r.next_attempt_at <= first.clock.now() for r in held), "claims are not back-off"

    second = await make_harness()  # the restarted process, at the same moment
    assert second.app.instance_id != first.app.instance_id
    assert await second.app.delivery.deliver_due() == 3
    assert sorted(s.address for s in second.adapter.sent) == ["#oncall", "#ops", "#releases"]
    assert [r.state for r in outbox_rows(second.app.engine)] == ["sent"] * 3
    assert all(r.claimed_by is None for r in outbox_rows(second.app.engine))


@pytest.mark.parametrize("database_url", ON_POSTGRES, indirect=True)
async def test_a_dead_replicas_claims_are_taken_over_when_they_lapse_not_before(
    make_harness: HarnessFactory,
) -> None:
    stuck = StuckAdapter()
    dead = await make_harness(adapter=stuck)
    survivor = await make_harness()
    await enqueue(dead, "#ops", "#releases")
    claimed_at = await die_mid_send(dead, stuck)

    survivor.clock.advance_to(claimed_at + CLAIM - timedelta(seconds=1))
    assert await survivor.app.delivery.deliver_due() == 0, "a live-looking claim is respected"
    assert await survivor.app.delivery.next_attempt() == claimed_at + CLAIM, "it wakes at the lapse"
    survivor.clock.advance_to(claimed_at + CLAIM)
    assert await survivor.app.delivery.deliver_due() == 2
    assert sorted(s.address for s in survivor.adapter.sent) == ["#ops", "#releases"]
    assert stuck.sent == []
    assert all(r.attempts == 1 and r.state == "sent" for r in outbox_rows(survivor.app.engine))


async def test_a_slow_send_keeps_its_claim_so_no_one_else_sends_it(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    stuck = StuckAdapter()
    sender = await make_harness(adapter=stuck)
    other = await make_harness()  # another replica, started before the send
    await enqueue(sender, "#ops")
    began = sender.clock.now()
    sending = asyncio.create_task(sender.app.delivery.deliver_due())
    await asyncio.wait_for(stuck.entered.wait(), timeout=5)

    # The platform takes 12 s to answer: the claim is renewed while the send is in flight.
    renewals = LogSignal("outbox claims renewed")
    delivery_log = logging.getLogger("shipwatch.delivery")
    delivery_log.addHandler(renewals)
    try:
        with caplog.at_level(logging.DEBUG, logger="shipwatch.delivery"):
            sender.clock.advance_to(began + timedelta(seconds=12))
            await asyncio.wait_for(renewals.seen.wait(), timeout=5)
    finally:
        delivery_log.removeHandler(renewals)
    assert outbox_rows(sender.app.engine)[0].claimed_until == began + timedelta(seconds=12) + CLAIM
    other.clock.advance_to(began + CLAIM + timedelta(seconds=5))  # past the first claim
    assert await other.app.delivery.deliver_due() == 0
    assert other.adapter.sent == []

    stuck.release.set()
    assert await asyncio.wait_for(sending, timeout=5) == 1
    [row] = outbox_rows(sender.app.engine)
    assert (row.state, row.attempts, row.claimed_by) == ("sent", 1, None)
    assert [s.address for s in stuck.sent] == ["#ops"]
