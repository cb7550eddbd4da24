"""Per-conversation settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from storage.models import ChannelSetting
from storage.unit_of_work import execute_unflushed


def locale(session: Session, *, platform: str, channel: str) -> str | None:
    """The conversation's language, if one was set: from the row this transaction holds
    (set a moment ago by ``/lang``, say), else one SELECT that flushes nothing (asked on
    every reply, after the command's own rows are written)."""
    held = session.identity_map.get(session.identity_key(ChannelSetting, (platform, channel)))
    if isinstance(held, ChannelSetting):
        return held.locale
    table = ChannelSetting.__table__  # type: ignore[attr-defined]
    query = select(table.c.locale).where(table.c.platform == platform, table.c.channel == channel)
    return execute_unflushed(session, query).scalar_one_or_none()


def set_locale(session: Session, *, platform: str, channel: str, locale: str) -> None:
    row = session.get(ChannelSetting, (platform, channel)) or ChannelSetting(
        platform=platform, channel=channel
    )
    row.locale = locale
    session.add(row)
    session.flush()  # held by this transaction from now on: its replies read it
