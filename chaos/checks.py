"""The invariants, checked from the database (read with SQLAlchemy) and the fake's record
against what the client saw acknowledged; and the figures of the run."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from chaos.bot_process import CONFIG_DIR
from chaos.platform import Arrival
from chaos.workload import Workload
from storage.models import AlertGroup, IncidentRow, OutboxMessage, PageRow, Timer

OVERDUE_GRACE = timedelta(seconds=10)  # a due timer fires within this while a process runs
INCIDENTS_CHANNEL = "C0INCIDENTS"
OPENED = re.compile(r"Incident #(\d+) \[P\d\] opened")
PAGED_SEVERITIES = ("P0", "P1")


@dataclass
class Figures:
    crashes: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    notifications_sent: int = 0
    notifications_answered: int = 0
    requests_cut_off: int = 0
    commands: int = 0
    command_replies: int = 0
    incidents: int = 0
    pages: int = 0
    page_messages: int = 0
    deliveries: int = 0
    rate_limited: int = 0
    timers_fired: int = 0
    timers_fired_late: int = 0
    lost: int = 0
    repeats: int = 0
    page_repeats: int = 0
    repeats_by_conversation: dict[str, int] = field(default_factory=dict)
    wait_p50_s: float = 0.0
    wait_max_s: float = 0.0
    wait_max_after_restart_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str, *, lost: bool = False) -> None:
        self.problems.append(problem)
        self.lost += int(lost)


@dataclass
class Run:
    """What the harness knows when it checks: the store, the platform, the client."""

    database: Path
    arrivals: list[Arrival]
    replies: dict[str, dict[str, object]]
    workload: Workload
    ready: list[tuple[float, float]]  # each process's [ready, ended) on the wall clock
    settled_at: datetime


def check(run: Run, figures: Figures) -> None:
    engine = create_engine(f"sqlite:///{run.database}")
    try:
        with engine.connect() as connection:
            integrity = connection.execute(text("PRAGMA integrity_check")).scalar()
        if integrity != "ok":
            figures.fail(f"PRAGMA integrity_check: {integrity}")
        with Session(engine) as session:
            _notifications(session, run, figures)
            _announcements_and_pages(session, run, figures)
            _outbox(session, run, figures)
            _timers(session, run, figures)
            _commands(session, run, figures)
    finally:
        engine.dispose()


def _notifications(session: Session, run: Run, figures: Figures) -> None:
    """Every notification answered 2xx has its group and incident; an incident whose
    groups all resolved is resolved."""
    incidents = {row.id: row for row in session.exec(select(IncidentRow))}
    groups = {row.group_key: row for row in session.exec(select(AlertGroup))}
    figures.notifications_answered = len(run.workload.answered)
    for seen in run.workload.answered:
        if seen.answer.get("action") == "ignored":
            continue
        if seen.group_key not in groups:
            figures.fail(f"group {seen.group_key} was answered but is not stored", lost=True)
        incident = incidents.get(seen.answer.get("incident"))
        if "incident" in seen.answer and incident is None:
            figures.fail(f"incident of {seen.answer} is not stored", lost=True)
        group = groups.get(seen.group_key)
        if seen.answer.get("action") == "resolved" and group and group.status != "resolved":
            figures.fail(f"group {seen.group_key} was answered resolved, is {group.status}")
    for incident in incidents.values():
        feeding = [g for g in groups.values() if g.incident_id == incident.id]
        # A storm folds groups into one incident: it resolves when the last of them does.
        if feeding and all(g.status == "resolved" for g in feeding) and incident.state == "open":
            figures.fail(f"incident #{incident.id}: all its groups resolved, it is still open")
    for refusal in run.workload.refused:
        figures.fail(f"refused: {refusal}")


def _announcements_and_pages(session: Session, run: Run, figures: Figures) -> None:
    """Every incident was announced; every P0/P1 one paged someone, who got the page."""
    slack_id = _slack_ids()
    announced = {
        int(m.group(1))
        for a in run.arrivals
        if a.channel == INCIDENTS_CHANNEL and (m := OPENED.search(a.text))
    }
    direct = Counter(
        (a.channel, a.text.splitlines()[0]) for a in run.arrivals if a.channel.startswith("U")
    )
    pages = list(session.exec(select(PageRow)))
    figures.pages = len(pages)
    for incident in session.exec(select(IncidentRow)):
        figures.incidents += 1
        if incident.id not in announced:
            figures.fail(f"incident #{incident.id} was never announced", lost=True)
        mine = [p for p in pages if p.incident_id == incident.id and p.paged]
        if incident.severity in PAGED_SEVERITIES and not mine:
            figures.fail(f"{incident.severity} incident #{incident.id} paged nobody", lost=True)
    for page in pages:
        for person in set(page.paged):
            got = [k for k in direct if k[0] == slack_id[person] and f"Page #{page.id} " in k[1]]
            if not got:
                figures.fail(f"page #{page.id} never reached {person}", lost=True)


def _outbox(session: Session, run: Run, figures: Figures) -> None:
    """Nothing stuck or dead; each sent row reached the platform; extra posts are repeats."""
    rows = list(session.exec(select(OutboxMessage)))
    by_ts = {a.ts: a for a in run.arrivals if a.method == "chat.postMessage"}
    referenced: set[str] = set()
    waits: list[tuple[float, OutboxMessage]] = []
    for row in rows:
        if row.state == "dead":
            figures.fail(f"outbox #{row.id} is dead: {row.last_error}", lost=True)
        elif row.state == "pending" and row.created_at < run.settled_at:
            figures.fail(f"outbox #{row.id} still pending (next try {row.next_attempt_at})")
        elif row.state == "sent":
            ts = (row.platform_ref or " ").split(" ", 1)[1]
            first = by_ts.get(ts)
            if first is None:
                figures.fail(f"outbox #{row.id} marked sent but never reached Slack", lost=True)
                continue
            if ts in referenced:
                continue  # an edit of a post counted already
            referenced.add(ts)
            reached = _first_arrival(run.arrivals, first, row.created_at.timestamp())
            waits.append((_ready_overlap(run.ready, row.created_at.timestamp(), reached), row))
    sent_texts = {(by_ts[ts].channel, by_ts[ts].text) for ts in referenced}
    for ts, arrival in by_ts.items():
        if ts in referenced:
            continue
        if (arrival.channel, arrival.text) not in sent_texts:
            figures.fail(f"a post nothing in the store accounts for: {arrival.text[:80]!r}")
        figures.repeats += 1
        figures.page_repeats += int(arrival.channel.startswith("U"))
        figures.repeats_by_conversation[arrival.channel] = (
            figures.repeats_by_conversation.get(arrival.channel, 0) + 1
        )
    figures.deliveries = len(by_ts)
    figures.page_messages = sum(1 for a in by_ts.values() if a.channel.startswith("U"))
    if waits:
        seconds = [w for w, _ in waits]
        figures.wait_p50_s = round(statistics.median(seconds), 2)
        figures.wait_max_s = round(max(seconds), 2)
        after = [w for w, row in waits if _after_restart(run, row.created_at.timestamp())]
        figures.wait_max_after_restart_s = round(max(after, default=0.0), 2)


def _first_arrival(arrivals: list[Arrival], sent: Arrival, committed: float) -> float:
    """When the message first reached Slack: a repeat cut off by a crash may be earlier."""
    earlier = [
        a.at
        for a in arrivals
        if a.channel == sent.channel and a.text == sent.text and committed <= a.at <= sent.at
    ]
    return min(earlier, default=sent.at)


def _ready_overlap(ready: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] during which a ready process ran."""
    return sum(max(0.0, min(end, until) - max(start, since)) for since, until in ready)


