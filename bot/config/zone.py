"""The one timezone check of the config files, as pydantic field types."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator


def _zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a timezone; use an IANA name like Asia/Shanghai or UTC"
        ) from None
    return str(value)


def _optional_zone(value: Any) -> str | None:
    return None if value is None else _zone(value)


Zone = Annotated[str, BeforeValidator(_zone)]
OptionalZone = Annotated[str | None, BeforeValidator(_optional_zone)]
