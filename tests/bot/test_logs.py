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
