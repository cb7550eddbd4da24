"""A request to ``POST /slack/events`` read for Bolt: the body whole, refused with one
sentence when Bolt could not parse it (it would answer 500) or it holds something that is
not text."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.http_input import BadBody, decode_json, error_response, read_body
from bot.i18n import Translator
from playbooks.messages import t

MAX_BYTES = 1024 * 1024  # Slack's payloads are a few KiB; aiohttp's own default limit


async def bolt_request(request: web.Request, tr: Translator) -> AsyncBoltRequest | web.Response:
    body = await read_body(request, MAX_BYTES)
    if body is None:
        return error_response(tr, 413, t("http.too_large", limit=MAX_BYTES))
    try:
        text = body.decode("utf-8")
        _check(text, request.content_type)
    except UnicodeDecodeError:
        return error_response(tr, 400, t("hook.not_utf8"))
    except BadBody as error:
        return error_response(tr, 400, error.text)
    return AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]


def _check(text: str, content_type: str) -> None:
    """Parse as Bolt will (``slack_bolt.request.internals.parse_body``): JSON for the Events
    API, a form for commands, a form whose ``payload`` is JSON for interactions."""
    if not text:
        return
    if content_type == "application/json" or text.startswith("{"):
        data = decode_json(text)
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in text or "payload" not in form:
            return  # a form's values are %-decoded with replacement: always text
        data = decode_json(form["payload"])
    if not isinstance(data, dict):
        raise BadBody(t("hook.not_object"), "not an object")
