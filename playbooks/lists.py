"""Lists that can grow without bound (alerts, pages, people): the first ten and a count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from playbooks.messages import Text, joined, raw, t

SHOWN = 10  # names a list shows before "and N more"
T = TypeVar("T")


def _split(items: Iterable[str], limit: int) -> tuple[list[str], int]:
    every = list(items)
    return every[:limit], max(0, len(every) - limit)


def listed(items: Iterable[str], *, limit: int = SHOWN, empty: str = "-") -> Text:
    """``a, b, c`` (``a、b、c`` in Chinese) — or the first ``limit`` and "and 990 more",
    in the reader's language."""
    shown, more = _split(items, limit)
    if not shown:
        return raw(empty)
    names = joined([raw(name) for name in shown], separator="list.commas")
    return t("list.and_more", items=names, more=more) if more else names


def listed_plain(items: Iterable[str], *, limit: int = SHOWN, empty: str = "-") -> str:
    """The same summary as plain text, for what is stored as written (an incident's
    timeline, a page's events) rather than translated for each reader."""
    shown, more = _split(items, limit)
    if not shown:
        return empty
    return ", ".join(shown) + (f" and {more} more" if more else "")


def mentioned(handles: Iterable[str], *, limit: int = SHOWN) -> Text:
    """People as ``@a, @b`` — summarised past ``limit`` like any list."""
    return listed((f"@{h}" for h in handles), limit=limit)


def capped(items: Sequence[T], *, limit: int = SHOWN) -> tuple[Sequence[T], Text | None]:
    """A list shown one item a line: its first ``limit``, and the line that counts the rest
    (None when nothing is left out)."""
    more = len(items) - limit
    return items[:limit], (t("list.more_lines", more=more) if more > 0 else None)
