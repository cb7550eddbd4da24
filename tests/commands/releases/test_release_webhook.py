"""Traffic changes travel the outbox to a signed webhook: retried on 503 after the
receiver's Retry-After, and a change given up on pauses the release and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import OutboxMessage, ReleaseRow
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.webhook import FakeWebhookReceiver

SECRET = "s3cret-for-tests"
PLAN = """\
name: two-step
stages:
  - {name: canary, percent: 10%, soak: 30m}
  - {name: half, percent: 50%, soak: 30m}
  - {name: full, percent: 100%}
"""


@pytest.fixture
async def receiver() -> AsyncIterator[FakeWebhookReceiver]:
    fake = FakeWebhookReceiver(SECRET)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def harness(
    make_harness: HarnessFactory,
    receiver: FakeWebhookReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Harness:
    config = tmp_path / "config"
    (config / "plans").mkdir(parents=True)
    (config / "plans" / "two-step.yaml").write_text(PLAN, encoding="utf-8")
    (config / "services.yaml").write_text(
        f"""\
services:
  api:
    plan: two-step
    release_channel: "#releases"
    traffic:
      backend: webhook
      url: "{receiver.url}"
      secret_env: SHIPWATCH_TEST_API_SECRET
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("SHIPWATCH_TEST_API_SECRET", SECRET)
    return await make_harness(config_dir=config)


async def test_each_change_is_posted_signed_once_with_its_key(
    harness: Harness, receiver: FakeWebhookReceiver
) -> None:
    await harness.say("/release start api 5.0.0")
    assert receiver.applied == [
        {
            "action": "set",
            "idempotency_key": "release-1-a1-s0",
            "percent": 10.0,
            "service": "api",
            "stage": "canary",
            "version": "5.0.0",
        }
    ]
    assert SECRET not in receiver.received[0].body.decode()


async def test_a_503_is_retried_after_the_receivers_retry_after(
    harness: Harness, receiver: FakeWebhookReceiver
) -> None:
    await harness.say("/release start api 5.0.0")
    receiver.fail_next(1, 503, retry_after="7")
    await harness.say("/release promote api --force --reason 'canary looked fine'")
    assert [b["percent"] for b in receiver.applied] == [10.0]
    await harness.advance(seconds=6)
    assert [b["percent"] for b in receiver.applied] == [10.0]
    await harness.advance(seconds=1)
    assert [b["percent"] for b in receiver.applied] == [10.0, 50.0]
    assert [r.status for r in receiver.received] == [200, 503, 200]


async def test_a_refused_change_pauses_the_release_and_tells_the_channel(
    harness: Harness, receiver: FakeWebhookReceiver
) -> None:
    await harness.say("/release start api 5.0.0")
    await harness.advance(minutes=1)
    receiver.fail_next(1, 400, body="unknown service")
    await harness.say("/release rollback api --reason 'wrong build'")
    with unit_of_work(harness.app.engine) as session:
        dead = session.exec(select(OutboxMessage).where(OutboxMessage.state == "dead")).one()
        assert dead.kind == "traffic"
        assert (session.exec(select(ReleaseRow)).one()).state == "rolled_back"
    posts = [s.text for s in harness.adapter.sent if s.address == "#releases"]
    assert any(
        "The traffic change of api to 0% could not be applied" in p
        and f"/admin redeliver {dead.id}" in p
        for p in posts
    ), posts


async def test_a_promotion_the_backend_refuses_pauses_the_release(
    harness: Harness, receiver: FakeWebhookReceiver
) -> None:
    await harness.say("/release start api 5.0.0")
    receiver.fail_next(1, 422, body="percent not allowed")
    await harness.say("/release promote api --force --reason 'ship it'")
    status = harness.reply_text(await harness.say("/release status api"))
    assert "State: paused" in status
    assert "Paused because: traffic change failed:" in status
    assert "HTTP 422" in status
