"""Button tokens: a short token stands for the command a button runs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import ActionToken


def issue(
    session: Session,
    *,
    token: str,
    command: str,
    platform: str,
    channel: str,
    now: datetime,
    expires_at: datetime,
) -> ActionToken:
    row = ActionToken(
        token=token,
        command=command,
        platform=platform,
        channel=channel,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    return row


def get(session: Session, *, token: str) -> ActionToken | None:
    return session.get(ActionToken, token)
