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
        # bytes: a header may hold anything, and compare_digest takes only ASCII str
        return hmac.compare_digest(expected.encode(), received.encode(errors="surrogateescape"))

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
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import aiohttp

from bot.traffic.base import TrafficCapabilities, TrafficState
from bot.traffic.http import (
    SessionProvider,
    check_percent,
    client_timeout,
    display_url,
    read_error_body,
    redact,
    status_failure,
    transport_failure,
)

SIGNATURE_HEADER = "X-Shipwatch-Signature"
TIMESTAMP_HEADER = "X-Shipwatch-Timestamp"


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
