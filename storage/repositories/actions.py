"""Button tokens: a short token stands for the command a button runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlmodel import Session

from storage.models import ActionToken
from storage.unit_of_work import execute_unflushed

_ISSUING = insert(ActionToken.__table__)  # type: ignore[attr-defined]


def issue(
    session: Session,
    buttons: Sequence[tuple[str, str]],
    *,
    platform: str,
    channel: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """A token for each (token, command) of one message's buttons, in one INSERT."""
    if not buttons:
        return
    execute_unflushed(
        session,
        _ISSUING,
        [
            {
                "token": token,
                "command": command,
                "platform": platform,
                "channel": channel,
                "created_at": now,
                "expires_at": expires_at,
            }
            for token, command in buttons
        ],
    )


def taken(session: Session, tokens: Sequence[str]) -> set[str]:
    """Which of ``tokens`` some button holds already."""
    table = ActionToken.__table__  # type: ignore[attr-defined]
    rows = execute_unflushed(session, select(table.c.token).where(table.c.token.in_(tokens)))
    return set(rows.scalars())


def get(session: Session, *, token: str) -> ActionToken | None:
    return session.get(ActionToken, token)
