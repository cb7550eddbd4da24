"""What the HTTP traffic backends (webhook, Unleash) share: error mapping, redaction,
timeouts."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t

SessionProvider = Callable[[], Awaitable[aiohttp.ClientSession]]

MAX_BODY_IN_REASON = 200
THROTTLED_WAIT = 5.0  # a 429 that names no wait
_ERROR_BODY_READ = 4096  # bytes of an error answer read at most; only 200 chars are shown


def failure(
    reason: str, *, retry_after: float | None = None, permanent: bool = False
) -> AdapterError:
    """An ``AdapterError`` whose sentence is ``delivery.failed`` with ``reason``."""
    return AdapterError(
        t("delivery.failed", reason=reason), retry_after=retry_after, permanent=permanent
    )


def redact(text: str, *secrets: str) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def display_url(url: str) -> str:
    """The URL without user:password, query or fragment: safe to show in a reason."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unparseable URL)"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as a number of seconds; ``None`` if absent or not a number of seconds."""
    value = headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def body_excerpt(body: bytes, *secrets: str) -> str:
    """At most 200 characters of an answer's body, on one line, secrets removed."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return redact(text, *secrets)[:MAX_BODY_IN_REASON]


def status_failure(
    what: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: tuple[str, ...] = (),
    advice: str | None = None,
) -> AdapterError:
    """The error for a non-2xx answer from ``what`` (a short description of the peer).

    429 is a wait (``Throttled``, never counted as an attempt); 503, 408 and other 5xx
    are retryable (with the peer's ``Retry-After`` when given);
    anything else is permanent, and ``advice`` says what to check. ``secrets`` are blanked out
    of the whole reason, the peer's body and ``what`` included.
    """
    what = redact(what, *secrets)
    excerpt = body_excerpt(body, *secrets)
    reason = f"{what} answered HTTP {status}"
    if excerpt:
        reason += f": {excerpt}"
    wait = retry_after_seconds(headers)
    if wait is not None and status in (429, 503):
        reason += f" (asked to retry after {wait:g}s)"
    if status == 429:  # a rate limit: a wait, not a failure of the change
        return Throttled(t("delivery.failed", reason=reason), retry_after=wait or THROTTLED_WAIT)
    if status == 503:
        return failure(reason, retry_after=wait)
    if status >= 500 or status == 408:
        return failure(reason)
    if 300 <= status < 400:
        reason += "; redirects are not followed, point the URL at its final address"
    elif advice:
        reason += f"; {advice}"
    return failure(reason, permanent=True)


async def read_error_body(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await response.content.read(_ERROR_BODY_READ)
    except (aiohttp.ClientError, TimeoutError):
        return b""


def transport_failure(
    what: str, error: BaseException, timeout: timedelta, *, secrets: tuple[str, ...] = ()
) -> AdapterError:
    """The retryable error for a timeout or a failed connection; an invalid URL is permanent."""
    what = redact(what, *secrets)
    if isinstance(error, aiohttp.InvalidURL):
        return failure(f"{what}: the URL is not valid", permanent=True)
    if isinstance(error, TimeoutError):
        return failure(f"{what} did not answer within {timeout.total_seconds():g}s")
    detail = redact(str(error), *secrets)[:MAX_BODY_IN_REASON]
    name = type(error).__name__
    return failure(f"{what}: {name}: {detail}" if detail else f"{what}: {name}")


def check_percent(percent: float) -> None:
    """Refuse (permanently) a percent outside 0–100, or not a number at all."""
    if not (math.isfinite(percent) and 0 <= percent <= 100):
        raise failure(f"{percent!r} is not a traffic percent between 0 and 100", permanent=True)


def client_timeout(timeout: timedelta) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=timeout.total_seconds())
