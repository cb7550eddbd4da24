"""Traffic moved by a signed HTTP POST to a receiver you run (a deploy tool, a mesh controller).

What is sent
============

Every change is one ``POST`` to the configured URL with a JSON body (spaced out here)::

    {"action": "set", "service": "checkout", "version": "v42", "percent": 5.0,
     "stage": "canary-5", "idempotency_key": "…"}
    {"action": "rollback", "service": "checkout", "version": null, "percent": 0,
     "stage": "rollback", "idempotency_key": "…", "reason": "error rate above 2%"}

A rollback always carries ``"version": null``: at 0% no version receives the canary's share,
and the receiver should send everything back to the stable version it already runs. Every body
has the same keys apart from ``reason``, so one schema covers both actions.

The body is compact JSON with sorted keys (``json.dumps(body, separators=(",", ":"),
sort_keys=True)``), and the request carries these headers:

``Content-Type: application/json``
``Idempotency-Key: <key>`` — the same key as the body's ``idempotency_key``.
``X-Shipwatch-Timestamp: <unix seconds>`` — when the request was signed, an integer.
``X-Shipwatch-Signature: sha256=<hex>`` — HMAC-SHA256 with the shared secret over the bytes
``f"{timestamp}.".encode() + body``.

How a receiver verifies a request
=================================

1. Read the raw body bytes exactly as received; do not parse and re-serialise them first.
2. Reject the request if ``X-Shipwatch-Timestamp`` is not an integer, or is more than
   5 minutes (300 s) away from your clock in either direction: a captured request cannot be
   replayed later.
3. Compute ``"sha256=" + HMAC-SHA256(secret, timestamp + "." + body).hexdigest()`` and compare
   it with ``X-Shipwatch-Signature`` using a constant-time comparison
   (``hmac.compare_digest``), never ``==``.
4. Answer 401 when either check fails; Shipwatch treats 401 as permanent and stops retrying.
5. Honour the idempotency key: if a key was applied before, answer 2xx without applying it
   again. Shipwatch delivers at least once and repeats a key after a timeout. The header is
   not signed, the body's ``idempotency_key`` is: de-duplicate on the body's copy (or check the
   two are equal).

For example, in Python::

    import hashlib, hmac, time

    def verify(secret: bytes, headers: dict[str, str], body: bytes) -> bool:
        timestamp = headers.get("X-Shipwatch-Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False  # missing, malformed, or more than 5 minutes old
        signed = timestamp.encode() + b"." + body
        expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
        received = headers.get("X-Shipwatch-Signature", "")
        return hmac.compare_digest(expected.encode(), received.encode())

What the answer means
=====================

2xx is success. 429, 503 (with ``Retry-After`` in seconds, honoured) and any other 5xx,
408, timeouts and connection failures are retried later. Any other status is permanent: the
request will never be accepted as it is, and the reason shows the status and the first
200 characters of the body. Redirects are not followed (a signed POST should go to its final
address); a 3xx is reported as permanent.

A webhook cannot be asked where traffic stands, so ``get_state`` answers with the last change
this process delivered (``reads_state=False``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.traffic.base import TrafficCapabilities, TrafficState
from playbooks.errors import AdapterError
from playbooks.messages import t

SessionProvider = Callable[[], Awaitable[aiohttp.ClientSession]]

SIGNATURE_HEADER = "X-Shipwatch-Signature"
TIMESTAMP_HEADER = "X-Shipwatch-Timestamp"
MAX_BODY_IN_REASON = 200
_ERROR_BODY_READ = 4096  # bytes of an error answer read at most; only 200 chars are shown


# --- shared by the HTTP traffic backends (webhook, Unleash) ----------------------------------


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

    429, 503, 408 and other 5xx are retryable (with the peer's ``Retry-After`` when given);
    anything else is permanent, and ``advice`` says what to check. ``secrets`` are blanked out
    of the whole reason, the peer's body and ``what`` included.
    """
    what = redact(what, *secrets)
    excerpt = body_excerpt(body, *secrets)
    reason = f"{what} answered HTTP {status}"
    if excerpt:
        reason += f": {excerpt}"
    if status in (429, 503):
        wait = retry_after_seconds(headers)
        if wait is not None:
            reason += f" (asked to retry after {wait:g}s)"
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


# --- the webhook backend ----------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Shipwatch-Signature`` value for ``body`` signed at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def encode(body: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


class WebhookTraffic:
    """Sends each change as a signed POST; see the module docstring for the receiver's side."""

    def __init__(
        self,
        url: str,
        *,
        secret: str,
        timeout: timedelta,
        session: SessionProvider,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the webhook backend needs a non-empty signing secret")
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._session = session
        self._clock = clock  # wall-clock seconds for the timestamp header; the receiver's clock
        self._what = f"webhook {redact(display_url(url), secret)}"
        self._sent: dict[str, TrafficState] = {}

    def capabilities(self) -> TrafficCapabilities:
        return TrafficCapabilities(idempotent=True, reads_state=False)

    async def set_percent(
        self,
        target: str,
        percent: float,
        *,
        expected_version: str,
        idempotency_key: str,
        stage: str,
    ) -> None:
        check_percent(percent)
        body = {
            "action": "set",
            "service": target,
            "version": expected_version,
            "percent": percent,
            "stage": stage,
            "idempotency_key": idempotency_key,
        }
        await self._post(body, idempotency_key)
        self._sent[target] = TrafficState(percent, expected_version)

    async def get_state(self, target: str) -> TrafficState:
        """The last change this process delivered for ``target``: 0% if none."""
        return self._sent.get(target, TrafficState(0.0))

    async def rollback(self, target: str, *, reason: str, idempotency_key: str) -> None:
        body = {
            "action": "rollback",
            "service": target,
            "version": None,
            "percent": 0,
            "stage": "rollback",
            "idempotency_key": idempotency_key,
            "reason": reason,
        }
        await self._post(body, idempotency_key)
        self._sent[target] = TrafficState(0.0)

    async def _post(self, body: Mapping[str, Any], idempotency_key: str) -> None:
        payload = encode(body)
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, payload),
        }
        session = await self._session()
        try:
            async with session.post(
                self._url,
                data=payload,
                headers=headers,
                timeout=client_timeout(self._timeout),
                allow_redirects=False,
            ) as response:
                if 200 <= response.status < 300:
                    return
                answer = await read_error_body(response)
                raise status_failure(
                    self._what,
                    response.status,
                    response.headers,
                    answer,
                    secrets=(self._secret,),
                    advice=_advice(response.status),
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise transport_failure(
                self._what, error, self._timeout, secrets=(self._secret,)
            ) from error


def _advice(status: int) -> str | None:
    if status == 401:
        return "the receiver rejected the signature: check secret_env holds the receiver's secret"
    if status in (403, 404, 405):
        return "check the webhook url"
    return None
