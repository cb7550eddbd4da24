"""A Message as Slack Block Kit: sections, fields, an actions block, a colour by severity,
fitted within Slack's limits so that nothing is rejected and nothing is cut silently."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator
from playbooks.messages import ButtonStyle, Message, Severity, t


@dataclass(frozen=True, slots=True)
class SlackLimits:
    """What Slack accepts in one message. Block Kit reference (blocks, section, fields,
    button) and chat.postMessage; the total is Slack's undocumented ``msg_blocks_too_long``
    threshold, seen at about 13,200 characters of block text (slackapi/bolt-js#2509), kept
    with a margin."""

    section_chars: int = 3000  # a section's text, after escaping and mentions
    field_chars: int = 2000  # one field's text
    fields_per_section: int = 10
    blocks: int = 50  # blocks in a message (or in one attachment)
    block_text_chars: int = 12_000  # all block text together
    buttons_per_block: int = 25
    button_label_chars: int = 75
    fallback_chars: int = 4000  # the notification text Slack asks clients to keep to


LIMITS = SlackLimits()
FIELDS_PER_SECTION = LIMITS.fields_per_section

COLOURS = {
    Severity.SUCCESS: "#2eb67d",
    Severity.WARNING: "#ecb22e",
    Severity.DANGER: "#e01e5a",
}
# A handle ends on a letter or digit: "acknowledged by @bob." mentions bob.
_HANDLE = re.compile(r"(?<![\w<])@([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)")
# Where a cut must not fall: inside an entity (&amp;) or a mention or link (<@U1>, <url|x>).
_ATOMS = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]*>")

# A handle to the person's Slack user id, when they have one.
MentionLookup = Callable[[str], str | None]


def escape(text: str) -> str:
    """Slack's mrkdwn treats only these three as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What a person typed, from what Slack sends: it escapes the same three characters
    in command and message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _with_mentions(text: str, lookup: MentionLookup) -> str:
    def replace(match: re.Match[str]) -> str:
        user_id = lookup(match.group(1))
        return f"<@{user_id}>" if user_id else match.group(0)

    return _HANDLE.sub(replace, text)


def _safe_cut(text: str, limit: int) -> int:
    """The longest prefix within ``limit`` that ends at a line break, else a space, and
    never inside an entity, mention or link."""
    if len(text) <= limit:
        return len(text)
    cut = text.rfind("\n", 0, limit + 1)
    if cut <= 0:
        cut = text.rfind(" ", 0, limit + 1)
    if cut <= 0:
        cut = limit
    for atom in _ATOMS.finditer(text, 0, min(len(text), limit + 200)):
        if atom.start() < cut < atom.end():
            cut = atom.start()
            break
    return max(cut, 1)


def _chunks(text: str, size: int) -> Iterator[str]:
    """Split at line ends where possible, so a long listing stays readable."""
    while len(text) > size:
        cut = _safe_cut(text, size)
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    yield text


def render(
    message: Message, tr: Translator, *, mention: MentionLookup, chart_url: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``chat.postMessage`` (``text``, and ``blocks`` or a coloured
    ``attachments`` entry holding them). A chart is linked in a context line (the image
    itself is uploaded beside the message).

    Text is escaped and given its mentions before it is measured. A message too long
    for one Slack message keeps its beginning (where the news and the mention are),
    its buttons and its chart link, and says how much was left out."""
    limits = LIMITS

    def mrkdwn(text: str) -> str:
        return _with_mentions(escape(text), mention)

    sections = [
        part
        for block in message.blocks
        for part in _chunks(mrkdwn(tr(block)), limits.section_chars)
    ]
    fields = [_field(tr(f.label), mrkdwn(tr(f.value)), tr) for f in message.fields]
    tail: list[dict[str, Any]] = []
    if chart_url:
        link = f"<{chart_url}|{escape(tr(t('chart.link')))}>"
        tail.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    buttons = [_button(b.label, b.action_id, b.style, tr) for b in message.buttons if b.action_id]
    for start in range(0, len(buttons), limits.buttons_per_block):
        chunk = buttons[start : start + limits.buttons_per_block]
        tail.append({"type": "actions", "elements": chunk})
    blocks = _fit(sections, fields, tail, tr)
    fallback = "\n".join(tr(b) for b in message.blocks)
    fallback = fallback[: _safe_cut(fallback, limits.fallback_chars)] or " "
    colour = COLOURS.get(message.severity)
    if colour is None:
        return {"text": fallback, "blocks": blocks}
    return {"text": fallback, "attachments": [{"color": colour, "blocks": blocks}]}


def _fit(
    sections: list[str], fields: list[str], tail: list[dict[str, Any]], tr: Translator
) -> list[dict[str, Any]]:
    """Sections, then field groups, then the tail (chart, buttons), within the block
    count and the total text; what does not fit is counted in a closing note."""
    limits = LIMITS
    field_groups = [
        fields[i : i + limits.fields_per_section]
        for i in range(0, len(fields), limits.fields_per_section)
    ]
    pieces: list[tuple[dict[str, Any], int, int]] = []  # block, its text length, its lines
    for text in sections:
        section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        pieces.append((section, len(text), text.count("\n") + 1))
    for group in field_groups:
        grouped: dict[str, Any] = {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f} for f in group],
        }
        pieces.append((grouped, sum(len(f) for f in group), len(group)))
    tail_chars = sum(len(e["text"]) for b in tail if b["type"] == "context" for e in b["elements"])
    note_room = 200
    block_room = limits.blocks - len(tail) - 1
    char_room = limits.block_text_chars - tail_chars - note_room
    kept: list[dict[str, Any]] = []
    used = 0
    left_out = 0
    for block, chars, lines in pieces:
        # Order is kept: once one piece is left out, so is everything after it.
        if left_out or len(kept) >= block_room or used + chars > char_room:
            left_out += lines
            continue
        kept.append(block)
        used += chars
    if left_out:
        note = escape(tr(t("slack.left_out", lines=left_out)))
        kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return kept + tail


def _field(label: str, value: str, tr: Translator) -> str:
    head = f"*{escape(label)}*\n"
    room = LIMITS.field_chars - len(head)
    if len(value) <= room:
        return head + value
    note = escape(tr(t("slack.field_cut", chars=len(value))))
    cut = _safe_cut(value, room - len(note) - 2)
    return f"{head}{value[:cut]}\n{note}"


def _button(label: Any, token: str, style: ButtonStyle, tr: Translator) -> dict[str, Any]:
    text = tr(label)
    if len(text) > LIMITS.button_label_chars:
        text = text[: LIMITS.button_label_chars - 1] + "…"
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": token,
        "value": token,
    }
    if style is not ButtonStyle.DEFAULT:
        element["style"] = style.value
    return element
