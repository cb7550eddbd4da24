"""Structured logging: one JSON object per line on stderr, with secrets scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from commands.core.untrusted import shown

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
# JSON escapes C0 controls itself; these it leaves raw. DEL and C1 (CSI) drive terminals,
# the separators and bidirectional overrides rearrange what a reader sees, and a lone
# surrogate (from a hostile body) cannot be written to a UTF-8 stream at all.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


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
        line = json.dumps(event, ensure_ascii=False, default=str)
        # Outside strings a JSON line is ASCII, so each of these sits in a string, where
        # \uXXXX stands for the same character: the line still reads back the same.
        return self.scrub(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", line))

    def scrub(self, text: str) -> str:
        text = scrub_credentials(text)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


class QuietClientErrors(logging.Filter):
    """aiohttp logs a request it could not parse (a bad header, a 100 KiB line) and a client
    that hung up at error level with a traceback: a flood of those buries real errors. Each
    becomes one info line saying what the client did."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Records of aiohttp's server only: aiohttp is loaded by then.
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            event, reason = "malformed request refused", shown(error.message)
        elif isinstance(error, ConnectionResetError):
            event, reason = "client went away", type(error).__name__
        else:
            return True
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = event, None
        record.exc_info, record.exc_text = None, None
        record.reason = reason
        # Now an info line: shown only where info lines are.
        return logging.getLogger().isEnabledFor(logging.INFO)


def configure(level: str, *, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietClientErrors) for f in server.filters):
        server.addFilter(QuietClientErrors())
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
        # Apprise logs its URLs (masked) and, at debug, what it posts.
        "apprise",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)


def also_hide(values: Iterable[str]) -> None:
    """Secrets learnt after logging was configured (an Apprise URL read from a file, its
    password): scrubbed from every line from now on."""
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if isinstance(formatter, JsonFormatter):
            formatter._secrets += [v for v in values if len(v) >= 4]
