"""What every inbound HTTP route shares: the body read up to a limit, its JSON decoded
(with nothing in it that is not text), the caller's language, and a refusal as one
translated sentence."""

from __future__ import annotations

import hmac
import json
import math
import re
from typing import Any

from aiohttp import web

from bot.i18n import Translator
from commands.core.untrusted import shown
from playbooks.messages import Text, t

LONE_SURROGATE = "lone surrogate"


class BadBody(Exception):
    """A body that is not JSON Shipwatch can use: ``text`` says why, ``reason`` names it
    in a log line."""

    def __init__(self, text: Text, reason: str) -> None:
        super().__init__(reason)
        self.text = text
        self.reason = reason


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than ``limit`` (read no further).
    Waits for every piece the caller sends, not just what has arrived so far."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    # Whatever has arrived, each time: a small body is one read (and one for its end).
    while chunk := await request.content.readany():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def decode_json(body: bytes | str) -> Any:
    """The body's JSON value. Refused (``BadBody``): text that is not UTF-8, JSON that does
    not parse, nests past what can be read, or holds a number no float can hold
    (``1e999``, ``NaN``), and any string, key or value, holding half of a UTF-16 surrogate
    pair (``"\\ud800"``), which no database, hash or log can encode."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        data = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BadBody(t("hook.not_utf8"), "not utf-8") from None
    except json.JSONDecodeError as error:
        text_at = t("hook.bad_json", line=error.lineno, column=error.colno)
        raise BadBody(text_at, "not json") from None
    except (ValueError, RecursionError):  # 5,000 digits, 1e999, arrays nested 20,000 deep
        raise BadBody(t("hook.json_unreadable"), "json unreadable") from None
    # UTF-8 cannot carry a surrogate: one can only come from a \uD800-\uDFFF escape, so
    # a body without such an escape (what Alertmanager and the platforms send) is whole.
    if _SURROGATE_ESCAPE.search(text):
        field = lone_surrogate_at(data)
        if field is not None:
            raise BadBody(t("hook.lone_surrogate", field=shown(field)), LONE_SURROGATE)
    return data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _no_constant(text: str) -> float:
    raise ValueError(text)


def lone_surrogate_at(data: Any) -> str | None:
    """Where in decoded JSON a string (key or value) holds a lone surrogate, as a path like
    ``alerts[0].labels.service``; None when every string is text."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:  # no recursion: the value may nest as deep as the parser allowed
        path, value = stack.pop()
        if isinstance(value, str):
            if _broken(value):
                return path or "(body)"
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                if _broken(key):
                    return child
                children.append((child, item))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(value)]))
    return None


def _broken(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of what a caller sent with a secret. Bytes, never str:
    ``compare_digest`` refuses non-ASCII str, and a header's undecodable bytes arrive as
    surrogate escapes, which only ``surrogateescape`` turns back into bytes."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def locale(accept: str, default: str) -> str:
    """The first of en/zh the caller names in Accept-Language, else the default
    (``SHIPWATCH_LOCALE``)."""
    for part in accept.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default


def request_locale(request: web.Request, default: str) -> str:
    return locale(request.headers.get("Accept-Language", ""), default)


def error_response(tr: Translator, status: int, text: Text) -> web.Response:
    return web.json_response({"error": tr(text)}, status=status)
