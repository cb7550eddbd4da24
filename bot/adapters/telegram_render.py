"""A Message as Telegram HTML: escaped text in chunks of at most 4096 characters, and
inline keyboard rows of (label, callback token)."""

from __future__ import annotations

import html
import logging
import unicodedata
from dataclasses import dataclass

from bot.i18n import Translator
from playbooks.messages import Button, Message, Severity, Text, raw, t

log = logging.getLogger("shipwatch.telegram")
MAX_LENGTH = 4096  # Telegram's limit for one message's text
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
# A part already rendered (the rest of a long message handed to the outbox): sent as it is.
HTML_PART = "telegram.html"
BUTTONS_PER_ROW = 3
SEVERITY_PREFIX = {
    Severity.INFO: "",
    Severity.SUCCESS: "✅ ",
    Severity.WARNING: "⚠️ ",
    Severity.DANGER: "🚨 ",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    chunks: tuple[str, ...]  # HTML, each within the limit; the keyboard goes under the last
    keyboard: tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback_data)


def telegram_length(text: str) -> int:
    """Telegram counts UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def render(
    message: Message, tr: Translator, *, limit: int = MAX_LENGTH, chart_url: str | None = None
) -> Rendered:
    lines: list[str] = []
    for block in message.blocks:
        if block.key == HTML_PART:
            lines.extend(str(block.params["html"]).split("\n"))
            continue
        lines.extend(html.escape(line, quote=False) for line in tr(block).split("\n"))
    for f in message.fields:
        label = html.escape(tr(f.label), quote=False)
        value = html.escape(tr(f.value), quote=False)
        lines.append(f"<b>{label}</b>: {value}")
    if chart_url:
        label = html.escape(tr(t("chart.link")), quote=False)
        lines.append(f'<a href="{html.escape(chart_url)}">{label}</a>')
    if lines and not _starts_with_symbol(lines[0]):
        lines[0] = SEVERITY_PREFIX[message.severity] + lines[0]
    return Rendered(chunks=tuple(split(lines, limit=limit)), keyboard=keyboard(message, tr))


def rest(rendered: Rendered, index: int) -> Message:
    """The parts of ``rendered`` from ``index`` on, as a message that renders to them again
    (its keyboard under the last)."""
    blocks = tuple(Text(HTML_PART, {"html": chunk}) for chunk in rendered.chunks[index:])
    buttons = tuple(
        Button(raw(label), command="", action_id=data)
        for row in rendered.keyboard
        for label, data in row
    )
    return Message(blocks=blocks, buttons=buttons)


def _starts_with_symbol(line: str) -> bool:
    """Texts like "🚨 Incident #1 …" bring their own emoji; a second would only shout."""
    return bool(line) and unicodedata.category(line[0]) == "So"


def keyboard(message: Message, tr: Translator) -> tuple[tuple[tuple[str, str], ...], ...]:
    buttons: list[tuple[str, str]] = []
    for button in message.buttons:
        size = len(button.action_id.encode())
        if not 0 < size <= MAX_CALLBACK_BYTES:
            # A press could never come back with this token; better no button than a dead one.
            log.warning("button left out: its token is empty or too long", extra={"size": size})
            continue
        buttons.append((tr(button.label), button.action_id))
    return tuple(
        tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    )


def split(lines: list[str], *, limit: int) -> list[str]:
    """Join lines into chunks within ``limit``, breaking between lines where possible.

    A single line longer than the limit is cut at spaces (or anywhere, for one long
    word), never inside an HTML entity or tag.
    """
    chunks: list[str] = []
    current = ""
    for line in lines:
        for piece in _fit(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if telegram_length(candidate) <= limit:
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
    if current or not chunks:
        chunks.append(current)
    return chunks


def _fit(line: str, limit: int) -> list[str]:
    if telegram_length(line) <= limit:
        return [line]
    if line.startswith("<b>"):
        # A field too long for one message: lose the bold rather than split a tag.
        label, _, value = line[3:].partition("</b>")
        line = label + value
    pieces: list[str] = []
    current: list[str] = []
    length = 0
    for atom in _atoms(line):
        size = telegram_length(atom)
        if length + size > limit:
            # Cut at the last space if there is one, else wherever the limit falls.
            spaces = [i for i, a in enumerate(current) if a == " "]
            cut = spaces[-1] if spaces and spaces[-1] > 0 else len(current)
            pieces.append("".join(current[:cut]))
            current = current[cut + 1 :] if cut < len(current) else []
            length = sum(telegram_length(a) for a in current)
        current.append(atom)
        length += size
    if current:
        pieces.append("".join(current))
    return pieces


def _atoms(line: str) -> list[str]:
    """Characters, except that an HTML entity (``&amp;``) stays whole."""
    atoms: list[str] = []
    i = 0
    while i < len(line):
        end = line.find(";", i, i + 10) if line[i] == "&" else -1
        atoms.append(line[i : end + 1] if end != -1 else line[i])
        i = end + 1 if end != -1 else i + 1
    return atoms
