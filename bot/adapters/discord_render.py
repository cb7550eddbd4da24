"""A Message as a Discord message: one embed (its colour by severity, the text as its
description, fields), the mentions as content (an embed's mentions do not notify), and
buttons as action rows whose ``custom_id`` is the action token. Fitted within Discord's
limits so nothing is refused and nothing is cut without saying so."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.adapters.fitting import fit
from bot.i18n import Translator
from playbooks.messages import ButtonStyle, Message, Severity, t

log = logging.getLogger("shipwatch.adapters.discord")


@dataclass(frozen=True, slots=True)
class DiscordLimits:
    """Discord's documented limits (Channel resource "Embed limits", Message components):
    an embed's description 4096 characters, 25 fields of 256/1024, 6000 characters in all
    its text; message content 2000; 5 action rows of 5 buttons, a label 80 characters, a
    custom_id 100."""

    description: int = 4096
    fields: int = 25
    field_name: int = 256
    field_value: int = 1024
    embed_total: int = 6000
    content: int = 2000
    rows: int = 5
    buttons_per_row: int = 5
    label: int = 80
    custom_id: int = 100


LIMITS = DiscordLimits()
COLOURS = {
    Severity.INFO: 0x5865F2,
    Severity.SUCCESS: 0x2EB67D,
    Severity.WARNING: 0xECB22E,
    Severity.DANGER: 0xE01E5A,
}
STYLES = {ButtonStyle.PRIMARY: 1, ButtonStyle.DEFAULT: 2, ButtonStyle.DANGER: 4}
EPHEMERAL = 64  # the message flag that shows a reply to the one person who asked
_HANDLE = re.compile(r"(?<![\w<])@([a-z0-9][a-z0-9._-]*)")
# What people type is text, never markup: "**", "[x](url)" and "@everyone" stay as typed.
_MARKS = re.compile(r"([\\*_~`|\[\]])")
_LINE_START = re.compile(r"^(\s*)([#>-])", re.MULTILINE)

MentionLookup = Callable[[str], str | None]


def escape(text: str) -> str:
    """``text`` shown as typed: markdown marks backslash-escaped, and heading, quote and
    list marks at a line's start defused."""
    return _LINE_START.sub(r"\1\\\2", _MARKS.sub(r"\\\1", text))


def _with_mentions(text: str, lookup: MentionLookup) -> tuple[str, list[str]]:
    users: list[str] = []

    def replace(match: re.Match[str]) -> str:
        user_id = lookup(match.group(1))
        if not user_id:
            return match.group(0)
        users.append(user_id)
        return f"<@{user_id}>"

    return _HANDLE.sub(replace, text), users


def render(
    message: Message,
    tr: Translator,
    *,
    mention: MentionLookup,
    chart_file: str | None = None,
    recipient: str | None = None,
) -> dict[str, Any]:
    """The JSON body of a create or edit message call. ``chart_file``: the name of the
    chart attached beside it (shown as the embed's image). ``recipient``: a direct
    message's reader, who needs no mention."""
    users: list[str] = []

    def markdown(text: str) -> str:
        # Mentions first: a handle's own "_" or "-" must not be escaped out of it.
        shown, named = _with_mentions(text, mention)
        users.extend(named)
        return escape(shown)

    texts = [markdown(tr(block)) for block in message.blocks]
    fields = [(_cut(tr(f.label), LIMITS.field_name), markdown(tr(f.value))) for f in message.fields]
    if len(fields) > LIMITS.fields or sum(len(n) + len(v) for n, v in fields) > 2000:
        # Fields that would crowd out the text become lines of it.
        texts += [f"**{escape(name)}**: {value}" for name, value in fields]
        fields = []
    fields = [(name, _cut(value, LIMITS.field_value)) for name, value in fields]
    room = min(LIMITS.description, LIMITS.embed_total - sum(len(n) + len(v) for n, v in fields))
    description = fit(
        texts[:1],
        texts[1:],
        [],
        limit=room,
        joiner="\n",
        note=lambda lines: escape(tr(t("discord.left_out", lines=lines))),
    )
    embed: dict[str, Any] = {
        "description": "\n".join(description) or "\u200b",
        "color": COLOURS[message.severity],
    }
    if fields:
        embed["fields"] = [{"name": n, "value": v, "inline": True} for n, v in fields]
    if chart_file:
        embed["image"] = {"url": f"attachment://{chart_file}"}
    pinged = [mention(h.lstrip("@")) for h in message.mentions]
    pinged = [u for u in dict.fromkeys([*(p for p in pinged if p), *users]) if u != recipient]
    body: dict[str, Any] = {
        "content": " ".join(f"<@{u}>" for u in pinged)[: LIMITS.content],
        "embeds": [embed],
        "components": components(message, tr),
        # Only the people the message names are notified: never @everyone, @here or a role
        # that someone's text happens to spell.
        "allowed_mentions": {"parse": [], "users": pinged[:100]},
    }
    return body


def components(message: Message, tr: Translator) -> list[dict[str, Any]]:
    """Action rows of buttons; a token too long for a custom_id is left out (a press could
    never come back with it), and past five rows the rest are left out, logged."""
    buttons: list[dict[str, Any]] = []
    for button in message.buttons:
        if not 0 < len(button.action_id) <= LIMITS.custom_id:
            log.warning("button left out: its token is empty or too long")
            continue
        buttons.append(
            {
                "type": 2,
                "style": STYLES.get(button.style, 2),
                "label": _cut(tr(button.label), LIMITS.label),
                "custom_id": button.action_id,
            }
        )
    most = LIMITS.rows * LIMITS.buttons_per_row
    if len(buttons) > most:
        log.warning("buttons left out: a message holds 25", extra={"count": len(buttons)})
        buttons = buttons[:most]
    per = LIMITS.buttons_per_row
    return [{"type": 1, "components": buttons[i : i + per]} for i in range(0, len(buttons), per)]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
