"""Markdown text of a Message for platforms whose buttons only open links (DingTalk,
Feishu): each button becomes a one-time action link issued to the one reader, or, where
many people read (a group), the command to type instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.action_links import LinkSigner
from bot.i18n import Translator
from playbooks.messages import Message, Severity, t

COLOURS = {  # DingTalk markdown colours by severity (Feishu uses its header templates)
    Severity.INFO: None,
    Severity.SUCCESS: "#1E8E3E",
    Severity.WARNING: "#E37400",
    Severity.DANGER: "#D93026",
}


# What people type (titles, notes, names) is text in our markdown, never markup: "[Ack](…)"
# must not become a link, nor "<at id=all></at>" an @all, nor "**" bold.
_DINGTALK_MARKS = re.compile(r"([\\`*_~\[\]])")
_LINE_START = re.compile(r"^(\s*)([#+-])", re.MULTILINE)
# Feishu's card markdown documents HTML entities for its special characters.
_FEISHU_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>*_~`[]\\"}


def dingtalk_text(text: str) -> str:
    """``text`` shown as typed in DingTalk markdown: markdown marks backslash-escaped, HTML
    tags (``<font>``) kept from forming, list and heading marks at a line's start defused."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = _DINGTALK_MARKS.sub(r"\\\1", text)
    return _LINE_START.sub(r"\1\\\2", text)


def feishu_text(text: str) -> str:
    """``text`` shown as typed in a Feishu card's markdown or lark_md."""
    return "".join(_FEISHU_ENTITIES.get(c, c) for c in text)


@dataclass(frozen=True, slots=True)
class LinkButton:
    label: str
    url: str
    primary: bool


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str  # the first block as plain text, as a notification shows it
    heading: str  # the first block, escaped for the platform's markdown
    body: list[str]  # the other blocks, escaped
    fields: list[tuple[str, str]]  # (label, value), escaped
    links: list[LinkButton]  # labels plain: buttons show no markdown
    typed: list[str]  # "To Acknowledge, send @Shipwatch /ack 31" lines, escaped


def render(
    message: Message,
    tr: Translator,
    *,
    platform: str,
    recipient: str | None,
    signer: LinkSigner | None,
    typed_prefix: str,
    escape: Callable[[str], str],
) -> Rendered:
    """``recipient``: the platform user id of the one person who reads it, or None for a
    group, where nobody can tell who clicked, so nobody gets a link that acts for them.
    ``escape`` turns text into the platform's markdown for that text (``dingtalk_text``,
    ``feishu_text``); the formatting around it is the adapter's."""
    blocks = [tr(block) for block in message.blocks] or [""]
    fields = [(escape(tr(f.label)), escape(tr(f.value))) for f in message.fields]
    links: list[LinkButton] = []
    typed: list[str] = []
    for button in message.buttons:
        label = tr(button.label)
        if recipient is not None and signer is not None and button.action_id:
            url = signer.link(button.action_id, platform=platform, user_id=recipient)
            links.append(LinkButton(label, url, button.style.value != "default"))
        else:
            command = f"{typed_prefix}{button.command}"
            typed.append(escape(tr(t("links.type_command", label=label, command=command))))
    return Rendered(
        title=blocks[0],
        heading=escape(blocks[0]),
        body=[escape(block) for block in blocks[1:]],
        fields=fields,
        links=links,
        typed=typed,
    )


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
