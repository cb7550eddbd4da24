"""Markdown text of a Message for platforms whose buttons only open links (DingTalk,
Feishu): each button becomes a one-time action link issued to the one reader, or, where
many people read (a group), the command to type instead."""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class LinkButton:
    label: str
    url: str
    primary: bool


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str  # the first block, as a notification shows it
    body: list[str]  # the other blocks, then "**Label**: value" fields
    fields: list[tuple[str, str]]
    links: list[LinkButton]
    typed: list[str]  # "To Acknowledge, send @Shipwatch /ack 31" lines


def render(
    message: Message,
    tr: Translator,
    *,
    platform: str,
    recipient: str | None,
    signer: LinkSigner | None,
    typed_prefix: str,
) -> Rendered:
    """``recipient``: the platform user id of the one person who reads it, or None for a
    group, where nobody can tell who clicked, so nobody gets a link that acts for them."""
    blocks = [tr(block) for block in message.blocks] or [""]
    fields = [(tr(f.label), tr(f.value)) for f in message.fields]
    links: list[LinkButton] = []
    typed: list[str] = []
    for button in message.buttons:
        label = tr(button.label)
        if recipient is not None and signer is not None and button.action_id:
            url = signer.link(button.action_id, platform=platform, user_id=recipient)
            links.append(LinkButton(label, url, button.style.value != "default"))
        else:
            command = f"{typed_prefix}{button.command}"
            typed.append(tr(t("links.type_command", label=label, command=command)))
    return Rendered(
        title=blocks[0],
        body=blocks[1:],
        fields=fields,
        links=links,
        typed=typed,
    )


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
