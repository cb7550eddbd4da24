"""A whole number as a console URL or form gives it (``?page=3``, ``/web/incidents/42``,
a checklist item). Only ASCII digits count: ``str.isdigit`` also passes ``²`` (which
``int`` refuses) and ``١٢`` (which no one typed in a link of ours), and ``int`` of 5,000
digits fails outright; the length is looked at before anything is converted."""

from __future__ import annotations

# The largest row id there can be: PostgreSQL's ``integer`` refuses a larger one even in a
# query, so a larger id in a URL is no such row, not a failed query.
MAX_ID = 2**31 - 1


def whole_number(text: str, *, maximum: int) -> int | None:
    """``text`` as a number from 1 to ``maximum``, else None."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def row_id(text: str) -> int | None:
    """A row id from a URL (``/web/releases/12``), else None (then: no such row)."""
    return whole_number(text, maximum=MAX_ID)
