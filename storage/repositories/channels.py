"""Per-conversation settings."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import ChannelSetting
from storage.unit_of_work import execute_unflushed

# Built once: asked for every reply, and by the outbox worker for every post it sends.
_LOCALE = select(col(ChannelSetting.locale)).where(
    col(ChannelSetting.platform) == bindparam("of_platform"),
    col(ChannelSetting.channel) == bindparam("of_channel"),
)


def locale(session: Session, *, platform: str, channel: str) -> str | None:
    """The conversation's language, if one was set: from the row this transaction holds
    (set a moment ago by ``/lang``, say), else one SELECT that flushes nothing (asked
    after a command's own rows are written)."""
    held = session.identity_map.get(session.identity_key(ChannelSetting, (platform, channel)))
    if isinstance(held, ChannelSetting):
        return held.locale
    params = {"of_platform": platform, "of_channel": channel}
    return execute_unflushed(session, _LOCALE, params).scalar()


def set_locale(session: Session, *, platform: str, channel: str, locale: str) -> None:
    row = session.get(ChannelSetting, (platform, channel)) or ChannelSetting(
        platform=platform, channel=channel
    )
    row.locale = locale
    session.add(row)
    session.flush()  # held by this transaction from now on: its replies read it
