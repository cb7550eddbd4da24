"""Traffic that moves the moment it is asked: for drills and the shipped examples."""

from __future__ import annotations

from bot.traffic.base import TrafficCapabilities, TrafficState


class SimulatedTraffic:
    def __init__(self) -> None:
        self._state: dict[str, TrafficState] = {}
        self._keys: set[str] = set()
        self.applied: list[tuple[str, float, str]] = []  # (target, percent, key), for drills

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
        if idempotency_key in self._keys:
            return
        self._keys.add(idempotency_key)
        self._state[target] = TrafficState(percent, expected_version)
        self.applied.append((target, percent, idempotency_key))

    async def get_state(self, target: str) -> TrafficState:
        return self._state.get(target, TrafficState(0.0))

    async def rollback(self, target: str, *, reason: str, idempotency_key: str) -> None:
        if idempotency_key in self._keys:
            return
        self._keys.add(idempotency_key)
        self._state[target] = TrafficState(0.0)
        self.applied.append((target, 0.0, idempotency_key))
