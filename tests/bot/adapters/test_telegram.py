"""Telegram end to end: the real python-telegram-bot ``Bot`` against a local fake Bot API, our
webhook route over real HTTP, polling, buttons, pages, and Telegram's flood control."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.adapters.telegram import (
    CONTINUATION_BUDGET,
    SECRET_HEADER,
    WEBHOOK_PATH,
    TelegramAdapter,
)
from bot.adapters.telegram_limits import SendLimiter
from bot.adapters.telegram_render import render
from bot.clock import VirtualClock
from bot.config.directory import DEFAULTS
from bot.http import serve
from playbooks.messages import Button, Message, raw
from storage.models import AuditEntry, OutboxMessage, Reminder
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.sqlite_lock import WriteLock
from tests.fakes.telegram_api import TOKEN, FakeTelegram, callback_update, message_update

SECRET = "webhook-secret_for-tests"
ALICE, BOB, CAROL, MALLORY = 1001, 1002, 1003, 1005
OPS = -100500  # a group everyone is in
INCIDENTS, TECH, WEB = -100600, -100700, -100800
pytestmark = pytest.mark.usefixtures("database_url")


class FakeTime:
    """The send limiter's clock: the app's virtual clock, plus whatever the limiter slept
    (sleeping moves it; nothing waits)."""

    def __init__(self) -> None:
        self.clock: VirtualClock | None = None
        self.slept: list[float] = []

    def monotonic(self) -> float:
        base = self.clock.now().timestamp() if self.clock is not None else 0.0
        return base + sum(self.slept)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def telegram_config(directory: Path) -> Path:
    """The shipped configuration, with a Telegram identity for everyone and Telegram chats
    for the channels news goes to."""
    directory.mkdir(exist_ok=True)
    ids = {"alice": ALICE, "bob": BOB, "carol": CAROL, "dave": 1004, "mallory": MALLORY}
    people = (DEFAULTS / "people.yaml").read_text()
    for handle, user_id in ids.items():
        people = people.replace(
            f"      console: {handle}\n", f'      console: {handle}\n      telegram: "{user_id}"\n'
        )
    (directory / "people.yaml").write_text(people)
    channels = {
        '"#incidents"': f'"telegram:{INCIDENTS}"',
        '"#tech"': f'"telegram:{TECH}"',
        '"#web"': f'"telegram:{WEB}"',
        '"#releases"': f'"telegram:{WEB}"',
    }
    for name in ("services.yaml", "severity.yaml", "teams.yaml"):
        text = (DEFAULTS / name).read_text()
        for old, new in channels.items():
            text = text.replace(old, new)
        (directory / name).write_text(text)
    return directory


@dataclass
class Telegram:
    h: Harness
    fake: FakeTelegram
    time: FakeTime
    port: int
    session: aiohttp.ClientSession

    async def webhook(self, update: dict[str, Any], *, secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self.session.post(
            f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}", json=update, headers=headers
        ) as response:
            await response.read()
        adapter = self.h.app.adapters["telegram"]
        assert isinstance(adapter, TelegramAdapter)
        await adapter.settled()  # replies go out after the update is answered
        await self.h.app.settle()
        return response.status

    async def say(
        self, text: str, *, user: int = ALICE, chat: int = OPS, update_id: int | None = None
    ) -> int:
        update = message_update(text, user_id=user, chat_id=chat)
        return await self.webhook({"update_id": update_id or self.fake.next_update_id(), **update})

    async def press(self, token: str, *, user: int, chat: int, query_id: str) -> int:
        update = callback_update(token, user_id=user, chat_id=chat, query_id=query_id)
        return await self.webhook({"update_id": self.fake.next_update_id(), **update})


async def _harness(
    make_harness: HarnessFactory, fake: FakeTelegram, time: FakeTime, config: Path, **kw: Any
) -> tuple[Harness, TelegramAdapter]:
    adapter = TelegramAdapter(
        TOKEN,
        api_url=fake.api_url,
        limiter=SendLimiter(monotonic=time.monotonic, sleep=time.sleep),
        **kw,
    )
    h = await make_harness(adapter=adapter, config_dir=config)
    time.clock = h.clock
    return h, adapter


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram.start()
    yield server
    await server.stop()


@pytest.fixture
async def tg(
    make_harness: HarnessFactory, fake: FakeTelegram, tmp_path: Path
) -> AsyncIterator[Telegram]:
    time = FakeTime()
    config = telegram_config(tmp_path / "config")
    h, _ = await _harness(make_harness, fake, time, config, mode="webhook", secret=SECRET)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Telegram(h, fake, time, port, session)
    finally:
        await runner.cleanup()


def _texts(calls: list[Any]) -> list[str]:
    return [str(c.params["text"]) for c in calls]


def _audits(h: Harness) -> int:
    with unit_of_work(h.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEntry)).one())


def _find(calls: list[Any], pattern: str) -> Any:
    matching = [c for c in calls if re.search(pattern, str(c.params["text"]))]
    assert matching, f"no message matching {pattern!r} in {_texts(calls)}"
    return matching[-1]


async def test_a_command_by_webhook_is_answered_in_html_with_an_inline_keyboard(
    tg: Telegram,
) -> None:
    assert tg.fake.sent("getMe"), "the adapter asked who it is on start"
    assert await tg.say("/release start web 1.2.3 --note \"<b>bold</b> & 'quoted'\"") == 200
    assert await tg.say("/release status web") == 200
    status = tg.fake.sent()[-1]
    assert status.params["chat_id"] == OPS
    assert status.params["parse_mode"] == "HTML"
    text = status.params["text"]
    assert "web" in text
    assert "1.2.3" in text
    assert re.search(r"<b>[^<]+</b>: ", text), "fields are bold labels"
    assert status.params["reply_parameters"]["message_id"] == 1  # quotes the command
    labels = [button["text"] for row in status.keyboard for button in row]
    assert "Promote" in labels
    assert "Roll back" in labels
    assert all(0 < len(data.encode()) <= 64 for data in status.callback_data)
    # What a person typed is escaped, never markup.
    start = _find(tg.fake.sent(), "1.2.3")
    assert "<b>bold</b>" not in "\n".join(_texts(tg.fake.sent()))
    assert start is not None


async def test_the_note_a_person_typed_is_escaped(tg: Telegram) -> None:
    await tg.say("/remind 10m check <b>this</b> & that")
    await tg.h.advance(minutes=10)
    reminder = _find(tg.fake.sent(), "check ")
    assert "check &lt;b&gt;this&lt;/b&gt; &amp; that" in reminder.params["text"]


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_runs(
    tg: Telegram, caplog: pytest.LogCaptureFixture
) -> None:
    before = _audits(tg.h)
    update = {"update_id": 7, **message_update("/remind 5m hi", user_id=ALICE, chat_id=OPS)}
    with caplog.at_level("WARNING", logger="shipwatch.telegram"):
        assert await tg.webhook(update, secret="not-the-secret") == 403
        assert await tg.webhook(update, secret=None) == 403
    refusals = [r for r in caplog.records if "secret" in r.getMessage()]
    assert len(refusals) == 2
    assert SECRET not in caplog.text
    assert tg.fake.sent() == []
    assert _audits(tg.h) == before
    # The same update with the right secret is not taken for a repeat: nothing was recorded.
    assert await tg.webhook(update) == 200
    assert "Reminder #1" in tg.fake.sent()[-1].params["text"]


async def test_a_repeated_update_changes_nothing(tg: Telegram) -> None:
    await tg.say("/remind 10m once", update_id=4242)
    audits, sent = _audits(tg.h), len(tg.fake.sent())
    assert await tg.say("/remind 10m once", update_id=4242) == 200
    assert (_audits(tg.h), len(tg.fake.sent())) == (audits, sent)
    await tg.say("/reminders")
    assert tg.fake.sent()[-1].params["text"].count("once") == 1


async def test_commands_addressed_to_the_bot_or_another(tg: Telegram) -> None:
    await tg.say("/whoami@shipwatch_bot")
    assert "alice" in tg.fake.sent()[-1].params["text"]
    count = len(tg.fake.sent())
    await tg.say("/whoami@some_other_bot")
    await tg.say("just chatting in the group")
    assert len(tg.fake.sent()) == count, "messages for others are left alone"
    await tg.say("@shipwatch_bot whoami", user=BOB)
    assert "bob" in tg.fake.sent()[-1].params["text"]
    await tg.say("whoami", user=CAROL, chat=CAROL)  # a private chat needs no slash
    assert tg.fake.sent()[-1].params["chat_id"] == CAROL
    assert "carol" in tg.fake.sent()[-1].params["text"]
    await tg.say('/remind@ShipWatch_Bot 1h "two words" and more')
    assert "two words and more" in tg.fake.sent()[-1].params["text"]


async def test_a_stranger_is_a_guest(tg: Telegram) -> None:
    await tg.say("/remind 10m hi", user=999)
    reply = tg.fake.sent()[-1].params["text"]
    assert "responder" in reply
    assert tg.fake.sent("sendMessage")[-1].params["chat_id"] == OPS


async def test_a_button_press_runs_as_the_presser_and_is_answered(tg: Telegram) -> None:
    await tg.say("/remind 10m check the dashboards")
    token = tg.fake.sent()[-1].callback_data[0]
    # mallory has no role: refused in a toast, nothing posted, nothing cancelled.
    posted = len(tg.fake.sent())
    assert await tg.press(token, user=MALLORY, chat=OPS, query_id="q-mallory") == 200
    refusal = tg.fake.sent("answerCallbackQuery")[-1]
    assert refusal.params["callback_query_id"] == "q-mallory"
    assert "responder" in refusal.params["text"]
    assert len(tg.fake.sent()) == posted
    # alice cancels it; the answer is posted to the group and the query answered quietly.
    assert await tg.press(token, user=ALICE, chat=OPS, query_id="q-alice") == 200
    answered = tg.fake.sent("answerCallbackQuery")[-1]
    assert answered.params["callback_query_id"] == "q-alice"
    assert "text" not in answered.params
    assert "cancel" in tg.fake.sent()[-1].params["text"].lower()
    # the same press delivered again: answered, nothing else happens.
    await tg.press(token, user=ALICE, chat=OPS, query_id="q-alice")
    assert len(tg.fake.sent("answerCallbackQuery")) == 3
    assert len(tg.fake.sent()) == posted + 1
    await tg.h.advance(minutes=11)
    assert len(tg.fake.sent()) == posted + 1, "cancelled: the reminder never came"


async def test_an_unknown_button_gets_a_toast(tg: Telegram) -> None:
    await tg.press("nosuchtoken", user=ALICE, chat=OPS, query_id="q-unknown")
    answer = tg.fake.sent("answerCallbackQuery")[-1]
    assert "not known" in answer.params["text"]
    assert tg.fake.sent() == []


async def test_a_page_reaches_a_person_by_direct_message(tg: Telegram) -> None:
    await tg.say("/page @bob the checkout is down")
    page = _find([c for c in tg.fake.sent() if c.params["chat_id"] == BOB], "checkout is down")
    assert page.params["parse_mode"] == "HTML"
    assert len(page.callback_data) == 2  # Acknowledge, Escalate


async def test_flood_control_becomes_a_retry_on_the_virtual_clock(tg: Telegram) -> None:
    await tg.say("/remind 1m hello there")
    tg.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    await tg.h.advance(minutes=1)  # the reminder's post: refused, rescheduled as Telegram asks

    def attempts() -> int:
        return sum("hello there" in c.params["text"] for c in tg.fake.sent()) - 1

    assert attempts() == 1
    with unit_of_work(tg.h.app.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.state != "sent")).one()
        assert "retry after 7" in (row.last_error or "")
    await tg.h.advance(seconds=6)
    assert attempts() == 1, "not before Telegram's retry_after"
    await tg.h.advance(seconds=1)
    assert attempts() == 2
    with unit_of_work(tg.h.app.engine) as session:
        assert session.exec(select(OutboxMessage).where(OutboxMessage.state != "sent")).all() == []


async def test_a_blocked_bot_is_a_dead_letter_not_retried(tg: Telegram) -> None:
    tg.fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=BOB)
    await tg.say("/page @bob are you there")
    await tg.h.advance(seconds=30)
    with unit_of_work(tg.h.app.engine) as session:
        dead = session.exec(select(OutboxMessage).where(OutboxMessage.state == "dead")).all()
        assert [row.address for row in dead] == [str(BOB)]
        assert "blocked" in (dead[0].last_error or "")


async def test_incident_page_and_acknowledge_end_to_end(tg: Telegram) -> None:
    await tg.say('/incident open "checkout returns 500" --sev P0 --service web', chat=WEB)
    opened = _find(tg.fake.sent(), "checkout returns 500")
    assert opened.params["text"].startswith("🚨") or "P0" in opened.params["text"]
    assert any(c.params["chat_id"] == INCIDENTS for c in tg.fake.sent())
    page = _find([c for c in tg.fake.sent() if c.params["chat_id"] == BOB], "Page #1")
    acknowledge = page.callback_data[0]
    await tg.press(acknowledge, user=BOB, chat=BOB, query_id="q-ack")
    assert tg.fake.sent("answerCallbackQuery")[-1].params["callback_query_id"] == "q-ack"
    _find(tg.fake.sent(), "acknowledged by @bob")
    await tg.h.advance(minutes=6)
    carol = [c for c in tg.fake.sent() if c.params["chat_id"] == CAROL]
    assert carol == [], "acknowledged: the escalation stopped before carol"


async def test_polling_receives_updates_from_get_updates(
    make_harness: HarnessFactory, fake: FakeTelegram, tmp_path: Path
) -> None:
    time = FakeTime()
    config = telegram_config(tmp_path / "config")
    h, adapter = await _harness(make_harness, fake, time, config, poll_timeout=1.0)
    assert adapter.routes() == [], "no webhook route in polling mode"
    assert fake.sent("deleteWebhook"), "polling removes any webhook first"
    await fake.push(message_update("/whoami", user_id=BOB, chat_id=BOB))
    replies = await fake.wait_for("sendMessage")
    assert replies[0].params["chat_id"] == BOB
    assert "bob" in replies[0].params["text"]
    await h.app.stop()
    offsets = [c.params.get("offset") for c in fake.sent("getUpdates")]
    assert offsets[-1] == 1001, "the update was confirmed"


def test_webhook_mode_needs_the_secret() -> None:
    from bot.adapters import build
    from bot.config.directory import load
    from bot.errors import StartupError
    from bot.settings import Settings

    settings = Settings(telegram_token=TOKEN, telegram_mode="webhook")
    with pytest.raises(StartupError, match="SHIPWATCH_TELEGRAM_SECRET"):
        build(settings, load(None))
    bad = Settings(telegram_token=TOKEN, telegram_mode="webhook", telegram_secret="has spaces")
    with pytest.raises(StartupError, match="A-Z"):
        build(bad, load(None))
    assert set(build(Settings(), load(None))) == set()


def test_the_adapter_stands_below_the_application() -> None:
    """Its startup errors come from bot.errors: building it never loads bot.app."""
    code = (
        "import sys\n"
        "from bot.adapters import telegram\n"
        "from bot.errors import StartupError\n"
        "from bot.settings import Settings\n"
        f"settings = Settings(telegram_token={TOKEN!r}, telegram_mode='webhook')\n"
        "try:\n"
        "    telegram.from_settings(settings)\n"
        "except StartupError:\n"
        "    pass\n"
        "print('bot.app' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


async def test_a_long_post_is_split_with_its_keyboard_under_the_last_part(tg: Telegram) -> None:
    adapter = tg.h.adapter
    lines = tuple(raw(f"line {i}: " + "x" * 100) for i in range(100))
    message = Message(blocks=lines, buttons=(Button(raw("Help"), "/help", action_id="tok123"),))
    ref = await adapter.post(str(OPS), message, tr=tg.h.app.translator("en"))
    parts = tg.fake.sent()
    assert len(parts) == 3
    assert all(len(p.params["text"]) <= 4096 for p in parts)
    assert [p.callback_data for p in parts] == [[], [], ["tok123"]]
    assert tg.time.slept == [1.0, 1.0], "one message a second in a chat"
    assert ref == f"{OPS} 1", "an edit changes the first part"
    edited = Message.of(raw("edited <now>"))
    assert await adapter.update(ref, edited, tr=tg.h.app.translator("en")) == ref
    edit = tg.fake.sent("editMessageText")[-1]
    assert (edit.params["chat_id"], edit.params["message_id"]) == (OPS, 1)
    assert edit.params["text"] == "edited &lt;now&gt;"


def long_message() -> Message:
    lines = tuple(raw(f"line {i}: " + "x" * 100) for i in range(100))
    return Message(blocks=lines, buttons=(Button(raw("Help"), "/help", action_id="tok123"),))


async def test_a_part_that_fails_once_is_sent_again_and_the_first_never_twice(
    tg: Telegram,
) -> None:
    tg.fake.fail_next("sendMessage", 502, "Bad Gateway", after=1)
    ref = await tg.h.adapter.post(str(OPS), long_message(), tr=tg.h.app.translator("en"))
    texts = [p.params["text"] for p in tg.fake.sent()]
    assert len(texts) == 4, "part 2 tried twice"
    assert texts[1] == texts[2]
    assert sum(text.startswith("line 0:") for text in texts) == 1
    assert ref == f"{OPS} 1"


async def test_parts_that_cannot_go_now_follow_through_the_outbox(
    tg: Telegram, caplog: pytest.LogCaptureFixture
) -> None:
    # Flood control for longer than a part may wait: the rest waits its turn in the outbox,
    # the first part is never sent again, nothing is lost.
    for _ in range(2):
        tg.fake.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 40", retry_after=40, after=1
        )
    with caplog.at_level(logging.INFO, logger="shipwatch.telegram"):
        ref = await tg.h.adapter.post(str(OPS), long_message(), tr=tg.h.app.translator("en"))
    assert ref == f"{OPS} 1"
    assert len(tg.fake.sent()) == 2, "part 1 sent, part 2 refused, nothing retried past it"
    assert sum(tg.time.slept) <= CONTINUATION_BUDGET
    queued = [r for r in caplog.records if r.getMessage().startswith("rest of a telegram")]
    assert [(r.sent, r.parts) for r in queued] == [(1, 3)]  # type: ignore[attr-defined]
    await tg.h.advance(seconds=39)
    assert len(tg.fake.sent()) == 2, "Telegram's wait is kept, by the outbox too"
    await tg.h.advance(seconds=1)
    texts = [c.params["text"] for c in tg.fake.sent()]
    whole = [p for p in render(long_message(), tg.h.app.translator("en")).chunks]
    assert texts[0] == whole[0]
    assert texts[2:] == whole[1:], "the rest, once, in order"
    assert [c.callback_data for c in tg.fake.sent()[2:]] == [[], ["tok123"]]


async def test_a_reply_in_a_chat_at_its_limit_waits_its_turn_in_the_outbox(tg: Telegram) -> None:
    # Mid-storm the group is at its limit: Telegram says to wait 33 s.
    tg.fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 33", retry_after=33, chat_id=OPS
    )
    await tg.say("/incident list")
    assert len(tg.fake.sent()) == 1, "tried once, refused"
    with unit_of_work(tg.h.app.engine) as session:
        [row] = session.exec(select(OutboxMessage).where(OutboxMessage.state == "pending")).all()
    assert (row.address, row.attempts) == (str(OPS), 0)
    await tg.h.advance(seconds=32)
    assert len(tg.fake.sent()) == 1, "Telegram's wait is kept"
    await tg.h.advance(seconds=1)
    [_, answer] = tg.fake.sent()
    assert answer.params["chat_id"] == OPS
    assert answer.params["text"] == tg.fake.sent()[0].params["text"], "the same reply, once"


async def test_an_edit_to_the_same_text_keeps_the_message(tg: Telegram) -> None:
    tr = tg.h.app.translator("en")
    ref = await tg.h.adapter.post(str(OPS), Message.of(raw("release web 1.4.2")), tr=tr)
    tg.fake.fail_next(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )
    assert await tg.h.adapter.update(ref, Message.of(raw("release web 1.4.2")), tr=tr) == ref
    tg.fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    assert await tg.h.adapter.update(ref, Message.of(raw("gone")), tr=tr) is None


async def test_a_repeat_after_a_restart_is_caught_by_the_ledger(
    make_harness: HarnessFactory, fake: FakeTelegram, tmp_path: Path
) -> None:
    config = telegram_config(tmp_path / "config")
    for _ in range(2):  # the second process remembers nothing in memory
        time = FakeTime()
        h, _ = await _harness(make_harness, fake, time, config, mode="webhook", secret=SECRET)
        runner, port = await serve(h.app, host="127.0.0.1", port=0)
        async with aiohttp.ClientSession() as session:
            assert (
                await Telegram(h, fake, time, port, session).say("/remind 10m once", update_id=77)
                == 200
            )
        await runner.cleanup()
        await h.app.stop()
    assert len(fake.sent()) == 1


@pytest.mark.parametrize(
    ("status", "description", "state"),
    [
        (400, "Bad Request: chat not found", "dead"),
        (403, "Forbidden: bot is not a member of the supergroup chat", "dead"),
        (502, "Bad Gateway", "pending"),
    ],
)
async def test_what_is_given_up_on_and_what_is_retried(
    tg: Telegram, status: int, description: str, state: str
) -> None:
    tg.fake.fail_next("sendMessage", status, description, chat_id=INCIDENTS)
    await tg.say('/incident open "search is slow" --sev P3 --service web', chat=WEB)
    with unit_of_work(tg.h.app.engine) as session:
        row = session.exec(
            select(OutboxMessage).where(OutboxMessage.address == str(INCIDENTS))
        ).one()
        assert row.state == state
        assert description.split(": ")[-1].lower() in (row.last_error or "").lower()


async def test_a_body_that_is_no_update_is_refused(tg: Telegram) -> None:
    async with tg.session.post(
        f"http://127.0.0.1:{tg.port}{WEBHOOK_PATH}",
        data=b"{not json",
        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
    assert await tg.webhook({"no": "update_id"}) == 400
    assert tg.fake.sent() == []


async def test_a_channel_known_by_name_is_reached_at_its_chat_id(
    make_harness: HarnessFactory, fake: FakeTelegram, tmp_path: Path
) -> None:
    config = telegram_config(tmp_path / "config")
    (config / "channels.yaml").write_text('telegram:\n  "#launch": "-100777"\n')
    h, _ = await _harness(make_harness, fake, FakeTime(), config, mode="webhook", secret=SECRET)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            tg = Telegram(h, fake, FakeTime(), port, session)
            await tg.say("/config locale zh", chat=-100777)
            await tg.say("/remind 1m 看一下灰度", chat=-100777)
            await h.advance(minutes=1)
    finally:
        await runner.cleanup()
    with unit_of_work(h.app.engine) as session:
        [reminder] = session.exec(select(Reminder)).all()
        assert reminder.channel == "#launch"  # what was typed there belongs to the name
    reminded = _find(fake.sent(), "看一下灰度$")
    assert reminded.params["chat_id"] == -100777
    assert "提醒" in reminded.params["text"]  # the language chosen in that chat


async def test_a_report_chart_is_linked_and_sent_as_a_photo(tg: Telegram) -> None:
    from bot import charts
    from commands.core.effects import apply
    from playbooks.effects import Conversation, Post
    from storage.repositories import summaries

    png = charts.render("error rate", [])
    app = tg.h.app
    with unit_of_work(app.engine) as session:
        chart_id = summaries.store_chart(
            session, token="chart01", png=png, kind="daily", now=tg.h.clock.now()
        )
        report = Message(blocks=(raw("📋 Daily report"),), image=chart_id)
        apply(
            session,
            [Post(Conversation("telegram", str(OPS)), report)],
            now=tg.h.clock.now(),
            directory=app.runtime.directory,
            new_token=app.runtime.new_token,
            reachable=app.runtime.reachable_platforms,
        )
    await app.settle()
    [text] = tg.fake.sent()
    link = f'<a href="http://127.0.0.1:8080/charts/{chart_id}.png">📈 Chart</a>'
    assert link in text.params["text"]
    [photo] = tg.fake.sent("sendPhoto")
    assert (photo.params["chat_id"], photo.params["photo"]) == (OPS, png)


async def test_half_a_surrogate_pair_or_a_body_that_is_not_json_is_400(tg: Telegram) -> None:
    before = _audits(tg.h)
    assert await tg.say("/remind 5m \ud800 hi") == 400
    async with tg.session.post(
        f"http://127.0.0.1:{tg.port}{WEBHOOK_PATH}",
        data=b"\xff{",
        headers={SECRET_HEADER: SECRET, "Accept-Language": "zh"},
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"].startswith("请求体不是 UTF-8 文本")
    assert tg.fake.sent() == []
    assert _audits(tg.h) == before


async def test_a_press_is_answered_within_a_second_while_its_command_waits(
    tg: Telegram,
) -> None:
    """The button stops spinning at once; the reply follows when the command has run."""
    if tg.h.app.engine.dialect.name != "sqlite":
        pytest.skip("another process's write lock is SQLite's situation")
    await tg.say("/remind 10m check the dashboards")
    token = tg.fake.sent()[-1].callback_data[0]
    lock = WriteLock(str(tg.h.app.engine.url.database), 3.0)
    lock.start()
    assert lock.taken.wait(5)
    update = callback_update(token, user_id=ALICE, chat_id=OPS, query_id="q-slow")
    began = time.perf_counter()
    async with tg.session.post(
        f"http://127.0.0.1:{tg.port}{WEBHOOK_PATH}",
        json={"update_id": tg.fake.next_update_id(), **update},
        headers={SECRET_HEADER: SECRET},
    ) as response:
        assert response.status == 200
    answered = await tg.fake.wait_for("answerCallbackQuery")
    took = time.perf_counter() - began
    assert answered[-1].params["callback_query_id"] == "q-slow"
    assert took < 2.0, f"answered after {took:.2f} s"
    assert lock.is_alive(), "answered while the command still waited on the database"
    await asyncio.to_thread(lock.join)
    adapter = tg.h.app.adapters["telegram"]
    assert isinstance(adapter, TelegramAdapter)
    await adapter.settled()
    assert "cancel" in tg.fake.sent()[-1].params["text"].lower()


async def test_news_posted_in_a_chat_is_not_sent_again_to_its_members(tg: Telegram) -> None:
    tg.fake.members[OPS] = {ALICE, BOB}  # as getChatMember answers; carol is not in it
    await tg.say('/incident open "checkout slow" --sev P3')
    await tg.say("/incident assign 1 scribe @bob")
    await tg.say("/incident assign 1 comms @carol")
    await tg.say("/incident assign 1 commander @bob")
    assert [c for c in tg.fake.sent() if c.params["chat_id"] == BOB] == []
    _find([c for c in tg.fake.sent() if c.params["chat_id"] == CAROL], "communications lead")
    # Asked once for bob in this chat and once for carol, then remembered.
    asked = [(c.params["chat_id"], int(c.params["user_id"])) for c in tg.fake.sent("getChatMember")]
    assert sorted(asked) == [(OPS, BOB), (OPS, CAROL)]
