"""A week on the virtual clock, counted: what the bot says per conversation and per person
while a release sits parked at 1%, an acknowledged P1 stays open, an alert storm comes and
goes, three pages are taken and the shipped reports run. Fails above the noise budget the
README sets, and when a message a person needs is missing."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.alert_payloads import ALERTMANAGER, from_alertmanager
from commands.core.invocations import Inbound
from commands.incidents.alerts import KIND
from tests.commands.releases.test_launch_commands import GOOD, IN_WINDOW
from tests.conftest import Harness, HarnessFactory
from tests.fakes.adapters import Sent
from tests.fakes.alertmanager import alert, notification
from tests.fakes.storm import ALERT_NAMES, SERVICES

# Monday 17:00 in Shanghai: miniapp's deploy window is open.
MONDAY = IN_WINDOW
# 4 services x 10 alert names x 5 instances: 200 alerts, each group sent once, resolved later.
STORM_SERVICES = SERVICES
STORM_NAMES = ALERT_NAMES
INSTANCES = 5

# The noise budget for this week (README, "The noise budget"), against 1,189 messages
# before repeats backed off and a storm's groups were digested: everything, the busiest
# conversations, and any one person; 120 measured, about 10% headroom.
BUDGET_TOTAL = 132
BUDGET_CONVERSATION = {"#incidents": 45, "#releases": 30, "#ops": 20}
BUDGET_OTHER_CONVERSATION = 12
BUDGET_PERSON = {"bob": 27, "alice": 10}
BUDGET_OTHER_PERSON = 5
# Bob's working day with three pages open: 48 direct messages before (46 ack reminders
# and 2 pages), 12 measured after (10 reminders and the 2 pages).
BUDGET_BOBS_DAY = 14


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


async def week(h: Harness) -> slice:
    """The week: Monday 17:00 (Shanghai) to the next Monday 17:00; what was sent on
    Tuesday's working day (09:00 to 17:00 in Shanghai), bob's day of three pages."""
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
    day_starts = len(h.adapter.sent)
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
    day = slice(day_starts, len(h.adapter.sent))
    await h.app.advance_to(MONDAY + timedelta(days=7))
    return day


def counts(h: Harness) -> tuple[Counter[str], Counter[str]]:
    per_conversation = Counter(s.address for s in h.adapter.sent if s.kind == "post")
    per_person = Counter(s.address for s in h.adapter.sent if s.kind == "direct")
    return per_conversation, per_person


def next_at(text: str) -> datetime:
    """When a repeating message says it speaks next (rendered in UTC here)."""
    found = re.search(r"(?:Next update|Next reminder).*? at (\d{4}-\d\d-\d\d \d\d:\d\d)", text)
    assert found is not None, text
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def texts(h: Harness, conversation: str) -> list[str]:
    return [s.text for s in h.adapter.sent if where(s) == conversation]


# One run is enough: the week is long (about 20,000 guard readings on the virtual clock), and
# the storage under it is covered elsewhere on both databases.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_week_stays_within_the_noise_budget(make_harness: HarnessFactory) -> None:
    h = await make_harness(start=MONDAY)
    tuesday = await week(h)
    per_conversation, per_person = counts(h)
    figures = f"{len(h.adapter.sent)} in all; {per_conversation}; {per_person}"
    assert len(h.adapter.sent) <= BUDGET_TOTAL, figures
    for conversation, n in per_conversation.items():
        assert n <= BUDGET_CONVERSATION.get(conversation, BUDGET_OTHER_CONVERSATION), figures
    for person, n in per_person.items():
        assert n <= BUDGET_PERSON.get(person, BUDGET_OTHER_PERSON), figures
    bobs_day = [s for s in h.adapter.sent[tuesday] if s.kind == "direct" and s.address == "bob"]
    assert len(bobs_day) <= BUDGET_BOBS_DAY, [s.lines[0] for s in bobs_day]

    # Nothing a person needs is lost: the pages, the guard going bad, the stage's watch
    # ending, the incidents, the reports.
    bob = texts(h, "@bob")
    for page in (1, 2, 3):
        assert any(t.startswith(f"📟 Page #{page} ") for t in bob), page
    releases = texts(h, "#releases")
    assert any("Guard p99_latency_ms read 1500 (> 1000)" in t for t in releases)
    assert any("shipwatch paused miniapp at 1%" in t for t in releases)
    assert any("The soak of stage internal (1%) of miniapp is over." in t for t in releases)
    incidents = texts(h, "#incidents")
    assert any(t.startswith("🚨 Incident #1 [P1] opened by @alice") for t in incidents)
    for storm in (2, 3, 4, 5):
        assert any(t.startswith(f"✅ Incident #{storm} resolved") for t in incidents), storm
    ops = texts(h, "#ops")
    assert sum(t.startswith("📋 Daily report") for t in ops) == 7
    assert sum(t.startswith("☀️ Morning health post") for t in ops) == 7
    assert sum(t.startswith("📊 Weekly report") for t in ops) == 1

    # The repeats still come, ever less often, to a day at most, each naming the next.
    progress = [t for t in releases if t.startswith("📊 Progress of miniapp 2.0.0")]
    assert 7 <= len(progress) <= 14
    assert "Next update when something changes, or at " in progress[-1]
    assert h.clock.now() < next_at(progress[-1]) <= h.clock.now() + timedelta(days=1)
    reminders = [t for t in bob if t.startswith("⏳ Page #1 ")]
    assert 7 <= len(reminders) <= 14
    assert h.clock.now() < next_at(reminders[-1]) <= h.clock.now() + timedelta(days=1)
    updates = [t for t in incidents if t.startswith("Incident #1: @alice, time for a status")]
    assert 7 <= len(updates) <= 14
    assert h.clock.now() < next_at(updates[-1]) <= h.clock.now() + timedelta(days=1)
