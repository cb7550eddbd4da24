"""Secrets never reach the logs, nor the error texts stored for /admin outbox."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter, scrub_credentials


def test_credentials_in_urls_and_queries_are_hidden() -> None:
    text = (
        "POST https://api.telegram.org/bot123456:AAE-secret_Tok/sendMessage failed; "
        "postgresql://sw:pa55word@db/sw; https://oapi.dingtalk.com/robot/send?access_token=abc123&x=1"
    )
    scrubbed = scrub_credentials(text)
    for secret in ("AAE-secret_Tok", "pa55word", "abc123"):
        assert secret not in scrubbed
    assert "/bot***/sendMessage" in scrubbed
    assert "postgresql://sw:***@db/sw" in scrubbed
    assert "access_token=***&x=1" in scrubbed


def test_a_feishu_hook_id_is_hidden() -> None:
    hook = "https://open.feishu.cn/open-apis/bot/v2/hook/8d3f-4b2a_c91e?x=1 failed"
    assert scrub_credentials(hook) == "https://open.feishu.cn/open-apis/bot/v2/hook/***?x=1 failed"
    lark = "https://open.larksuite.com/open-apis/bot/v2/hook/0a1b2c3d"
    assert "0a1b2c3d" not in scrub_credentials(lark)


def test_formatter_redacts_secret_fields_and_known_values() -> None:
    formatter = JsonFormatter(secrets=["xoxb-very-secret"])
    record = logging.makeLogRecord(
        {
            "msg": "sent with xoxb-very-secret",
            "levelname": "INFO",
            "name": "t",
            "signing_secret": "s3",
            "assignee": "bob",
        }
    )
    event = json.loads(formatter.format(record))
    assert event["event"] == "sent with [redacted]"
    assert event["signing_secret"] == "[redacted]"
    assert event["assignee"] == "bob", "only secret-looking names are redacted"


def test_control_characters_in_values_are_escaped_and_read_back_the_same() -> None:
    title = "disk full\x1b[2J\x9b31m\u202e\ud800\n>>> #ops"
    record = logging.makeLogRecord(
        {"msg": "alert %s", "args": (title,), "levelname": "INFO", "name": "t", "title": title}
    )
    line = JsonFormatter().format(record)
    line.encode("utf-8")  # a lone surrogate would make the stream raise here
    for raw in ("\x1b", "\x9b", "\u202e", "\ud800", "\n"):
        assert raw not in line
    assert "\\u009b" in line
    assert "\\u202e" in line
    assert "\\ud800" in line
    assert json.loads(line)["title"] == title


def test_a_malformed_request_or_a_hang_up_is_one_info_line() -> None:
    from aiohttp.http_exceptions import BadHttpMessage

    from bot.logs import QuietClientErrors

    for error, event in (
        (
            BadHttpMessage("Invalid header value char:\n\n  b'X: \\xff'"),
            "malformed request refused",
        ),
        (ConnectionResetError("Connection lost"), "client went away"),
    ):
        record = logging.makeLogRecord(
            {
                "msg": "Error handling request from %s",
                "args": ("127.0.0.1",),
                "levelno": logging.ERROR,
                "levelname": "ERROR",
                "name": "aiohttp.server",
                "exc_info": (type(error), error, None),
            }
        )
        QuietClientErrors().filter(record)
        event_line = json.loads(JsonFormatter().format(record))
        assert event_line["level"] == "info"
        assert event_line["event"] == event
        assert "error" not in event_line
        assert "\n" not in event_line["reason"]
