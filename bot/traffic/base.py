"""The traffic backend contract.

A backend is told to move a service to a percent with an idempotency key; the same
key may arrive twice (the outbox delivers at least once) and must not apply twice.
Failures raise ``AdapterError``: ``permanent`` for a request the backend will never
accept, ``retry_after`` when it asked to be left alone for a while; anything else
is retried with back-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TrafficState:
    percent: float
    version: str | None = None


@dataclass(frozen=True, slots=True)
class TrafficCapabilities:
    idempotent: bool  # the backend itself ignores a repeated key
    reads_state: bool  # get_state asks the backend rather than remembering


class TrafficBackend(Protocol):
    def capabilities(self) -> TrafficCapabilities: ...

    async def set_percent(
        self,
        target: str,
        percent: float,
        *,
        expected_version: str,
        idempotency_key: str,
        stage: str,
    ) -> None: ...

    async def get_state(self, target: str) -> TrafficState: ...

    async def rollback(self, target: str, *, reason: str, idempotency_key: str) -> None: ...
