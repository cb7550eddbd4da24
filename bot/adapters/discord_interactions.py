"""A request to ``POST /discord/interactions`` read and checked before anything runs: the
Ed25519 signature Discord puts on ``timestamp + body`` (``X-Signature-Ed25519``,
``X-Signature-Timestamp``) verified with the application's public key, a timestamp more
than a few minutes off refused, an interaction id seen before refused; then a ping, a
command (its ``args`` option the rest of the command line) or a button press."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.adapters.discord_setup import ARGS
from bot.adapters.inbound import command_line
from bot.http_input import LONE_SURROGATE, BadBody, decode_json, error_response, read_body
from bot.i18n import Translator
from playbooks.messages import Text, t

log = logging.getLogger("shipwatch.adapters.discord")
WINDOW = timedelta(minutes=5)  # how far a request's timestamp may be from our clock
MAX_BYTES = 256 * 1024  # an interaction is a few KiB
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT = 1, 2, 3
BUTTON = 2
MAX_ID = 32  # a snowflake is at most 20 digits; anything else is not Discord's


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Interaction:
    """A command typed (``line``) or a button pressed (``custom_id``): who, where, and the
    token that answers it (valid for 15 minutes)."""

    id: str
    token: str
    user_id: str
    channel_id: str
    direct: bool  # a direct message with the bot, not a server's channel
    line: str | None = None
    custom_id: str | None = None


def public_key(hex_key: str) -> Ed25519PublicKey | None:
    """The application's public key from its hex form; None when it is not 32 bytes of hex
    (``shipwatch check`` says so, and the route stays closed)."""
    try:
        raw = bytes.fromhex(hex_key.strip())
    except ValueError:
        return None
    if len(raw) != 32:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


class Seen:
    """Interaction ids of the last ``WINDOW``: a request whose timestamp is older is stale
    anyway, so a replay is caught by one or the other. The idempotency ledger (the
    interaction id is the event id) stays the truth across processes."""

    def __init__(self) -> None:
        self._ids: OrderedDict[str, datetime] = OrderedDict()

    def take(self, interaction_id: str, now: datetime) -> bool:
        """Whether ``interaction_id`` is new (and now taken)."""
        while self._ids:
            oldest = next(iter(self._ids))
            if self._ids[oldest] >= now - WINDOW * 2:
                break
            del self._ids[oldest]
        if interaction_id in self._ids:
            return False
        self._ids[interaction_id] = now
        return True


async def read(
    request: web.Request,
    *,
    key: Ed25519PublicKey | None,
    now: datetime,
    translator: Callable[[str], Translator],
    locale: str,
    seen: Seen,
) -> Ping | Interaction | web.Response:
    """The interaction, or the answer that refuses it (nothing read further, nothing run)."""
    tr = translator(locale)
    if key is None:
        return _refuse(tr, 503, "closed", t("hook.closed", setting="SHIPWATCH_DISCORD_PUBLIC_KEY"))
    signature = request.headers.get("X-Signature-Ed25519", "")
    stamp = request.headers.get("X-Signature-Timestamp", "")
    if not signature or not stamp or not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return _refuse(tr, 401, "unsigned", t("discord.unsigned"))
    if abs(now - datetime.fromtimestamp(int(stamp), UTC)) > WINDOW:
        return _refuse(tr, 401, "stale", t("discord.stale"))
    body = await read_body(request, MAX_BYTES)
    if body is None:
        return error_response(tr, 413, t("http.too_large", limit=MAX_BYTES))
    try:
        key.verify(bytes.fromhex(signature), stamp.encode() + body)
    except (InvalidSignature, ValueError):
        return _refuse(tr, 401, "bad signature", t("discord.bad_signature"))
    try:
        data = decode_json(body)
    except BadBody as error:
        text = error.text if error.reason == LONE_SURROGATE else t("discord.not_an_interaction")
        return _refuse(tr, 400, error.reason, text)
    if not isinstance(data, dict) or not isinstance(data.get("type"), int):
        return _refuse(tr, 400, "not an interaction", t("discord.not_an_interaction"))
    if data["type"] == PING:
        return Ping()
    interaction = _interaction(data)
    if interaction is None:
        return _refuse(tr, 400, "unsupported", t("discord.not_an_interaction"))
    if not seen.take(interaction.id, now):
        return _refuse(tr, 403, "replayed", t("discord.replayed"))
    return interaction


def _interaction(data: dict[str, Any]) -> Interaction | None:
    kind = data["type"]
    inner = _obj(data.get("data"))
    member = _obj(data.get("member"))
    user = _obj(member.get("user")) or _obj(data.get("user"))
    ids = (data.get("id"), data.get("token"), user.get("id"), data.get("channel_id"))
    if not all(isinstance(v, str) and v for v in ids):
        return None
    interaction_id, token, user_id, channel_id = (str(v) for v in ids)
    snowflakes = (interaction_id, user_id, channel_id)
    if not all(len(v) <= MAX_ID and v.isascii() and v.isdigit() for v in snowflakes):
        return None
    if any(c < " " for c in token):  # a NUL no database keeps, a newline no URL path holds
        return None
    interaction = Interaction(
        id=interaction_id,
        token=token[:500],
        user_id=user_id,
        channel_id=channel_id,
        direct="guild_id" not in data,
    )
    if kind == APPLICATION_COMMAND and isinstance(inner.get("name"), str):
        options = inner.get("options")
        args = next(
            (
                o.get("value", "")
                for o in (options if isinstance(options, list) else [])
                if isinstance(o, dict) and o.get("name") == ARGS
            ),
            "",
        )
        if not isinstance(args, str):  # the option is declared as text: nothing else is
            return None
        return replace(interaction, line=command_line(inner["name"], args))
    custom_id = inner.get("custom_id")
    if (
        kind == MESSAGE_COMPONENT
        and inner.get("component_type") == BUTTON
        and isinstance(custom_id, str)
        and custom_id
    ):
        return replace(interaction, custom_id=custom_id[:100])
    return None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _refuse(tr: Translator, status: int, reason: str, text: Text) -> web.Response:
    log.warning("discord interaction refused", extra={"reason": reason})
    return error_response(tr, status, text)
