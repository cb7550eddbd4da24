"""What a form's command answered, kept for the page the browser is sent back to and
shown there once.

The reply stays on the server under a short random id that goes in the redirect's query
string (``?flash=ID``): the reply's words never sit in a URL (the browser's history, a
proxy's log), a reload does not show them again, and an id is good only for the session
that made it. The store lives in the process: a page served by another replica after the
redirect shows no note, and what changed is on the page all the same."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

# Enough for every form sent in the last minutes; the oldest go first when full.
CAPACITY = 2000
LIFETIME_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Flash:
    text: str
    refused: bool  # the command said no (denied, refused, wrong input): shown as such


_kept: OrderedDict[str, tuple[str, float, Flash]] = OrderedDict()


def keep(session_id: str, flash: Flash) -> str:
    """Keep ``flash`` for ``session_id``; the id to put in the redirect."""
    key = secrets.token_urlsafe(9)
    _kept[key] = (session_id, time.monotonic() + LIFETIME_SECONDS, flash)
    while len(_kept) > CAPACITY:
        _kept.popitem(last=False)
    return key


def take(session_id: str, key: str | None) -> Flash | None:
    """The flash under ``key`` if this session kept it and it is fresh; gone afterwards."""
    if not key:
        return None
    kept = _kept.get(key)
    if kept is None or kept[0] != session_id:
        return None
    del _kept[key]
    return kept[2] if kept[1] >= time.monotonic() else None