def _after_restart(run: Run, committed: float) -> bool:
    """Committed before a crash, so delivered (if at all) by a restarted process."""
    return any(since > committed for since, _ in run.ready[1:])


def _timers(session: Session, run: Run, figures: Figures) -> None:
    """No timer was left behind: each due one fired, and each open page and SLA clock still
    has its timer pending."""
    timers = list(session.exec(select(Timer)))
    for timer in timers:
        if timer.state == "fired":
            figures.timers_fired += 1
            figures.timers_fired_late += int(timer.fired_late)
        elif timer.state == "pending" and timer.due_at < run.settled_at - OVERDUE_GRACE:
            figures.fail(f"timer {timer.key} due {timer.due_at} never fired", lost=True)
        elif timer.state == "failed":
            figures.fail(f"timer {timer.key} failed")
    for page in session.exec(select(PageRow).where(PageRow.state == "open")):
        if not any(t.kind == "page.step" and t.payload.get("page_id") == page.id for t in timers):
            figures.fail(f"open page #{page.id} has no escalation timer", lost=True)
    for incident in session.exec(select(IncidentRow).where(IncidentRow.state == "open")):
        mine = [t for t in timers if t.payload.get("incident_id") == incident.id]
        if not incident.respond_breached and not any(
            t.kind == "incident.respond_due" and t.state in ("pending", "fired") for t in mine
        ):
            figures.fail(f"incident #{incident.id} has no respond timer", lost=True)


def _commands(session: Session, run: Run, figures: Figures) -> None:
    """An acknowledgement whose reply the asker saw is in the store."""
    figures.commands = len(run.workload.commands)
    states = {p.id: p.state for p in session.exec(select(PageRow))}
    for command in run.workload.commands:
        reply = run.replies.get(command.reply_id)
        if reply is None:
            continue
        figures.command_replies += 1
        done = command.kind in ("ack", "press") and reply.get("response_type") == "in_channel"
        if done and states.get(command.page_id) == "open":
            figures.fail(f"{command.kind} of page #{command.page_id} replied but not stored")


def _slack_ids() -> dict[str, str]:
    people = yaml.safe_load((CONFIG_DIR / "people.yaml").read_text(encoding="utf-8"))["people"]
    return {p["handle"]: p["identities"]["slack"] for p in people}
