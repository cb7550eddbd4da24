"""Carries traffic changes from the outbox to each service's backend."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from bot.i18n import Translator
from bot.traffic.base import TrafficBackend
from playbooks.effects import SetTraffic
from playbooks.errors import AdapterError
from playbooks.messages import t, text_from_str


class TrafficRouter:
    def __init__(self, backends: Mapping[str, TrafficBackend]) -> None:
        self.backends = backends

    async def deliver(self, payload: Mapping[str, Any]) -> None:
        change = SetTraffic.from_json(payload)
        backend = self.backends.get(change.service)
        if backend is None:
            reason = f"service {change.service!r} has no traffic backend configured any more"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        if change.rollback:
            # A backend is told why in English: its logs are read by operators of any team.
            reason = Translator("en", UTC)(text_from_str(change.reason))
            await backend.rollback(change.service, reason=reason, idempotency_key=change.key)
        else:
            await backend.set_percent(
                change.service,
                change.percent,
                expected_version=change.version,
                idempotency_key=change.key,
                stage=change.stage,
            )
