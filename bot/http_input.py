"""What every inbound HTTP route shares: the body read up to a limit, the caller's
language, and a refusal as one translated sentence."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import Translator
from playbooks.messages import Text

CHUNK = 64 * 1024


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than ``limit`` (read no further).
    Waits for every piece the caller sends, not just what has arrived so far."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


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
