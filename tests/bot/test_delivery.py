"""The outbox worker: retries with back-off, honours retry_after, keeps order, dead-letters."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.i18n import Translator
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation
from playbooks.messages import Message
from tests.conftest import HarnessFactory
from tests.fakes.adapters import FailingAdapter, RecordingAdapter
from tests.fakes.log_signal import LogSignal
from tests.support import outbox_rows

pytestmark = pytest.mark.usefixtures("database_url")


async def test_failed_delivery_is_retried_with_backoff(make_harness: HarnessFactory) -> None:
    adapter = FailingAdapter(failures=2)
    h = await make_harness(adapter=adapter, outbox_backoff_seconds=10)
    await h.say("/remind 1m ping")
    await h.advance(minutes=1)
    assert adapter.sent == []
    assert adapter.attempts == 1
    [row] = outbox_rows(h.app.engine)
    assert row.state == "pending"
    assert row.attempts == 1
    assert row.last_error == "boom"
    first_wait = row.next_attempt_at - h.clock.now()
    assert timedelta(seconds=5) <= first_wait <= timedelta(seconds=10), "jittered 10 s step"

    await h.advance(seconds=10)
    [row] = outbox_rows(h.app.engine)
    assert row.attempts == 2
    assert row.state == "pending"
    second_wait = row.next_attempt_at - h.clock.now()
    assert timedelta(seconds=10) <= second_wait <= timedelta(seconds=20), "the step doubles"

    await h.advance(seconds=20)
    assert [s.lines[-1] for s in adapter.sent] == ["ping"]
    [row] = outbox_rows(h.app.engine)
    assert row.state == "sent"
    assert row.attempts == 3


async def test_platform_retry_after_is_honoured(make_harness: HarnessFactory) -> None:
    adapter = FailingAdapter(failures=1, retry_after=42)
    h = await make_harness(adapter=adapter)
    await h.say("/remind 1m ping")
    await h.advance(minutes=1)
    [row] = outbox_rows(h.app.engine)
    assert row.next_attempt_at == h.clock.now() + timedelta(seconds=42)
    await h.advance(seconds=41)
    assert adapter.sent == []
    await h.advance(seconds=1)
    assert len(adapter.sent) == 1


async def test_gives_up_into_dead_letters_that_admins_can_see(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = FailingAdapter(failures=100, crash=True)
    h = await make_harness(adapter=adapter, outbox_max_attempts=3, outbox_backoff_seconds=1)
    await h.say("/remind 1m doomed")
    with caplog.at_level(logging.ERROR, logger="shipwatch.delivery"):
        await h.advance(hours=1)
    assert adapter.attempts == 3, "bounded attempts"
    [row] = outbox_rows(h.app.engine)
    assert row.state == "dead"
    # The exception's own text stays in the log, found by the reference stored with it.
    found = re.fullmatch(r"ConnectionResetError \(log ref ([0-9a-f]{8})\)", row.last_error or "")
    assert found is not None, row.last_error
    logged = [r for r in caplog.records if getattr(r, "error_ref", None) == found.group(1)]
    assert logged
    assert logged[0].exc_info is not None
    assert "peer went away" in str(logged[0].exc_info[1])

    listing = h.reply_text(await h.say("/admin outbox"))
    assert "1 undeliverable" in listing
    assert f"#{row.id} to console:#ops after 3 attempts" in listing

    adapter.failures = 0
    requeued = await h.say(f"/admin redeliver {row.id}")
    assert requeued.status == "ok"
    assert [s.lines[-1] for s in adapter.sent] == ["doomed"]


async def test_permanent_error_is_not_retried(make_harness: HarnessFactory) -> None:
    adapter = FailingAdapter(failures=5, permanent=True)
    h = await make_harness(adapter=adapter)
    await h.say("/remind 1m nowhere")
    await h.advance(hours=1)
    assert adapter.attempts == 1
    assert outbox_rows(h.app.engine)[0].state == "dead"


async def test_a_failing_message_holds_back_its_own_conversation_only(
    make_harness: HarnessFactory,
) -> None:
    adapter = FailingAdapter(failures=1, retry_after=60)
    h = await make_harness(adapter=adapter)
    await h.say("/remind 1m first in ops")
    await h.say("/remind 1m second in ops")
    await h.say("/remind 1m in releases", channel="#releases")
    await h.advance(minutes=1)
    # The first ops message failed; the second waits behind it, #releases does not.
    assert [(s.address, s.lines[-1]) for s in adapter.sent] == [("#releases", "in releases")]
    await h.advance(minutes=1)
    ops = [s.lines[-1] for s in adapter.sent if s.address == "#ops"]
    assert ops == ["first in ops", "second in ops"]


async def test_two_workers_on_one_database_deliver_a_message_once(
    make_harness: HarnessFactory,
) -> None:
    first = await make_harness()
    second = await make_harness()  # another process on the same database
    await first.say("/remind 1m exactly once")
    target = first.clock.now() + timedelta(minutes=1)
    first.clock.advance_to(target)
    second.clock.advance_to(target)
    await first.app.timers.fire_due()
    await asyncio.gather(first.app.delivery.deliver_due(), second.app.delivery.deliver_due())
    delivered = first.adapter.sent + second.adapter.sent
    assert [s.lines[-1] for s in delivered] == ["exactly once"]
    assert outbox_rows(first.app.engine)[0].state == "sent"


async def test_worker_survives_a_database_error_and_stops_promptly(
    make_harness: HarnessFactory,
) -> None:
    adapter = SignallingAdapter()
    h = await make_harness(adapter=adapter)
    loop_failed = LogSignal("delivery loop failed; retrying shortly")
    logging.getLogger("shipwatch.delivery").addHandler(loop_failed)
    worker = asyncio.create_task(h.app.delivery.run())
    with Session(h.app.engine) as session:  # take the table away under the running worker
        session.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
        session.commit()
    h.app.delivery.wake()
    await asyncio.wait_for(loop_failed.seen.wait(), timeout=5)
    logging.getLogger("shipwatch.delivery").removeHandler(loop_failed)
    assert not worker.done(), "a failing loop never ends the worker"
    with Session(h.app.engine) as session:
        session.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        session.commit()
    await h.app.dispatch(
        CommandInvocation("console", "alice", Conversation("console", "#ops"), "/remind 1m back")
    )
    h.clock.advance(timedelta(minutes=1))
    await h.app.timers.fire_due()
    await asyncio.wait_for(adapter.delivered.wait(), timeout=5)
    assert adapter.sent[-1].lines[-1] == "back"
    await asyncio.wait_for(h.app.delivery.stop(), timeout=1)
    await asyncio.wait_for(worker, timeout=1)


@dataclass
class SignallingAdapter(RecordingAdapter):
    delivered: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        result = await super().post(channel, message, tr=tr)
        self.delivered.set()
        return result


async def test_message_to_a_platform_without_adapter_is_dead_lettered(
    make_harness: HarnessFactory,
) -> None:
    from commands.core.effects import apply
    from playbooks.effects import Conversation, Post
    from playbooks.messages import Message, raw
    from storage.unit_of_work import unit_of_work

    h = await make_harness()
    with unit_of_work(h.app.engine) as session:
        apply(
            session,
            [Post(Conversation("slack", "C123"), Message.of(raw("hi")))],
            now=h.clock.now(),
            directory=h.app.config.directory,
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    await h.app.settle()
    [row] = outbox_rows(h.app.engine)
    assert row.state == "dead"
    assert row.last_error == "no adapter is running for platform 'slack'"
