"""An alert storm for any chat platform: 1,000 Alertmanager alerts in five minutes, 20 pages
and a 600-event incident timeline, on the virtual clock; and the figures it leaves."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlmodel import select

from bot.app import Application
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation
from storage.models import IncidentEvent, OutboxMessage, PageRow
from storage.unit_of_work import unit_of_work
from tests.fakes.alertmanager import alert, notification

ALERT_TOKEN = "am-token-for-storm"
# Services Shipwatch has no entry for: their incidents go to the alerts channel
# (alerts.yaml, #incidents) and page nobody by themselves, so the pages are the test's.
SERVICES = ("checkout", "payments", "search", "inventory")
ALERT_NAMES = (
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
ALERTS_PER_GROUP = 25  # 4 services x 10 alert names x 25 instances = 1,000 alerts
STORM = timedelta(minutes=5)
GROUP_WAIT = timedelta(seconds=10)  # Alertmanager's group_wait and group_interval
GROUP_INTERVAL = timedelta(seconds=30)
PAGES = 20
FIRST_PAGE = timedelta(seconds=12)
PAGE_EVERY = timedelta(seconds=14)
TIMELINE_EVENTS = 600
STEP = timedelta(seconds=1)
DRAIN_LIMIT = timedelta(hours=2)


@dataclass(frozen=True)
class Post:
    """One Alertmanager webhook call: when, and its body."""

    at: timedelta
    body: dict[str, object]
    alerts: int


def alert_posts(start: datetime) -> list[Post]:
    """What Alertmanager posts for the storm: each group (alert name and service) gets its
    alerts one by one over the five minutes, the groups starting within ten seconds of
    each other; the group is sent ``GROUP_WAIT`` after its
    first alert, then every ``GROUP_INTERVAL`` while it has new ones, every alert so far
    in each body, as Alertmanager sends them."""
    posts: list[Post] = []
    groups = [(name, service) for service in SERVICES for name in ALERT_NAMES]
    for index, (name, service) in enumerate(groups):
        first = timedelta(milliseconds=250 * index)  # a storm starts at once
        spacing = (STORM - GROUP_WAIT - first) / ALERTS_PER_GROUP
        arrivals = [first + spacing * n for n in range(ALERTS_PER_GROUP)]
        severity = "critical" if service == SERVICES[0] else "warning"
        sends = [first + GROUP_WAIT]
        while sends[-1] + GROUP_INTERVAL < STORM:
            sends.append(sends[-1] + GROUP_INTERVAL)
        sends.append(STORM)
        sent = 0
        for at in sends:
            due = [a for a in arrivals if a <= at]
            if len(due) == sent:
                continue
            sent = len(due)
            alerts = [
                alert(
                    name,
                    service=service,
                    severity=severity,
                    instance=f"{service}-{n}",
                    starts_at=(start + arrival).isoformat().replace("+00:00", "Z"),
                )
                for n, arrival in enumerate(due)
            ]
            posts.append(Post(at, notification(*alerts, group_by=("alertname", "service")), sent))
    return sorted(posts, key=lambda p: p.at)


@dataclass
class Figures:
    """What a storm test measured, for its assertions and the README."""

    platform: str
    alerts: int = 0
    hook_calls: int = 0
    incidents: int = 0
    timeline_events: int = 0
    notes: int = 0  # of them, notes written by /incident note
    timeline_parts: int = 0  # the messages its answer took
    timeline_left_out: int = 0  # the lines its answer said it left out
    page_latency: dict[int, timedelta] = field(default_factory=dict)  # page id: first receipt
    posts: Counter[str] = field(default_factory=Counter)  # conversation: messages received
    throttled: int = 0  # the platform's "too many" answers (429, 410100, 9499…)
    rejected_for_size: int = 0
    post_wait: timedelta = timedelta(0)  # the longest any channel post waited in the outbox
    last_sent: timedelta = timedelta(0)  # storm start to the last message sent

    def latency_max(self) -> timedelta:
        return max(self.page_latency.values())

    def latency_p50(self) -> timedelta:
        return timedelta(
            seconds=statistics.median(d.total_seconds() for d in self.page_latency.values())
        )

    def line(self) -> str:
        per = ", ".join(f"{k} {v}" for k, v in self.posts.most_common())
        return (
            f"STORM {self.platform}: {self.alerts} alerts in {self.hook_calls} webhook calls -> "
            f"{self.incidents} incidents; timeline {self.timeline_events} events "
            f"({self.notes} notes) answered in {self.timeline_parts} message(s), "
            f"{self.timeline_left_out} lines left out; "
            f"pages {len(self.page_latency)}: latency max "
            f"{self.latency_max().total_seconds():.1f}s p50 "
            f"{self.latency_p50().total_seconds():.1f}s; posts {sum(self.posts.values())} "
            f"({per}); throttled {self.throttled}; rejected for size {self.rejected_for_size}; "
            f"longest outbox wait of a post {self.post_wait.total_seconds():.0f}s; last "
            f"message sent {self.last_sent.total_seconds():.0f}s after the storm began"
        )


@dataclass
class StormRun:
    """Drive one application through the storm. ``actor`` and ``channel`` are a person's
    id on the platform and a conversation of theirs; ``people`` the handles paged."""

    app: Application
    hooks_url: str  # Shipwatch's own server
    client: aiohttp.ClientSession
    platform: str
    actor: str
    channel: str
    people: Sequence[str]
    # The time the platform's fake keeps, when it is not the application's clock alone
    # (Telegram's: the virtual clock plus the send limiter's waits).
    now: Callable[[], datetime] | None = None
    figures: Figures = field(init=False)
    _group_alerts: dict[str, int] = field(default_factory=dict)
    _paged_at: dict[int, datetime] = field(default_factory=dict)  # page number: when
    _start: datetime | None = None

    def __post_init__(self) -> None:
        self.figures = Figures(self.platform)

    async def run(self) -> Figures:
        """The five minutes: the alerts as Alertmanager posts them, a page every 14 s from
        12 s on, the first amid the groups' first notifications (people in turn, so no
        one's page budget holds any back), and notes on the first incident until its
        timeline holds 600 events."""
        start = self._start = self.app.clock.now()
        posts = alert_posts(start)
        page_at = [FIRST_PAGE + PAGE_EVERY * n for n in range(PAGES)]
        notes = 0
        elapsed = timedelta(0)
        while elapsed <= STORM:
            for post in [p for p in posts if elapsed - STEP < p.at <= elapsed]:
                await self._alert(post)
            for n in [n for n, at in enumerate(page_at) if elapsed - STEP < at <= elapsed]:
                person = self.people[n % len(self.people)]
                await self._command(f'/page @{person} "storm page {n + 1}: look at checkout"')
                self._paged_at[n + 1] = (self.now or self.app.clock.now)()
            if self.figures.hook_calls:  # the first incident is open: two notes a second
                for _ in range(2):
                    if notes < TIMELINE_EVENTS:
                        notes += 1
                        await self._command(f"/incident note 1 storm update {notes}")
            elapsed += STEP
            await self.app.advance_to(start + elapsed)
        while self.timeline_events(1) < TIMELINE_EVENTS:
            notes += 1
            await self._command(f"/incident note 1 storm update {notes}")
        self.figures.notes = notes
        self.figures.incidents = self._incidents()
        self.figures.timeline_events = self.timeline_events(1)
        return self.figures

    async def drain(self) -> None:
        """Run the clock on until nothing waits in the outbox (at most two hours)."""
        assert self._start is not None, "the storm runs first"
        start = self._start
        while self.pending() and self.app.clock.now() - start < DRAIN_LIMIT:
            await self.app.advance_to(self.app.clock.now() + timedelta(seconds=10))
        sent = [r for r in self.outbox(state="sent") if r.sent_at is not None]
        self.figures.last_sent = max(_aware(r.sent_at) for r in sent) - start
        self.figures.post_wait = max(
            (_aware(r.sent_at) - _aware(r.created_at) for r in sent if r.kind == "post"),
            default=timedelta(0),
        )

    def measure_pages(self, receipts: Callable[[str], Sequence[tuple[str, datetime]]]) -> None:
        """Each page's latency: its creation to the first message its person received that
        names it. ``receipts(handle)``: what the platform delivered to them, and when."""
        with unit_of_work(self.app.engine) as session:
            pages = [(p.id or 0, p.title) for p in session.exec(select(PageRow))]
        for page_id, title in pages:
            if not title.startswith("storm page "):
                continue
            number = int(title.split(":")[0].rsplit(" ", 1)[1])
            handle = self.people[(number - 1) % len(self.people)]
            got = [at for text, at in receipts(handle) if title.split(":")[0] + ":" in text]
            if got:
                self.figures.page_latency[page_id] = min(got) - self._paged_at[number]

    def pending(self) -> int:
        return len(self.outbox(state="pending"))

    def outbox(self, *, state: str | None = None) -> list[OutboxMessage]:
        with unit_of_work(self.app.engine) as session:
            query = select(OutboxMessage)
            if state is not None:
                query = query.where(OutboxMessage.state == state)
            rows = list(session.exec(query))
            for row in rows:
                session.expunge(row)
            return rows

    def timeline_events(self, incident_id: int) -> int:
        with unit_of_work(self.app.engine) as session:
            query = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
            return len(session.exec(query).all())

    def _incidents(self) -> int:
        with unit_of_work(self.app.engine) as session:
            return len({e.incident_id for e in session.exec(select(IncidentEvent))})

    async def _alert(self, post: Post) -> None:
        async with self.client.post(
            f"{self.hooks_url}/hooks/alertmanager",
            json=post.body,
            headers={"Authorization": f"Bearer {ALERT_TOKEN}"},
        ) as response:
            answer = await response.json()
            assert response.status == 200, answer
        self.figures.hook_calls += 1
        self._group_alerts[str(post.body["groupKey"])] = post.alerts
        self.figures.alerts = sum(self._group_alerts.values())

    async def _command(self, text: str) -> None:
        conversation = Conversation(self.platform, self.channel)
        outcome = await self.app.dispatch(
            CommandInvocation(self.platform, self.actor, conversation, text)
        )
        assert outcome.status == "ok", (text, outcome.status)


def left_out(text: str) -> int:
    """How many lines a shortened message says it left out (0: it says none)."""
    found = re.search(r"… and (\d+) more line\(s\) not shown here", text)
    return int(found.group(1)) if found else 0


def _aware(moment: datetime | None) -> datetime:
    """A stored time as UTC (SQLite hands times back without their zone)."""
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
