"""Per-conversation settings."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import ChannelSetting

# Built once: the outbox worker asks for every post it sends.
_LOCALE = select(col(ChannelSetting.locale)).where(
    col(ChannelSetting.platform) == bindparam("of_platform"),
    col(ChannelSetting.channel) == bindparam("of_channel"),
)


def locale(session: Session, *, platform: str, channel: str) -> str | None:
    row = session.get(ChannelSetting, (platform, channel))
    return row.locale if row else None


def committed_locale(session: Session, *, platform: str, channel: str) -> str | None:
    """The conversation's language as the database has it: a plain read, without the
    session's own unflushed changes (for a transaction that makes none)."""
    params = {"of_platform": platform, "of_channel": channel}
    return session.connection().execute(_LOCALE, params).scalar()


def set_locale(session: Session, *, platform: str, channel: str, locale: str) -> None:
    row = session.get(ChannelSetting, (platform, channel)) or ChannelSetting(
        platform=platform, channel=channel
    )
    row.locale = locale
    session.add(row)
