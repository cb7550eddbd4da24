"""What Mattermost sends to Shipwatch, read and checked before anything is used: a custom
slash command (``POST /mattermost/command``, a form with the command's token) and a press
of an interactive button (``POST /mattermost/actions``, JSON whose ``context`` carries the
action token Shipwatch sealed when it posted the button). Mattermost signs neither, so the
command's token and the sealed context are what prove them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters.mattermost_render import unseal
from bot.http_input import BadBody, decode_json, error_response, read_body, same_secret
from bot.i18n import Translator
from playbooks.messages import Text, t

log = logging.getLogger("shipwatch.adapters.mattermost")
MAX_BYTES = 64 * 1024  # a command or a press is well under a KiB or two


@dataclass(frozen=True, slots=True)
class SlashCommand:
    command: str  # "/release"
    text: str
    user_id: str
    channel_id: str
    trigger_id: str
    response_url: str


@dataclass(frozen=True, slots=True)
class Press:
    user_id: str
    channel_id: str
    post_id: str
    token: str  # the action token the context was sealed with


def command_tokens(entries: Sequence[str]) -> list[tuple[str | None, str]]:
    """``SHIPWATCH_MATTERMOST_COMMAND_TOKENS``'s entries: ``release=TOKEN`` opens /release
    alone, a bare ``TOKEN`` any command."""
    found: list[tuple[str | None, str]] = []
    for entry in entries:
        name, sep, token = entry.partition("=")
        if sep and name.strip() and token.strip():
            found.append((name.strip().lstrip("/").lower(), token.strip()))
        else:
            found.append((None, entry.strip()))
    return found


async def read_command(
    request: web.Request, *, tokens: Sequence[tuple[str | None, str]], tr: Translator
) -> SlashCommand | web.Response:
    if not tokens:
        closed = t("hook.closed", setting="SHIPWATCH_MATTERMOST_COMMAND_TOKENS")
        return _refuse(tr, 503, "closed", closed)
    body = await read_body(request, MAX_BYTES)
    if body is None:
        return error_response(tr, 413, t("http.too_large", limit=MAX_BYTES))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(tr, 400, "not utf-8", t("hook.not_utf8"))
    form: dict[str, Any]
    try:
        if request.content_type == "application/json":
            data = decode_json(text)
            form = data if isinstance(data, dict) else {}
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
    except BadBody as error:
        return _refuse(tr, 400, error.reason, error.text)
    given = form.get("token")
    if not isinstance(given, str) or not given:
        return _refuse(tr, 401, "no token", t("mattermost.no_token"))
    fields = {k: form.get(k) for k in ("command", "user_id", "channel_id")}
    optional = [form.get(k) for k in ("text", "trigger_id", "response_url")]
    if (
        not all(isinstance(v, str) and v for v in fields.values())
        or not all(v is None or isinstance(v, str) for v in optional)
        or not _plain(fields["user_id"], fields["channel_id"], form.get("trigger_id"))
    ):
        return _refuse(tr, 400, "not a command", t("mattermost.not_a_command"))
    name = str(fields["command"]).lstrip("/").lower()
    # Every token compared, each in constant time: which one matched (or how nearly) is
    # not told by the time the answer takes. A token given for one command (release=…)
    # opens that command alone.
    matched = [same_secret(given, token) and for_ in (None, name) for for_, token in tokens]
    if not any(matched):
        return _refuse(tr, 403, "wrong token", t("mattermost.bad_token"))
    return SlashCommand(
        command=str(fields["command"])[:100],
        text=str(form.get("text") or "")[:4000],
        user_id=str(fields["user_id"])[:64],
        channel_id=str(fields["channel_id"])[:64],
        trigger_id=str(form.get("trigger_id") or "")[:200],
        response_url=str(form.get("response_url") or "")[:1000],
    )


async def read_press(
    request: web.Request, *, signer: LinkSigner | None, tr: Translator
) -> Press | web.Response:
    """A press whose context Shipwatch sealed, from the one person and in the one channel
    it was sealed for; anything else refused, nothing run."""
    if signer is None:
        return _refuse(tr, 503, "closed", t("hook.closed", setting="SHIPWATCH_ACTION_LINK_SECRET"))
    body = await read_body(request, MAX_BYTES)
    if body is None:
        return error_response(tr, 413, t("http.too_large", limit=MAX_BYTES))
    try:
        data = decode_json(body)
    except BadBody as error:
        return _refuse(tr, 400, error.reason, error.text)
    if not isinstance(data, dict):
        return _refuse(tr, 400, "not an object", t("mattermost.not_an_action"))
    context = data.get("context")
    sealed = context.get("action") if isinstance(context, dict) else None
    user_id, channel_id = data.get("user_id"), data.get("channel_id")
    post_id = data.get("post_id")
    if (
        not isinstance(user_id, str)
        or not user_id
        or not isinstance(channel_id, str)
        or not (post_id is None or isinstance(post_id, str))
        or not _plain(user_id, channel_id, post_id)
    ):
        return _refuse(tr, 400, "not an action", t("mattermost.not_an_action"))
    opened = unseal(signer, sealed) if isinstance(sealed, str) else None
    if opened is None:
        return _refuse(tr, 403, "bad context", t("mattermost.bad_context"))
    recipient, sealed_channel, token = opened
    if recipient and recipient != user_id:
        # A direct message's button belongs to the one it was sent to.
        return _refuse(tr, 403, "not the recipient", t("mattermost.not_yours"))
    if sealed_channel and sealed_channel != channel_id:
        return _refuse(tr, 403, "another channel", t("mattermost.bad_context"))
    return Press(
        user_id=user_id[:64],
        channel_id=channel_id[:64],
        post_id=(post_id or "")[:64],
        token=token,
    )


def _plain(*ids: object) -> bool:
    """Mattermost's ids are letters and digits: one holding a control character (a NUL,
    which no database keeps) is not Mattermost's."""
    return not any(isinstance(v, str) and any(c < " " for c in v) for v in ids)


def _refuse(tr: Translator, status: int, reason: str, text: Text) -> web.Response:
    log.warning("mattermost request refused", extra={"reason": reason})
    return error_response(tr, status, text)
