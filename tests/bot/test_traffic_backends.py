"""The webhook and Unleash traffic backends against local servers that behave like the real ones."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

import bot.traffic.webhook as webhook_module
from bot.traffic.base import TrafficBackend, TrafficCapabilities, TrafficState
from bot.traffic.http import THROTTLED_WAIT
from bot.traffic.unleash import UnleashTraffic, rollout_for
from bot.traffic.webhook import WebhookTraffic, encode, sign
from playbooks.errors import AdapterError, Throttled
from tests.fakes.unleash import FakeUnleash, flexible_rollout
from tests.fakes.webhook import FakeWebhookReceiver

SECRET = "whsec-3f9c1e7a-do-not-leak"
TOKEN = "*:production.4c0ffee-unleash-admin-token"
PROJECT, FEATURE, ENVIRONMENT = "payments", "checkout-v2", "production"
STRATEGY_ID = "6b5157cb-343a-41e7-bfa3-7b4ec3044840"
CONSTRAINTS = [
    {
        "contextName": "region",
        "operator": "IN",
        "values": ["eu-west"],
        "inverted": False,
        "caseInsensitive": False,
    }
]
TIMEOUT = timedelta(seconds=5)

Session = Callable[[], Awaitable[aiohttp.ClientSession]]


def reason(error: AdapterError) -> str:
    assert error.text.key == "delivery.failed"
    return str(error.text.params["reason"])


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    shared = aiohttp.ClientSession()

    async def provider() -> aiohttp.ClientSession:
        return shared

    yield provider
    await shared.close()


# --- webhook ----------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[FakeWebhookReceiver]:
    fake = FakeWebhookReceiver(SECRET)
    await fake.start()
    yield fake
    await fake.close()


def hook(
    receiver: FakeWebhookReceiver,
    session: Session,
    *,
    secret: str = SECRET,
    timeout: timedelta = TIMEOUT,
    **kwargs: Any,
) -> WebhookTraffic:
    return WebhookTraffic(receiver.url, secret=secret, timeout=timeout, session=session, **kwargs)


async def move(backend: TrafficBackend, percent: float = 5.0, key: str = "rel-7:stage-1") -> None:
    await backend.set_percent(
        "checkout", percent, expected_version="v42", idempotency_key=key, stage="canary-5"
    )


async def failing(call: Awaitable[None]) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        await call
    return caught.value


async def test_webhook_delivers_a_signed_set(
    receiver: FakeWebhookReceiver, session: Session
) -> None:
    backend = hook(receiver, session)
    assert backend.capabilities() == TrafficCapabilities(idempotent=True, reads_state=False)
    assert await backend.get_state("checkout") == TrafficState(0.0)

    await move(backend, 5.0, key="rel-7:stage-1")

    assert receiver.applied == [
        {
            "action": "set",
            "service": "checkout",
            "version": "v42",
            "percent": 5.0,
            "stage": "canary-5",
            "idempotency_key": "rel-7:stage-1",
        }
    ]
    (request,) = receiver.received
    assert request.status == 200
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "rel-7:stage-1"
    timestamp = int(request.headers["X-Shipwatch-Timestamp"])
    assert abs(time.time() - timestamp) < 60
    # compact, sorted JSON, signed over "{timestamp}." + body
    assert (
        request.body
        == json.dumps(receiver.applied[0], separators=(",", ":"), sort_keys=True).encode()
    )
    expected = hmac.new(
        SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Shipwatch-Signature"] == f"sha256={expected}"
    assert await backend.get_state("checkout") == TrafficState(5.0, "v42")
    assert await backend.get_state("billing") == TrafficState(0.0)


async def test_webhook_rollback_body(receiver: FakeWebhookReceiver, session: Session) -> None:
    backend = hook(receiver, session)
    await move(backend, 25.0)
    await backend.rollback("checkout", reason="error rate 4.1% > 2%", idempotency_key="rel-7:rb")

    assert receiver.applied[-1] == {
        "action": "rollback",
        "service": "checkout",
        "version": None,
        "percent": 0,
        "stage": "rollback",
        "idempotency_key": "rel-7:rb",
        "reason": "error rate 4.1% > 2%",
    }
    assert await backend.get_state("checkout") == TrafficState(0.0)


def _documented_verify() -> Callable[[bytes, dict[str, str], bytes], bool]:
    doc = webhook_module.__doc__ or ""
    block = doc.split("For example, in Python::", 1)[1].split("What the answer means", 1)[0]
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(block), namespace)
    verify: Callable[[bytes, dict[str, str], bytes], bool] = namespace["verify"]
    return verify


async def test_the_documented_verification_example_works(
    receiver: FakeWebhookReceiver, session: Session
) -> None:
    verify = _documented_verify()
    await move(hook(receiver, session))
    (request,) = receiver.received

    assert verify(SECRET.encode(), request.headers, request.body)
    assert not verify(b"another-secret", request.headers, request.body)
    assert not verify(SECRET.encode(), request.headers, request.body.replace(b"5.0", b"50.0"))
    old = str(int(request.headers["X-Shipwatch-Timestamp"]) - 301)
    stale = {**request.headers, "X-Shipwatch-Timestamp": old}
    stale["X-Shipwatch-Signature"] = sign(SECRET, int(old), request.body)
    assert not verify(SECRET.encode(), stale, request.body)


async def test_receiver_rejects_a_tampered_body(receiver: FakeWebhookReceiver) -> None:
    timestamp = int(time.time())
    signed = encode({"action": "set", "service": "checkout", "percent": 5, "idempotency_key": "k"})
    tampered = signed.replace(b'"percent":5', b'"percent":100')
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": "k",
        "X-Shipwatch-Timestamp": str(timestamp),
        "X-Shipwatch-Signature": sign(SECRET, timestamp, signed),
    }
    async with (
        aiohttp.ClientSession() as client,
        client.post(receiver.url, data=tampered, headers=headers) as response,
    ):
        assert response.status == 401
    async with (
        aiohttp.ClientSession() as client,
        client.post(receiver.url, data=signed, headers=headers) as response,
    ):
        assert response.status == 200
    assert [body["percent"] for body in receiver.applied] == [5]


async def test_wrong_secret_is_permanent(receiver: FakeWebhookReceiver, session: Session) -> None:
    error = await failing(move(hook(receiver, session, secret="not-the-receivers-secret")))

    assert error.permanent
    assert error.retry_after is None
    assert "HTTP 401" in reason(error)
    assert "secret_env" in reason(error)
    assert receiver.applied == []


async def test_stale_timestamp_is_rejected(receiver: FakeWebhookReceiver, session: Session) -> None:
    backend = hook(receiver, session, clock=lambda: time.time() - 301)
    error = await failing(move(backend))

    assert error.permanent
    assert "HTTP 401" in reason(error)
    assert receiver.applied == []


async def test_503_with_retry_after(receiver: FakeWebhookReceiver, session: Session) -> None:
    receiver.fail_next(1, 503, body="draining", retry_after="7")
    backend = hook(receiver, session)

    error = await failing(move(backend))
    assert error.retry_after == 7
    assert not error.permanent
    assert "HTTP 503" in reason(error)
    assert await backend.get_state("checkout") == TrafficState(0.0)  # nothing was delivered

    await move(backend)  # the retry goes through
    assert len(receiver.applied) == 1


async def test_429_without_retry_after_is_a_wait_of_our_own_choosing(
    receiver: FakeWebhookReceiver, session: Session
) -> None:
    receiver.fail_next(1, 429, body="slow down")
    error = await failing(move(hook(receiver, session)))

    assert isinstance(error, Throttled), "a rate limit never counts as a failed attempt"
    assert error.retry_after == THROTTLED_WAIT


async def test_500_is_retryable(receiver: FakeWebhookReceiver, session: Session) -> None:
    receiver.fail_next(1, 500, body="boom")
    error = await failing(move(hook(receiver, session)))

    assert not error.permanent
    assert error.retry_after is None
    assert "HTTP 500: boom" in reason(error)


async def test_400_is_permanent_with_status_and_short_body(
    receiver: FakeWebhookReceiver, session: Session
) -> None:
    receiver.fail_next(1, 400, body="unknown service " + "x" * 1000)
    error = await failing(move(hook(receiver, session)))

    assert error.permanent
    text = reason(error)
    assert "HTTP 400: unknown service xxx" in text
    body_part = text.split("HTTP 400: ", 1)[1]
    assert len(body_part) <= 200


async def test_redirect_is_not_followed(receiver: FakeWebhookReceiver, session: Session) -> None:
    receiver.fail_next(1, 302, headers={"Location": receiver.url})
    error = await failing(move(hook(receiver, session)))

    assert error.permanent
    assert "HTTP 302" in reason(error)
    assert len(receiver.received) == 1  # the Location was not requested


async def test_timeout_is_retryable_and_the_retry_is_applied_once(
    receiver: FakeWebhookReceiver, session: Session
) -> None:
    receiver.hold = asyncio.Event()
    backend = hook(receiver, session, timeout=timedelta(seconds=0.2))

    error = await failing(move(backend, key="rel-7:stage-2"))
    assert not error.permanent
    assert "did not answer within 0.2s" in reason(error)

    # The receiver got the request and applies it once released: the sender cannot know.
    receiver.hold.set()
    await receiver.wait_handled(1)
    assert [b["idempotency_key"] for b in receiver.applied] == ["rel-7:stage-2"]

    await move(backend, key="rel-7:stage-2")  # the outbox retries with the same key
    assert len(receiver.received) == 2
    assert len(receiver.applied) == 1
    assert await backend.get_state("checkout") == TrafficState(5.0, "v42")


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_connection_refused_is_retryable(refusing_port: int, session: Session) -> None:
    backend = WebhookTraffic(
        f"http://127.0.0.1:{refusing_port}/hook", secret=SECRET, timeout=TIMEOUT, session=session
    )
    error = await failing(move(backend))

    assert not error.permanent
    assert f"webhook http://127.0.0.1:{refusing_port}/hook" in reason(error)


async def test_repeated_key_is_applied_once(
    receiver: FakeWebhookReceiver, session: Session
) -> None:
    backend = hook(receiver, session)
    await move(backend, 5.0, key="rel-7:stage-1")
    await move(backend, 5.0, key="rel-7:stage-1")
    await move(backend, 25.0, key="rel-7:stage-2")

    assert len(receiver.received) == 3
    assert [(b["percent"], b["idempotency_key"]) for b in receiver.applied] == [
        (5.0, "rel-7:stage-1"),
        (25.0, "rel-7:stage-2"),
    ]


@pytest.mark.parametrize("percent", [-1.0, 100.5, float("nan")])
async def test_percent_outside_0_to_100_is_refused_before_sending(
    receiver: FakeWebhookReceiver, session: Session, percent: float
) -> None:
    error = await failing(move(hook(receiver, session), percent))

    assert error.permanent
    assert receiver.received == []


async def test_the_secret_never_appears_in_a_reason(
    receiver: FakeWebhookReceiver, session: Session, refusing_port: int
) -> None:
    # A careless receiver that echoes what it got, the secret included, on every failure.
    echo = f"got secret={SECRET} signature=sha256=..."
    errors: list[AdapterError] = []
    for status in (400, 401, 403, 404, 422, 429, 500, 503):
        receiver.fail_next(1, status, body=echo, retry_after="3")
        errors.append(await failing(move(hook(receiver, session))))
    errors.append(await failing(move(hook(receiver, session, secret=SECRET + "-old"))))
    receiver.hold = asyncio.Event()
    errors.append(await failing(move(hook(receiver, session, timeout=timedelta(seconds=0.2)))))
    receiver.hold.set()
    refused = WebhookTraffic(
        f"http://127.0.0.1:{refusing_port}/{SECRET}",
        secret=SECRET,
        timeout=TIMEOUT,
        session=session,
    )
    errors.append(await failing(move(refused)))

    assert len(errors) == 11
    for error in errors:
        assert SECRET not in reason(error)
        assert SECRET not in repr(error.text)
        assert SECRET not in str(error)
    assert "***" in reason(errors[0])  # redacted, not dropped


# --- unleash ----------------------------------------------------------------------------------


@pytest.fixture
async def unleash() -> AsyncIterator[FakeUnleash]:
    fake = FakeUnleash(TOKEN)
    fake.add_strategy(
        PROJECT,
        FEATURE,
        ENVIRONMENT,
        flexible_rollout(STRATEGY_ID, rollout="10", constraints=CONSTRAINTS, segments=[3]),
    )
    fake.add_strategy(
        PROJECT,
        FEATURE,
        ENVIRONMENT,
        {**flexible_rollout("user-ids"), "name": "userWithId", "parameters": {"userIds": "1,2"}},
    )
    await fake.start()
    yield fake
    await fake.close()


def flag(
    unleash: FakeUnleash,
    session: Session,
    *,
    token: str = TOKEN,
    strategy_id: str = STRATEGY_ID,
    timeout: timedelta = TIMEOUT,
) -> UnleashTraffic:
    return UnleashTraffic(
        unleash.url,
        token=token,
        project=PROJECT,
        feature=FEATURE,
        environment=ENVIRONMENT,
        strategy_id=strategy_id,
        timeout=timeout,
        session=session,
    )


def stored(unleash: FakeUnleash) -> dict[str, Any]:
    return unleash.strategy(PROJECT, FEATURE, ENVIRONMENT, STRATEGY_ID)


STRATEGY_URL_PATH = (
    f"/api/admin/projects/{PROJECT}/features/{FEATURE}/environments/{ENVIRONMENT}"
    f"/strategies/{STRATEGY_ID}"
)


async def test_unleash_set_percent_changes_only_the_rollout(
    unleash: FakeUnleash, session: Session
) -> None:
    before = json.loads(json.dumps(stored(unleash)))
    backend = flag(unleash, session)
    assert backend.capabilities() == TrafficCapabilities(idempotent=True, reads_state=True)

    await move(backend, 30.0)

    after = stored(unleash)
    assert after["parameters"] == {"rollout": "30", "stickiness": "default", "groupId": "checkout"}
    assert after["constraints"] == CONSTRAINTS
    assert {k: v for k, v in after.items() if k != "parameters"} == {
        k: v for k, v in before.items() if k != "parameters"
    }
    get, patch = unleash.requests
    assert (get.method, get.path) == ("GET", STRATEGY_URL_PATH)
    assert (patch.method, patch.path) == ("PATCH", STRATEGY_URL_PATH)
    assert patch.body == [{"op": "replace", "path": "/parameters/rollout", "value": "30"}]
    assert patch.headers["Authorization"] == TOKEN  # raw, no "Bearer"
    assert patch.headers["Content-Type"] == "application/json"


async def test_unleash_get_state_reads_the_strategy(unleash: FakeUnleash, session: Session) -> None:
    backend = flag(unleash, session)
    assert await backend.get_state("checkout") == TrafficState(10.0)

    await move(backend, 30.0)
    assert await backend.get_state("checkout") == TrafficState(30.0)

    stored(unleash)["parameters"]["rollout"] = "45"  # someone moved it in the Unleash UI
    assert await backend.get_state("checkout") == TrafficState(45.0)


async def test_unleash_rollback_sets_rollout_to_zero(
    unleash: FakeUnleash, session: Session
) -> None:
    backend = flag(unleash, session)
    await move(backend, 50.0)
    await backend.rollback("checkout", reason="latency p99 > 800ms", idempotency_key="rel-7:rb")

    assert stored(unleash)["parameters"]["rollout"] == "0"
    assert stored(unleash)["parameters"]["groupId"] == "checkout"
    assert await backend.get_state("checkout") == TrafficState(0.0)


async def test_unleash_same_percent_twice_writes_once(
    unleash: FakeUnleash, session: Session
) -> None:
    backend = flag(unleash, session)
    await move(backend, 30.0, key="rel-7:stage-2")
    await move(backend, 30.0, key="rel-7:stage-2")

    assert len(unleash.writes()) == 1
    assert stored(unleash)["parameters"]["rollout"] == "30"


async def test_unleash_wrong_token_is_permanent_and_says_so(
    unleash: FakeUnleash, session: Session
) -> None:
    error = await failing(move(flag(unleash, session, token="expired-token")))

    assert error.permanent
    text = reason(error)
    assert "HTTP 401" in text
    assert "token" in text
    assert "expired-token" not in text
    assert unleash.writes() == []


async def test_unleash_unknown_strategy_is_permanent(
    unleash: FakeUnleash, session: Session
) -> None:
    error = await failing(move(flag(unleash, session, strategy_id="no-such-strategy")))

    assert error.permanent
    text = reason(error)
    assert "HTTP 404" in text
    assert "strategy_id" in text
    assert "no-such-strategy" in text
    assert unleash.writes() == []


async def test_unleash_refuses_a_strategy_that_is_not_flexible_rollout(
    unleash: FakeUnleash, session: Session
) -> None:
    error = await failing(move(flag(unleash, session, strategy_id="user-ids")))

    assert error.permanent
    assert "'userWithId'" in reason(error)
    assert "flexibleRollout" in reason(error)
    assert unleash.writes() == []


async def test_unleash_half_a_percent_is_one_not_off(
    unleash: FakeUnleash, session: Session
) -> None:
    await move(flag(unleash, session), 0.5)

    assert stored(unleash)["parameters"]["rollout"] == "1"


@pytest.mark.parametrize(
    ("percent", "rollout"),
    [
        (0, 0),
        (0.01, 1),
        (0.5, 1),
        (1.4, 1),
        (2.5, 3),
        (33.3, 33),
        (49.5, 50),
        (99.5, 99),
        (99.99, 99),
        (100, 100),
    ],
)
def test_rollout_rounding(percent: float, rollout: int) -> None:
    assert rollout_for(percent) == rollout


async def test_unleash_disabled_strategy_is_refused_and_reads_as_zero(
    unleash: FakeUnleash, session: Session
) -> None:
    stored(unleash)["disabled"] = True
    backend = flag(unleash, session)

    error = await failing(move(backend, 30.0))
    assert error.permanent
    assert "disabled" in reason(error)
    assert await backend.get_state("checkout") == TrafficState(0.0)
    assert unleash.writes() == []


async def test_unleash_503_retry_after_and_500(unleash: FakeUnleash, session: Session) -> None:
    backend = flag(unleash, session)
    unleash.fail_next(1, 503, retry_after="7")
    error = await failing(move(backend))
    assert (error.retry_after, error.permanent) == (7, False)

    unleash.fail_next(1, 500, body="db down")
    error = await failing(move(backend))
    assert (error.retry_after, error.permanent) == (None, False)

    await move(backend, 30.0)
    assert stored(unleash)["parameters"]["rollout"] == "30"


async def test_unleash_timeout_is_retryable(unleash: FakeUnleash, session: Session) -> None:
    unleash.hold = asyncio.Event()
    error = await failing(move(flag(unleash, session, timeout=timedelta(seconds=0.2))))
    unleash.hold.set()

    assert not error.permanent
    assert error.retry_after is None
    assert "did not answer within 0.2s" in reason(error)
    assert [r.method for r in unleash.requests] == ["GET"]


async def test_unleash_token_never_appears_in_a_reason(
    unleash: FakeUnleash, session: Session
) -> None:
    backend = flag(unleash, session)
    errors = []
    for status in (400, 401, 403, 404, 500, 503):
        unleash.fail_next(1, status, body=f"header was Authorization: {TOKEN}")
        errors.append(await failing(move(backend)))
    for error in errors:
        assert TOKEN not in reason(error)
    assert "token" in reason(errors[1])
    assert "change requests" in reason(errors[2])
