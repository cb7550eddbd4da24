"""Structured logging: one JSON object per line on stderr, with secrets scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SECRETISH = re.compile(r"(?i)(token|secret|password|passwd|authorization|signature|^sign$)")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
# Bot tokens travel in URL paths (Telegram's /bot<token>/, Feishu's /bot/v2/hook/<id>) and
# query strings (?access_token=).
_URL_TOKEN = re.compile(
    r"(/bot)[0-9]+:[A-Za-z0-9_-]+"
    r"|(/open-apis/bot/v2/hook/)[A-Za-z0-9_-]+"
    r"|((?:access_token|token|sign)=)[^&\s]+"
)


def scrub_credentials(text: str) -> str:
    """Hide credentials that may sit in an error message or a URL."""
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _URL_TOKEN.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "***", text)


class JsonFormatter(logging.Formatter):
    """Renders a record and its ``extra`` fields as a single JSON line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            event[key] = "[redacted]" if _SECRETISH.search(key) else value
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return self.scrub(json.dumps(event, ensure_ascii=False, default=str))

    def scrub(self, text: str) -> str:
        text = scrub_credentials(text)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure(level: str, *, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays at warnings unless we are debugging.
    # The chat SDKs log request bodies at INFO and below (bolt, a refused request's whole
    # body): a response_url or a message is nobody's business in a log.
    for noisy in (
        "apscheduler",
        "aiohttp.access",
        "alembic",
        "slack_bolt",
        "slack_sdk",
        "telegram",
        "httpx",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
