"""The message catalog: every sentence a person reads, in English and Simplified Chinese."""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from playbooks.messages import ZONED, Param, Text, local_time

LOCALES = ("en", "zh")
FALLBACK = "en"
log = logging.getLogger("shipwatch.i18n")


@cache
def catalog(locale: str) -> Mapping[str, str]:
    path = Path(__file__).with_name(f"{locale}.yaml")
    # libyaml's parser where PyYAML has it (the wheels do): the same data, read ~10x faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    return {str(k): str(v) for k, v in data.items()}


class Translator:
    """Renders ``Text`` in one language and one timezone."""

    def __init__(self, locale: str, tz: tzinfo) -> None:
        self.locale = locale if locale in LOCALES else FALLBACK
        self.tz = tz

    def __call__(self, text: Text) -> str:
        if text.key == ZONED:
            return self._zoned(text)
        template = self._template(text)
        if template is None:
            log.error("missing catalog key", extra={"key": text.key})
            return text.key
        params = {name: self.param(value) for name, value in text.params.items()}
        try:
            return string.Formatter().vformat(template, (), _Defaulting(params))
        except (ValueError, IndexError):
            log.error("bad catalog template", extra={"key": text.key, "locale": self.locale})
            return template

    def _template(self, text: Text) -> str | None:
        """The key's sentence in this language. A count of one reads ``KEY.one`` where the
        language has it (English: "1 page", not "1 pages"); Chinese needs no such form."""
        own = catalog(self.locale)
        if text.params.get("count") == 1 and (one := own.get(f"{text.key}.one")) is not None:
            return one
        return own.get(text.key) or catalog(FALLBACK).get(text.key)

    def param(self, value: Param) -> str:
        if isinstance(value, Text):
            return self(value)
        if isinstance(value, datetime):
            return self.datetime(value)
        if isinstance(value, timedelta):
            return self.duration(value)
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def _zoned(self, text: Text) -> str:
        at, zone = text.params.get("at"), text.params.get("zone")
        if not isinstance(at, datetime):
            return self.param(at)
        try:
            tz: tzinfo = ZoneInfo(str(zone))
        except (ValueError, ZoneInfoNotFoundError):
            tz = self.tz
        return self.datetime(at, tz=tz)

    def datetime(self, value: datetime, *, tz: tzinfo | None = None) -> str:
        try:
            return local_time(value, tz or self.tz)
        except (OverflowError, ValueError):
            return value.isoformat(timespec="minutes")

    def duration(self, value: timedelta) -> str:
        seconds = int(abs(value.total_seconds()))
        units = catalog(self.locale).get("unit.compact", "d h m s").split()
        parts: list[str] = []
        for size, unit in zip((86400, 3600, 60, 1), units, strict=True):
            amount, seconds = divmod(seconds, size)
            if amount:
                parts.append(f"{amount}{unit}")
        joiner = "" if self.locale == "zh" else " "
        return joiner.join(parts[:2]) or f"0{units[-1]}"


class _Defaulting(dict[str, str]):
    """A template that names a missing parameter shows it as ``{name}`` rather than failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
