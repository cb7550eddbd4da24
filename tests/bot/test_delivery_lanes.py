"""Delivery lanes: one platform's wait never holds up another's; a platform's conversations
go side by side, each in order; pages go before reports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from bot.adapters.base import Capabilities
from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram_limits import SendLimiter
from bot.i18n import Translator
from commands.core.effects import apply
from playbooks.effects import Conversation, DirectMessage, Effect, Post, Priority
from playbooks.messages import Message, raw
from storage.models import OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.bot.adapters.test_telegram import BOB, FakeTime, telegram_config
from tests.conftest import Harness, HarnessFactory
from tests.fakes.adapters import RecordingAdapter, Sent
from tests.fakes.telegram_api import TOKEN, FakeTelegram

pytestmark = pytest.mark.usefixtures("database_url")


def side_by_side() -> Capabilities:
    return Capabilities(
        callback_buttons=True,
        edits=False,
        ephemeral=False,
        max_length=4000,
        conversations_at_once=4,
    )


@dataclass
class GatedAdapter(RecordingAdapter):
    """A platform whose every post waits until the test opens its gate; it counts how many
    posts are in flight at once."""

    capabilities: Capabilities = field(default_factory=side_by_side)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until_started(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.started) >= count)

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        async with self._changed:
            self.started.append(channel)
            self._changed.notify_all()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.gate.wait()
            return await super().post(channel, message, tr=tr)
        finally:
            self.in_flight -= 1


@dataclass
class SignalledAdapter(RecordingAdapter):
    delivered: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        result = await super().post(channel, message, tr=tr)
        self.delivered.set()
        return result


def commit(h: Harness, effects: list[Effect]) -> None:
    """Effects written to the outbox as a command would write them (not sent yet)."""
    with unit_of_work(h.app.engine) as session:
        apply(
            session,
            effects,
            now=h.clock.now(),
            directory=h.app.config.directory,
            new_token=lambda: "t",
            reachable=frozenset(h.app.adapters),
        )


def post(platform: str, channel: str, text: str, **kw: Priority) -> Post:
    return Post(Conversation(platform, channel), Message.of(raw(text)), **kw)


async def test_a_platform_that_waits_holds_up_no_other(make_harness: HarnessFactory) -> None:
    slow = GatedAdapter(platform="slack")
    console = SignalledAdapter()
    h = await make_harness(adapter=console, more_adapters=[slow])
    commit(h, [post("slack", "C1", "stuck behind a wait"), post("console", "#ops", "page text")])
    delivering = asyncio.create_task(h.app.delivery.deliver_due())
    try:
        async with asyncio.timeout(5):
            await console.delivered.wait()
            await slow.until_started(1)
        assert lines(console.sent) == ["page text"]
        assert slow.sent == [], "slack is still waiting"
    finally:
        slow.gate.set()
    assert await asyncio.wait_for(delivering, timeout=5) == 2


async def test_conversations_go_side_by_side_each_in_order(make_harness: HarnessFactory) -> None:
    gated = GatedAdapter(platform="slack")
    h = await make_harness(adapter=RecordingAdapter(), more_adapters=[gated])
    channels = [f"C{i}" for i in range(6)]
    commit(h, [post("slack", c, f"{c} first") for c in channels])
    commit(h, [post("slack", c, f"{c} second") for c in channels])
    delivering = asyncio.create_task(h.app.delivery.deliver_due())
    try:
        await asyncio.wait_for(gated.until_started(4), timeout=5)
        assert gated.started == channels[:4], "four conversations at once, no more"
    finally:
        gated.gate.set()
    assert await asyncio.wait_for(delivering, timeout=5) == 12
    assert gated.most_in_flight == 4
    for c in channels:
        assert lines([s for s in gated.sent if s.address == c]) == [f"{c} first", f"{c} second"]
    with Session(h.app.engine) as session:
        states = session.exec(select(OutboxMessage.state)).all()
    assert set(states) == {"sent"}


async def test_a_commit_for_another_platform_gets_its_lane_at_once(
    make_harness: HarnessFactory,
) -> None:
    slow = GatedAdapter(platform="slack")
    console = SignalledAdapter()
    h = await make_harness(adapter=console, more_adapters=[slow])
    commit(h, [post("slack", "C1", "stuck behind a wait")])
    delivering = asyncio.create_task(h.app.delivery.deliver_due())
    try:
        await asyncio.wait_for(slow.until_started(1), timeout=5)
        commit(h, [post("console", "#ops", "page text")])
        h.app.delivery.wake(["console"])
        await asyncio.wait_for(console.delivered.wait(), timeout=5)
        assert lines(console.sent) == ["page text"]
        assert slow.sent == [], "slack is still waiting"
    finally:
        slow.gate.set()
    assert await asyncio.wait_for(delivering, timeout=5) == 2


async def test_a_commit_for_a_platform_whose_lane_runs_is_that_lanes_to_find(
    make_harness: HarnessFactory,
) -> None:
    """In a storm every commit wakes the worker; where the platform's lane is running, the
    lane claims the new message itself, and the database is not asked again which
    platforms have messages due."""
    gated = GatedAdapter(platform="slack")
    h = await make_harness(adapter=RecordingAdapter(), more_adapters=[gated])
    asked: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "DISTINCT outbox.platform" in statement:
            asked.append(statement)

    event.listen(h.app.engine, "before_cursor_execute", count)
    commit(h, [post("slack", "C1", "first")])
    delivering = asyncio.create_task(h.app.delivery.deliver_due())
    try:
        await asyncio.wait_for(gated.until_started(1), timeout=5)
        assert len(asked) == 1
        for n, channel in enumerate(["C2", "C3"], start=2):
            commit(h, [post("slack", channel, f"message {n}")])
            h.app.delivery.wake(["slack"])
            await asyncio.wait_for(gated.until_started(n), timeout=5)
        assert gated.started == ["C1", "C2", "C3"]
        assert len(asked) == 1, "the running lane found them: nobody asked which platforms"
    finally:
        gated.gate.set()
        delivered = await asyncio.wait_for(delivering, timeout=5)
        event.remove(h.app.engine, "before_cursor_execute", count)
    assert delivered == 3
    # Once more as the lane ended: it may have ended just as something was committed.
    assert len(asked) == 2

    # A round with no commit while it ran asks once: the command's own messages.
    event.listen(h.app.engine, "before_cursor_execute", count)
    try:
        commit(h, [post("slack", "C4", "message 4")])
        h.app.delivery.wake(["slack"])
        assert await asyncio.wait_for(h.app.delivery.deliver_due(), timeout=5) == 1
        assert len(asked) == 3
        # A wake that cannot say which platforms (an incident room's work) asks again.
        commit(h, [post("slack", "C5", "message 5")])
        delivering = asyncio.create_task(h.app.delivery.deliver_due())
        await asyncio.wait_for(gated.until_started(5), timeout=5)
        h.app.delivery.wake(None)
        assert await asyncio.wait_for(delivering, timeout=5) == 1
    finally:
        event.remove(h.app.engine, "before_cursor_execute", count)
    assert len(asked) == 5


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram.start()
    yield server
    await server.stop()


async def test_a_page_behind_fifty_reports_goes_first(
    make_harness: HarnessFactory, fake: FakeTelegram, tmp_path: Path
) -> None:
    time = FakeTime()
    adapter = TelegramAdapter(
        TOKEN, api_url=fake.api_url, limiter=SendLimiter(monotonic=time.monotonic, sleep=time.sleep)
    )
    h = await make_harness(adapter=adapter, config_dir=telegram_config(tmp_path / "config"))
    time.clock = h.clock
    # A storm's morning: fifty reports committed to fifty groups, and only then a page.
    groups = [str(-100900 - i) for i in range(50)]
    commit(h, [post("telegram", g, f"report {g}", priority=Priority.REPORT) for g in groups])
    page = Message.of(raw("checkout is down"))
    commit(h, [DirectMessage("bob", page, priority=Priority.PAGE)])
    assert await h.app.delivery.deliver_due() == 51
    arrived = [(c.params["chat_id"], c.params["text"]) for c in fake.sent()]
    # Four conversations are sent to at once, so the page is in the first four to arrive
    # (by id it would have been the 51st).
    assert arrived.index((BOB, "checkout is down")) < 4
    assert sorted(text for _, text in arrived if text.startswith("report")) == sorted(
        f"report {g}" for g in groups
    )
    with Session(h.app.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    assert [r.priority for r in rows] == [2] * 50 + [0]


def lines(sent: list[Sent]) -> list[str]:
    return [s.lines[-1] for s in sent]
