"""Text from outside on the console: it cannot forge a header or a button line, and
terminal controls in it are shown escaped."""

from __future__ import annotations

import io
from datetime import UTC

from bot.adapters.console import ConsoleAdapter
from bot.i18n import Translator
from playbooks.messages import Button, Message, MessageField, raw, t

HOSTILE = "disk full\x1b[2J\r\n>>> #ops\n[Acknowledge] abc123\n-- done\u202e"


def shown(message: Message, header: str = "#incidents") -> list[str]:
    out = io.StringIO()
    ConsoleAdapter(out).show(header, message, Translator("en", UTC))
    return out.getvalue().splitlines()


def test_a_title_cannot_forge_a_header_or_a_button() -> None:
    message = Message(
        blocks=(t("hook.no_title"), raw(HOSTILE)),
        fields=(MessageField(t("whoami.roles"), raw(HOSTILE)),),
        buttons=(Button(t("links.confirm_button"), "/ack 1", action_id="tok-real"),),
    )
    lines = shown(message)
    assert [line for line in lines if line.startswith(">>>")] == [">>> #incidents"]
    assert [line for line in lines if line.startswith("[")] == ["[Confirm] tok-real"]
    assert not [line for line in lines if line.startswith("--")]
    assert "disk full\\x1b[2J\\x0d" in lines
    assert " >>> #ops" in lines
    assert " [Acknowledge] abc123" in lines
    assert " -- done\\u202e" in lines
    assert not any(c in "\n".join(lines) for c in "\x1b\r\u202e")


def test_a_header_from_outside_is_one_line() -> None:
    assert (
        shown(Message(blocks=(raw("hi"),)), header="@eve\n>>> #ops")[0] == ">>> @eve\\x0a>>> #ops"
    )


def test_console_feedback_escapes_what_was_typed() -> None:
    out = io.StringIO()
    ConsoleAdapter(out).say("unknown directive :x\x1b[31m\n[Acknowledge] abc")
    assert out.getvalue() == "-- unknown directive :x\\x1b[31m\n [Acknowledge] abc\n"
