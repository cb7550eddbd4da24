"""Plain-text rendering of a Message, for the console and for logs."""

from __future__ import annotations

from bot.i18n import Translator
from playbooks.messages import Message

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


def chart_url(public_url: str, chart_id: str) -> str:
    return f"{public_url.rstrip('/')}/charts/{chart_id}.png"


def plain_lines(
    message: Message, tr: Translator, *, public_url: str = DEFAULT_PUBLIC_URL
) -> list[str]:
    """Blocks, then ``Label: value`` fields, then one ``[Label] ACTION_ID`` line per button,
    and ``[chart] URL`` for a message's chart."""
    lines = [tr(block) for block in message.blocks]
    lines += [f"  {tr(f.label)}: {tr(f.value)}" for f in message.fields]
    if message.image:
        lines.append(f"[chart] {chart_url(public_url, message.image)}")
    lines += [f"[{tr(b.label)}] {b.action_id}" for b in message.buttons]
    return lines
