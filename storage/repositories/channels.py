"""Per-conversation settings."""

from __future__ import annotations

from sqlmodel import Session

from storage.models import ChannelSetting


def locale(session: Session, *, platform: str, channel: str) -> str | None:
    row = session.get(ChannelSetting, (platform, channel))
    return row.locale if row else None


def set_locale(session: Session, *, platform: str, channel: str, locale: str) -> None:
    row = session.get(ChannelSetting, (platform, channel)) or ChannelSetting(
        platform=platform, channel=channel
    )
    row.locale = locale
    session.add(row)
