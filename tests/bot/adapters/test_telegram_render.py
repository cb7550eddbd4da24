"""The pure parts of the Telegram adapter: HTML rendering and splitting, the send limiter,
and which messages are commands for the bot."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.telegram import file_url
from bot.adapters.telegram_limits import RateLimited, SendLimiter, is_group
from bot.adapters.telegram_render import MAX_LENGTH, render, telegram_length
from bot.adapters.telegram_send import chat_id
from bot.adapters.telegram_updates import line_for
from bot.i18n import Translator
from playbooks.errors import AdapterError
from playbooks.messages import Button, Message, MessageField, Severity, raw, t

TR = Translator("en", ZoneInfo("UTC"))


def test_text_and_fields_are_escaped_html() -> None:
    message = Message(
        blocks=(raw("deploy <web> & 'api'"),),
        fields=(MessageField(raw("a<b"), raw("x & y")),),
        severity=Severity.DANGER,
    )
    rendered = render(message, TR)
    assert rendered.chunks == ("🚨 deploy &lt;web&gt; &amp; 'api'\n<b>a&lt;b</b>: x &amp; y",)


def test_a_text_with_its_own_emoji_gets_no_second_one() -> None:
    message = Message.of(raw("📟 Page #1"), severity=Severity.DANGER)
    assert render(message, TR).chunks == ("📟 Page #1",)
    assert render(Message.of(raw("fine"), severity=Severity.INFO), TR).chunks == ("fine",)
    assert render(Message.of(raw("done"), severity=Severity.SUCCESS), TR).chunks == ("✅ done",)


def test_long_messages_split_between_lines_within_the_limit() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(120)]
    rendered = render(Message.of(*(raw(line) for line in lines)), TR)
    assert len(rendered.chunks) == 3
    assert all(telegram_length(chunk) <= MAX_LENGTH for chunk in rendered.chunks)
    assert "\n".join(rendered.chunks) == "\n".join(lines)


def test_one_huge_line_is_cut_at_spaces_and_never_inside_an_entity() -> None:
    words = render(Message.of(raw(" ".join(["word"] * 2000))), TR)
    assert all(telegram_length(c) <= MAX_LENGTH for c in words.chunks)
    assert all(not c.startswith(" ") and c.split(" ")[-1] == "word" for c in words.chunks)
    amps = render(Message.of(raw("&" * 3000)), TR)
    assert len(amps.chunks) == 4
    assert all(re.fullmatch("(&amp;)+", c) for c in amps.chunks)
    assert sum(c.count("&amp;") for c in amps.chunks) == 3000


def test_length_counts_as_telegram_does() -> None:
    emoji = render(Message.of(raw("🚨" * 3000)), TR)  # two UTF-16 units each
    assert [telegram_length(c) for c in emoji.chunks] == [4096, 1904]


def test_buttons_become_rows_and_an_oversized_token_is_left_out() -> None:
    buttons = (
        *tuple(Button(raw(f"B{i}"), "/help", action_id=f"tok{i}") for i in range(4)),
        Button(raw("huge"), "/help", action_id="x" * 65),
    )
    rendered = render(Message(blocks=(t("button.unknown"),), buttons=buttons), TR)
    assert rendered.keyboard == (
        (("B0", "tok0"), ("B1", "tok1"), ("B2", "tok2")),
        (("B3", "tok3"),),
    )


class Time:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_one_message_a_second_per_chat_without_holding_up_others() -> None:
    time = Time()
    limiter = SendLimiter(monotonic=time.monotonic, sleep=time.sleep, max_wait=2.0)
    await limiter.acquire("1001")
    assert time.now == 0
    await limiter.acquire("1001")
    assert time.now == 1.0
    await limiter.acquire("1002")  # another chat: no wait
    assert time.now == 1.0


async def test_senders_to_one_chat_queue_up_and_a_long_wait_is_handed_back() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)  # three senders at the same moment: nobody has sent yet

    limiter = SendLimiter(monotonic=lambda: 0.0, sleep=sleep, max_wait=2.0)
    for _ in range(3):
        await limiter.acquire("1001")
    assert waits == [1.0, 2.0]
    with pytest.raises(RateLimited) as limited:
        await limiter.acquire("1001")
    assert limited.value.wait == 3.0
    await limiter.acquire("1001", max_wait=5.0)  # a reply waits longer
    assert waits[-1] == 3.0


async def test_twenty_a_minute_per_group() -> None:
    time = Time()
    limiter = SendLimiter(monotonic=time.monotonic, sleep=time.sleep, max_wait=2.0)
    for _ in range(20):
        await limiter.acquire("-100500")
    assert time.now == 19.0
    with pytest.raises(RateLimited) as limited:
        await limiter.acquire("-100500")
    assert limited.value.wait == pytest.approx(41.0)
    time.now = 60.0
    await limiter.acquire("-100500")
    await limiter.acquire("1001")  # a person is no group


async def test_telegram_asking_to_wait_holds_the_chat() -> None:
    time = Time()
    limiter = SendLimiter(monotonic=time.monotonic, sleep=time.sleep)
    limiter.hold("1001", 7)
    with pytest.raises(RateLimited):
        await limiter.acquire("1001")
    time.now = 7.0
    await limiter.acquire("1001")


def test_groups_and_chat_ids() -> None:
    assert is_group("-100123")
    assert is_group("@releases")
    assert not is_group("1001")
    assert chat_id("-100123") == -100123
    assert chat_id("@releases") == "@releases"
    with pytest.raises(AdapterError) as error:
        chat_id("#releases")
    assert error.value.permanent
    assert file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"


@pytest.mark.parametrize(
    ("text", "private", "line"),
    [
        ("/release status web", False, "/release status web"),
        ("/release@shipwatch_bot status web", False, "/release status web"),
        ("/Release@ShipWatch_Bot   status   web", False, "/release status   web"),
        ("/release@other_bot status", False, None),
        ('/incident open "db down" --sev P1', False, '/incident open "db down" --sev P1'),
        ("/shipwatch remind 10m tea", False, "/remind 10m tea"),
        ("/shipwatch", False, "/help"),
        ("/start", True, "/help"),
        ("/start@shipwatch_bot deep-link", False, "/help"),
        ("@shipwatch_bot release status", False, "/release status"),
        ("@ShipWatch_bot /whoami", False, "/whoami"),
        ("morning all", False, None),
        ("@someone_else release status", False, None),
        ("release status", True, "/release status"),
        ("/", False, None),
        ("   ", True, None),
    ],
)
def test_which_messages_are_commands(text: str, private: bool, line: str | None) -> None:
    assert line_for(text, bot_username="shipwatch_bot", private=private) == line
