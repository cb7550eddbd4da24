"""A Message as a Mattermost post: the news as the post's markdown, fields and buttons in a
message attachment coloured by severity, each button an interactive action that calls back
to ``POST /mattermost/actions`` with a signed context. Fitted within the server's post
size, with a note of what was left out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.action_links import LinkSigner
from bot.adapters.fitting import fit
from bot.i18n import Translator
from playbooks.messages import ButtonStyle, Message, Severity, t

PLATFORM = "mattermost"
# What an action's context is sealed for: a context is never an action link, nor the reverse.
PURPOSE = b"shipwatch mattermost action\x00"
# The server keeps a post's message within 16,383 characters (PostMessageMaxRunesV2); the
# attachment's text is held to the same, with room for the fields and buttons.
MESSAGE_CHARS = 16_000
COLOURS = {
    Severity.INFO: "#1c58d9",
    Severity.SUCCESS: "#06d6a0",
    Severity.WARNING: "#ffbc1f",
    Severity.DANGER: "#d24b4e",
}
STYLES = {
    ButtonStyle.DEFAULT: "default",
    ButtonStyle.PRIMARY: "primary",
    ButtonStyle.DANGER: "danger",
}
# A handle ends with a letter or digit: "acknowledged by @bob." names bob.
_HANDLE = re.compile(r"(?<![\w<@])@([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)")
_MARKS = re.compile(r"([\\`*_~\[\]])")
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+\.)", re.MULTILINE)
ZERO_WIDTH = "\u200b"

# A handle to the person's Mattermost username, when they have an identity there.
Usernames = Callable[[str], str | None]


def escape(text: str) -> str:
    """``text`` shown as typed: markdown marks escaped, list marks at a line's start
    defused, and an ``@`` that would mention someone (``@channel``, ``@all``) kept from it."""
    text = _MARKS.sub(r"\\\1", text)
    text = _LINE_START.sub(_defuse, text)
    return text.replace("@", f"@{ZERO_WIDTH}")


def _defuse(match: re.Match[str]) -> str:
    """A list or heading mark at a line's start, escaped (``1.`` as ``1\\.``: a digit is
    no markdown escape)."""
    indent, mark = match.group(1), match.group(2)
    if mark.endswith("."):
        return f"{indent}{mark[:-1]}\\."
    return f"{indent}\\{mark}"


def markdown(text: str, usernames: Usernames) -> str:
    """Escaped text whose ``@handle`` of a person known on Mattermost is their mention."""
    out: list[str] = []
    last = 0
    for match in _HANDLE.finditer(text):
        username = usernames(match.group(1))
        if username is None:
            continue
        out.append(escape(text[last : match.start()]))
        out.append(f"@{username}")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Seal:
    """Where a message's buttons call back and what they carry: the actions URL, the
    signer, the one person who reads it (a direct message) and the channel it is in."""

    actions_url: str
    signer: LinkSigner
    recipient: str
    channel_id: str


def seal(signer: LinkSigner, *, token: str, recipient: str, channel_id: str) -> str:
    return signer.seal((PLATFORM, recipient, channel_id, token), purpose=PURPOSE)


def unseal(signer: LinkSigner, sealed: str) -> tuple[str, str, str] | None:
    """(recipient or "", channel id, token) of a context Shipwatch sealed, else None."""
    fields = signer.unseal(sealed, purpose=PURPOSE)
    if fields is None or len(fields) != 4 or fields[0] != PLATFORM or not fields[3]:
        return None
    return fields[1], fields[2], fields[3]


def render(
    message: Message,
    tr: Translator,
    *,
    usernames: Usernames,
    seal_with: Seal | None,
    chart_url: str | None = None,
    typed_prefix: str = "",
) -> dict[str, Any]:
    """``message`` and ``props`` of a post. Without a seal (no SHIPWATCH_ACTION_LINK_SECRET)
    each button is the command to type instead."""
    blocks = [markdown(tr(block), usernames) for block in message.blocks] or [""]
    fields = [
        {"title": tr(f.label), "value": markdown(tr(f.value), usernames), "short": True}
        for f in message.fields
    ]
    actions: list[dict[str, Any]] = []
    typed: list[str] = []
    for n, button in enumerate(message.buttons):
        label = tr(button.label)
        if seal_with is not None and button.action_id:
            context = seal(
                seal_with.signer,
                token=button.action_id,
                recipient=seal_with.recipient,
                channel_id=seal_with.channel_id,
            )
            actions.append(
                {
                    "id": f"shipwatch{n}",
                    "name": label[:75],
                    "type": "button",
                    "style": STYLES.get(button.style, "default"),
                    "integration": {"url": seal_with.actions_url, "context": {"action": context}},
                }
            )
        else:
            command = f"{typed_prefix}{button.command}"
            typed.append(escape(tr(t("links.type_command", label=label, command=command))))
    mentioned = [
        f"@{name}"
        for handle in message.mentions
        if (name := usernames(handle.lstrip("@"))) is not None and f"@{name}" not in blocks[0]
    ]
    tail = [*typed]
    if chart_url:
        tail.append(f"[{escape(tr(t('chart.link')))}]({chart_url})")
    if mentioned:
        tail.append(" ".join(mentioned))
    parts = fit(
        blocks[:1],
        blocks[1:],
        tail,
        limit=MESSAGE_CHARS,
        joiner="\n\n",
        note=lambda lines: escape(tr(t("links.left_out", lines=lines))),
    )
    post: dict[str, Any] = {"message": "\n\n".join(parts)}
    if fields or actions or message.severity is not Severity.INFO:
        attachment: dict[str, Any] = {
            "fallback": tr(message.blocks[0]) if message.blocks else "",
            "color": COLOURS[message.severity],
        }
        if fields:
            attachment["fields"] = fields
        if actions:
            attachment["actions"] = actions
        post["props"] = {"attachments": [attachment]}
    return post
