"""A Message as Slack Block Kit: sections, fields, an actions block, a colour by severity."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from bot.i18n import Translator
from playbooks.messages import ButtonStyle, Message, Severity, t

SECTION_LIMIT = 3000  # characters of a section's text
FIELD_LIMIT = 2000  # characters of one field
FIELDS_PER_SECTION = 10
BUTTONS_PER_BLOCK = 25
BUTTON_LABEL_LIMIT = 75
FALLBACK_LIMIT = 4000  # the notification text

COLOURS = {
    Severity.SUCCESS: "#2eb67d",
    Severity.WARNING: "#ecb22e",
    Severity.DANGER: "#e01e5a",
}
_HANDLE = re.compile(r"(?<![\w<])@([a-z0-9][a-z0-9._-]*)")

# A handle to the person's Slack user id, when they have one.
MentionLookup = Callable[[str], str | None]


def escape(text: str) -> str:
    """Slack's mrkdwn treats only these three as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _with_mentions(text: str, lookup: MentionLookup) -> str:
    def replace(match: re.Match[str]) -> str:
        user_id = lookup(match.group(1))
        return f"<@{user_id}>" if user_id else match.group(0)

    return _HANDLE.sub(replace, text)


def _chunks(text: str, size: int) -> Iterator[str]:
    """Split at line ends where possible, so a long listing stays readable."""
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    yield text


def render(
    message: Message, tr: Translator, *, mention: MentionLookup, chart_url: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``chat.postMessage`` (``text``, and ``blocks`` or a coloured
    ``attachments`` entry holding them). A chart is linked in a context line (the image
    itself is uploaded beside the message)."""

    def mrkdwn(text: str, limit: int) -> list[str]:
        return [_with_mentions(escape(part), mention) for part in _chunks(text, limit)]

    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        for part in mrkdwn(tr(block), SECTION_LIMIT):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": part}})
    fields = [
        {"type": "mrkdwn", "text": f"*{escape(tr(f.label))}*\n" + mrkdwn(tr(f.value), 1900)[0]}
        for f in message.fields
    ]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]})
    if chart_url:
        link = f"<{chart_url}|{escape(tr(t('chart.link')))}>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    buttons = [_button(b.label, b.action_id, b.style, tr) for b in message.buttons if b.action_id]
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        blocks.append({"type": "actions", "elements": buttons[start : start + BUTTONS_PER_BLOCK]})
    fallback = "\n".join(tr(b) for b in message.blocks)[:FALLBACK_LIMIT] or " "
    colour = COLOURS.get(message.severity)
    if colour is None:
        return {"text": fallback, "blocks": blocks}
    return {"text": fallback, "attachments": [{"color": colour, "blocks": blocks}]}


def _button(label: Any, token: str, style: ButtonStyle, tr: Translator) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": tr(label)[:BUTTON_LABEL_LIMIT], "emoji": True},
        "action_id": token,
        "value": token,
    }
    if style is not ButtonStyle.DEFAULT:
        element["style"] = style.value
    return element
