"""A storm's groups joining or resolving an incident that is already open are said in one
post per couple of minutes, not one post per group; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, HarnessFactory
from tests.fakes.alertmanager import alert, notification
from tests.scenarios.test_noise_budget import alertmanager

pytestmark = pytest.mark.usefixtures("database_url")
NAMES = [f"Alert{n}" for n in range(13)]


def group(name: str, status: str = "firing") -> dict[str, object]:
    return notification(
        alert(
            name,
            status=status,
            service="checkout",
            severity="warning",
            ends_at="2026-11-23T01:30:00.000Z" if status == "resolved" else None,
        ),
        group_by=("alertname", "service"),
    )


def incidents_posts(h: Harness) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "post" and s.address == "#incidents"]


async def test_groups_joining_and_resolving_are_said_once_a_digest(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    for name in NAMES:  # the first opens the incident, twelve more join it
        await alertmanager(h, group(name))
    opened = len(incidents_posts(h))
    assert not any("more alerts joined" in p for p in incidents_posts(h))
    await h.advance(minutes=2)
    [joined] = [p for p in incidents_posts(h) if "more alerts joined" in p]
    assert joined.startswith("Incident #1 (")
    assert "Alert1: 1/1 firing" in joined
    assert "and 2 more" in joined
    assert len(incidents_posts(h)) == opened + 1
    for name in NAMES[1:4]:
        await alertmanager(h, group(name, "resolved"))
    await h.advance(minutes=2)
    [resolved] = [p for p in incidents_posts(h) if "alerts resolved" in p]
    assert "10 other group(s) still firing" in resolved
    await h.advance(minutes=10)
    assert len(incidents_posts(h)) == opened + 2  # nothing more to say


async def test_a_digest_is_dropped_once_its_incident_is_resolved(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await alertmanager(h, group("Alert0"))
    await alertmanager(h, group("Alert1"))
    await h.say("/incident resolve 1", user="carol")
    await h.advance(minutes=3)
    assert not any("more alerts joined" in p for p in incidents_posts(h))
