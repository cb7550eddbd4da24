"""Fitting a message into a platform's size limit: its head and tail whole, its body
shortened at part boundaries, and a note of what was left out, never a silent cut."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Measure = Callable[[str], int]


def characters(text: str) -> int:
    return len(text)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def fit(
    head: Sequence[str],
    body: Sequence[str],
    tail: Sequence[str],
    *,
    limit: int,
    joiner: str,
    note: Callable[[int], str],
    measure: Measure = characters,
) -> list[str]:
    """``head + body + tail`` joined by ``joiner`` within ``limit``. The head (the news)
    and the tail (mentions, the commands to type) are kept whole; body parts are kept in
    order while they fit, and the lines of those that do not are counted in ``note``.

    A head and tail that alone exceed the limit are the caller's to avoid: they are short
    by construction (a heading, a few buttons and mentions)."""
    parts = [*head, *body, *tail]
    if measure(joiner.join(parts)) <= limit:
        return parts

    def fits(kept: list[str], left_out: int) -> bool:
        return measure(joiner.join([*head, *kept, note(left_out), *tail])) <= limit

    kept: list[str] = []
    lines_left = sum(part.count("\n") + 1 for part in body)
    for part in body:
        lines = part.split("\n")
        if fits([*kept, part], lines_left - len(lines)):
            kept.append(part)
            lines_left -= len(lines)
            continue
        # The part does not fit whole: keep as many of its first lines as do.
        shown = 0
        while shown < len(lines) and fits(
            [*kept, "\n".join(lines[: shown + 1])], lines_left - shown - 1
        ):
            shown += 1
        if shown:
            kept.append("\n".join(lines[:shown]))
        return [*head, *kept, note(lines_left - shown), *tail]
    return [*head, *kept, *tail]
