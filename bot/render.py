"""Plain-text rendering of a Message, for the console and for logs."""

from __future__ import annotations

from bot.i18n import Translator
from playbooks.messages import Message


def plain_lines(message: Message, tr: Translator) -> list[str]:
    """Blocks, then ``Label: value`` fields, then one ``[Label] ACTION_ID`` line per button."""
    lines = [tr(block) for block in message.blocks]
    lines += [f"  {tr(f.label)}: {tr(f.value)}" for f in message.fields]
    lines += [f"[{tr(b.label)}] {b.action_id}" for b in message.buttons]
    return lines
