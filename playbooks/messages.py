"""Platform-neutral messages: translatable text, fields and buttons that every adapter renders."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Text:
    """A catalog key and its parameters; translated only when a reader's language is known."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)


# A parameter is rendered by the catalog of the reader's language: datetimes in the
# reader's timezone, durations as "10m" or "10分钟", nested Text translated too.
Param = str | int | float | datetime | timedelta | Text | None


def t(key: str, **params: Param) -> Text:
    """Shorthand for a catalog text: ``t("reminder.set", id=3)``."""
    return Text(key, params)


def raw(text: str) -> Text:
    """Text that is shown as written (a person's own words), never translated."""
    return Text("raw", {"text": text})


def as_text(value: Text | str) -> Text:
    """A reason given either as catalog text or as a person's own words."""
    return value if isinstance(value, Text) else raw(value)


def text_to_str(text: Text | str) -> str:
    """A text as one string column holds it: a person's words as written, catalog text
    as its JSON (so it is rendered later in each reader's language)."""
    text = as_text(text)
    if text.key == "raw":
        written = str(text.params.get("text", ""))
        if not written.startswith("{"):
            return written
    return json.dumps(text_to_json(text), ensure_ascii=False, separators=(",", ":"))


def text_from_str(value: str) -> Text:
    """The text ``text_to_str`` wrote; any other string (rows written before reasons were
    catalog text, a person's words) is shown as written."""
    if value.startswith('{"key":'):
        try:
            return text_from_json(json.loads(value))
        except (ValueError, KeyError, TypeError):
            pass
    return raw(value)


def joined(parts: Sequence[Text], *, separator: str = "list.items") -> Text:
    """Texts one after another, separated as the reader's language separates list items
    ("a; b" or "a；b"; ``list.commas``: "a, b" or "a、b")."""
    if not parts:
        return raw("")
    text = parts[-1]
    for part in reversed(parts[:-1]):
        text = t(separator, first=part, rest=text)
    return text


def in_lines(lines: Sequence[Text]) -> Text:
    """Texts one per line: a document (a postmortem draft) as one translatable text."""
    return joined(lines, separator="list.lines")


ZONED = "time.zoned"


def zoned(at: datetime, tz: tzinfo) -> Text:
    """A time shown in ``tz`` (a team's timezone) whatever the reader's timezone is."""
    return Text(ZONED, {"at": at, "zone": getattr(tz, "key", None) or str(tz)})


def utc_offset(offset: timedelta | None) -> str:
    """``UTC``, ``UTC+8``, ``UTC+5:30``, ``UTC-3``: a zone by its offset, never by an
    abbreviation ("CST" is China Standard Time to one team and US Central to another)."""
    minutes = round((offset or timedelta()).total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(at: datetime, tz: tzinfo) -> str:
    """The one way a moment is shown: ``2026-11-23 17:00 UTC+8``, in ``tz``."""
    local = at.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {utc_offset(local.utcoffset())}"


class Severity(StrEnum):
    """How loud a message is; adapters map it to a colour or an emoji."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button that runs ``command`` as the person who presses it.

    ``action_id`` is empty until the message is written to the outbox or sent as a
    reply; then it is a short token that looks up the command in the database.
    """

    label: Text
    command: str
    style: ButtonStyle = ButtonStyle.DEFAULT
    action_id: str = ""


@dataclass(frozen=True, slots=True)
class MessageField:
    label: Text
    value: Text


@dataclass(frozen=True, slots=True)
class Message:
    """What the bot says: text blocks, labelled fields, buttons and a severity."""

    blocks: tuple[Text, ...]
    fields: tuple[MessageField, ...] = ()
    buttons: tuple[Button, ...] = ()
    severity: Severity = Severity.INFO
    mentions: tuple[str, ...] = ()
    image: str | None = None  # the id of a stored chart (GET /charts/<id>.png)

    @classmethod
    def of(cls, *blocks: Text, severity: Severity = Severity.INFO) -> Message:
        return cls(blocks=tuple(blocks), severity=severity)


def _param_to_json(value: Param) -> Any:
    if isinstance(value, Text):
        return {"$text": text_to_json(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$seconds": value.total_seconds()}
    return value


def _param_from_json(value: Any) -> Param:
    if isinstance(value, dict):
        if "$text" in value:
            return text_from_json(value["$text"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$seconds" in value:
            return timedelta(seconds=value["$seconds"])
        raise ValueError(f"unknown message parameter {value!r}")
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError(f"unknown message parameter {value!r}")


def text_to_json(text: Text) -> dict[str, Any]:
    return {"key": text.key, "params": {k: _param_to_json(v) for k, v in text.params.items()}}


def text_from_json(data: Mapping[str, Any]) -> Text:
    return Text(data["key"], {k: _param_from_json(v) for k, v in data["params"].items()})


def message_to_json(message: Message) -> dict[str, Any]:
    """A JSON-safe form of the message, as stored in the outbox."""
    return {
        "blocks": [text_to_json(b) for b in message.blocks],
        "fields": [
            {"label": text_to_json(f.label), "value": text_to_json(f.value)} for f in message.fields
        ],
        "buttons": [
            {
                "label": text_to_json(b.label),
                "command": b.command,
                "style": b.style.value,
                "action_id": b.action_id,
            }
            for b in message.buttons
        ],
        "severity": message.severity.value,
        "mentions": list(message.mentions),
        "image": message.image,
    }


def message_from_json(data: Mapping[str, Any]) -> Message:
    return Message(
        blocks=tuple(text_from_json(b) for b in data["blocks"]),
        fields=tuple(
            MessageField(text_from_json(f["label"]), text_from_json(f["value"]))
            for f in data["fields"]
        ),
        buttons=tuple(
            Button(
                label=text_from_json(b["label"]),
                command=b["command"],
                style=ButtonStyle(b["style"]),
                action_id=b["action_id"],
            )
            for b in data["buttons"]
        ),
        severity=Severity(data["severity"]),
        mentions=tuple(data["mentions"]),
        image=data.get("image"),  # rows written before charts existed have no key
    )
