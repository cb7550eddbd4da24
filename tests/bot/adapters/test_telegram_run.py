"""``shipwatch run`` with Telegram set up, against the fake Bot API in a thread of its own: it
polls (or serves the webhook), answers, stops cleanly on SIGTERM, and never logs the token."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.adapters.telegram import SECRET_HEADER, WEBHOOK_PATH
from tests.bot.test_run import Served, start
from tests.fakes.telegram_api import TOKEN, FakeTelegram, message_update

T = TypeVar("T")
SECRET = "run-secret-for-tests"


class FakeInThread:
    """The fake Bot API on an event loop in a thread, since ``shipwatch run`` is a process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeTelegram = self.call(FakeTelegram.start())

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=20)

    def close(self) -> None:
        self.call(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def api() -> Iterator[FakeInThread]:
    fake = FakeInThread()
    yield fake
    fake.close()


def _env(tmp_path: Path, api: FakeInThread, **extra: str) -> dict[str, str]:
    return {
        "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        "SHIPWATCH_TELEGRAM_TOKEN": TOKEN,
        "SHIPWATCH_TELEGRAM_API_URL": api.fake.api_url,
        **extra,
    }


def test_run_polls_answers_and_stops(tmp_path: Path, api: FakeInThread) -> None:
    served = Served(_env(tmp_path, api))
    served.ready()
    api.call(api.fake.push(message_update("/whoami", user_id=4242, chat_id=4242)))
    replies = api.call(api.fake.wait_for("sendMessage"))
    assert replies[0].params["chat_id"] == 4242
    assert "telegram:4242" in replies[0].params["text"]
    out, err = served.stop()
    assert served.process.returncode == 0
    assert out == "", "with a chat platform nothing is printed to stdout"
    assert TOKEN not in err
    assert TOKEN.split(":")[1] not in err


def test_run_serves_the_webhook(tmp_path: Path, api: FakeInThread) -> None:
    env = _env(tmp_path, api, SHIPWATCH_TELEGRAM_MODE="webhook", SHIPWATCH_TELEGRAM_SECRET=SECRET)
    served = Served(env)
    port = served.ready()
    update = {"update_id": 1, **message_update("/whoami", user_id=4242, chat_id=4242)}

    def post(secret: str) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", SECRET_HEADER: secret},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    try:
        assert post("wrong") == 403
        assert post(SECRET) == 200
        # The reply follows the webhook's answer, so Telegram's next update is not held up.
        replies = api.call(api.fake.wait_for("sendMessage"))
        assert [c.params["chat_id"] for c in replies] == [4242]
        assert api.fake.sent("getUpdates") == [], "webhook mode never polls"
    finally:
        served.stop()  # also when an assertion failed: no bot left running
    assert served.process.returncode == 0


def test_webhook_mode_without_a_secret_is_one_sentence(tmp_path: Path, api: FakeInThread) -> None:
    process = start(_env(tmp_path, api, SHIPWATCH_TELEGRAM_MODE="webhook"))
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "SHIPWATCH_TELEGRAM_SECRET" in err
    assert "Traceback" not in err


def test_a_refused_token_is_one_sentence(tmp_path: Path, api: FakeInThread) -> None:
    env = _env(tmp_path, api, SHIPWATCH_TELEGRAM_TOKEN="999:wrong-token")
    process = start(env)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "Telegram refused SHIPWATCH_TELEGRAM_TOKEN" in err
    assert "wrong-token" not in err
    assert "Traceback" not in err
