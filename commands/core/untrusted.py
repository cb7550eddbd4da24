"""Text from outside, made safe to show on a terminal, in a log or in a refusal: control
characters escaped, and an echoed value cut short."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and C1 (ESC and CSI start terminal sequences, CR
# rewrites a line), the Unicode line and paragraph separators, the bidirectional overrides
# that reorder what a reader sees, and halves of UTF-16 surrogate pairs (no text at all).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NEWLINE_TOO = re.compile("\n|" + _CONTROLS.pattern)
ECHO_LIMIT = 80


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, newlines: bool = False) -> str:
    r"""``text`` with every control character written as an escape (``\x1b``); newlines
    too unless ``newlines`` keeps them."""
    return (_CONTROLS if newlines else _NEWLINE_TOO).sub(_escape, text)


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value a caller sent, for a sentence that quotes it: on one line, controls escaped,
    at most ``limit`` characters (an ellipsis says it was cut)."""
    text = value if isinstance(value, str) else str(value)
    # Cut first, so a 1 MiB value costs no more than its first few characters.
    cut = len(text) > limit
    text = escape_controls(text[: limit + 1])
    if cut or len(text) > limit:
        return text[: limit - 1] + "…"
    return text
