"""The command-line grammar shared by every command: tokens, typed values, flags.

``/family verb positional --flag value --switch``, with quoted strings (ASCII and
Chinese quotes), ``--`` to end flags, and typed values: durations, percentages,
severities, mentions, ISO times. Everything here is pure and raises only
``UsageError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from commands.core.untrusted import shown
from playbooks.errors import UsageError
from playbooks.messages import Text, t

MAX_DURATION = timedelta(days=3650)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」"}
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def free_text(value: str | None, *, limit: int, needed: Text | None, usage: str) -> str:
    """Words a person wrote (a title, a reason, a note): trimmed, at most ``limit``
    characters, and present when ``needed`` says what is missing."""
    text = (value or "").strip()
    if needed is not None and not text:
        raise UsageError(needed, usage=usage)
    if len(text) > limit:
        raise UsageError(t("grammar.text_too_long", length=len(text), limit=limit))
    return text


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    quoted: bool = False


def tokenize(line: str) -> list[Token]:
    """Split a command line into words, keeping quoted strings whole."""
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char.isspace():
            i += 1
            continue
        if char in _QUOTES:
            close = _QUOTES[char]
            end = line.find(close, i + 1)
            if end < 0:
                raise UsageError(t("grammar.unclosed_quote", quote=char))
            tokens.append(Token(line[i + 1 : end], quoted=True))
            i = end + 1
            continue
        # A quote opens only at the start of a word, so "bob's" stays one word.
        start = i
        while i < n and not line[i].isspace():
            i += 1
        tokens.append(Token(line[start:i]))
    return tokens


class ParseContext(Protocol):
    """What a value parser may need: the zone that a bare local time is read in."""

    @property
    def tz(self) -> tzinfo: ...


class ValueType(Protocol):
    """One kind of argument: its name in usage lines and how to read it."""

    @property
    def metavar(self) -> str: ...

    def parse(self, word: str, ctx: ParseContext) -> Any: ...


def parse_duration(word: str) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``1d``, ``1w`` and combinations such as ``1h30m``."""
    text = word.strip().lower()
    if not _DURATION.fullmatch(text):
        raise UsageError(t("grammar.bad_duration", value=shown(word)))
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise UsageError(t("grammar.zero_duration", value=shown(word)))
    if seconds > MAX_DURATION.total_seconds():
        raise UsageError(t("grammar.duration_too_long", value=shown(word), limit=MAX_DURATION))
    return timedelta(seconds=seconds)


def parse_time(word: str, tz: tzinfo) -> datetime:
    """An ISO 8601 time; one without an offset is read in ``tz``."""
    text = word.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
    except (ValueError, OverflowError):
        raise UsageError(t("grammar.bad_time", value=shown(word))) from None
    try:
        # Years near 1 or 9999 cannot be moved between zones or have durations added;
        # refuse them here, not later.
        value.astimezone(UTC)
        (value + MAX_DURATION).astimezone(UTC)
        (value - MAX_DURATION).astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(t("grammar.time_out_of_range", value=shown(word))) from None
    return value


@dataclass(frozen=True, slots=True)
class Word:
    metavar: str = "WORD"

    def parse(self, word: str, ctx: ParseContext) -> str:
        return word


@dataclass(frozen=True, slots=True)
class Integer:
    metavar: str = "N"
    minimum: int = 1
    maximum: int = 2**31 - 1

    def parse(self, word: str, ctx: ParseContext) -> int:
        text = word.lstrip("#")
        digits = text.removeprefix("-")
        if not digits.isascii() or not digits.isdigit():
            raise UsageError(t("grammar.bad_integer", value=shown(word)))
        value = int(text)
        if not self.minimum <= value <= self.maximum:
            raise UsageError(
                t(
                    "grammar.integer_range",
                    value=shown(word),
                    minimum=self.minimum,
                    maximum=self.maximum,
                )
            )
        return value


@dataclass(frozen=True, slots=True)
class Duration:
    metavar: str = "DURATION"

    def parse(self, word: str, ctx: ParseContext) -> timedelta:
        return parse_duration(word)


@dataclass(frozen=True, slots=True)
class Time:
    metavar: str = "TIME"

    def parse(self, word: str, ctx: ParseContext) -> datetime:
        return parse_time(word, ctx.tz)


@dataclass(frozen=True, slots=True)
class When:
    """A delay (``10m``) or an absolute time (``2026-11-23T10:00``)."""

    metavar: str = "WHEN"

    def parse(self, word: str, ctx: ParseContext) -> timedelta | datetime:
        if len(word) >= 10 and word[:4].isdigit() and word[4:5] == "-":
            return parse_time(word, ctx.tz)
        if word[:1].isdigit():
            return parse_duration(word)
        raise UsageError(t("grammar.bad_when", value=shown(word)))


@dataclass(frozen=True, slots=True)
class Percent:
    metavar: str = "PERCENT"

    def parse(self, word: str, ctx: ParseContext) -> float:
        text = word.strip().removesuffix("%")
        try:
            value = float(text)
        except ValueError:
            raise UsageError(t("grammar.bad_percent", value=shown(word))) from None
        if not 0 <= value <= 100:  # also refuses NaN
            raise UsageError(t("grammar.bad_percent", value=shown(word)))
        return value


SEVERITIES = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True, slots=True)
class SeverityLevel:
    metavar: str = "P0-P3"

    def parse(self, word: str, ctx: ParseContext) -> str:
        value = word.strip().upper()
        if value not in SEVERITIES:
            raise UsageError(
                t("grammar.bad_severity", value=shown(word), valid=", ".join(SEVERITIES))
            )
        return value


@dataclass(frozen=True, slots=True)
class Mention:
    """``@alice``, a bare handle, or a Slack ``<@U123>`` / ``<@U123|alice>``."""

    metavar: str = "@PERSON"

    def parse(self, word: str, ctx: ParseContext) -> PersonRef:
        slack = re.fullmatch(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", word)
        if slack:
            return PersonRef(slack.group(1), platform_id=True)
        handle = word.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", handle):
            raise UsageError(t("grammar.bad_mention", value=shown(word)))
        return PersonRef(handle.lower())


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person as written: a directory handle, or a platform's own user id."""

    value: str
    platform_id: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    choices: tuple[str, ...]

    @property
    def metavar(self) -> str:
        return "|".join(self.choices)

    def parse(self, word: str, ctx: ParseContext) -> str:
        value = word.strip().lower()
        if value not in self.choices:
            raise UsageError(
                t("grammar.bad_choice", value=shown(word), valid=", ".join(self.choices))
            )
        return value
