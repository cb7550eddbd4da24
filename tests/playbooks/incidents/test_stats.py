"""Response figures: counts by severity, median and p90 of time to acknowledge and to
resolve, SLA attainment from the policy's clocks, pages per person, top alert groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playbooks.effects import Conversation, ResponseBar
from playbooks.incidents import stats
from playbooks.incidents.machine import Incident, IncidentState
from playbooks.incidents.policy import default_settings
from playbooks.incidents.stats import AlertGroupSeen

T0 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
M = timedelta(minutes=1)


def incident(
    n: int,
    severity: str = "P1",
    *,
    acked: int | None = None,
    resolved: int | None = None,
    respond: int | None = 15,
    resolve: int | None = 240,
    at: datetime = T0,
    service: str = "web",
) -> Incident:
    """Opened ``at``; acknowledged and resolved after so many minutes; its clocks due
    after ``respond`` and ``resolve`` minutes."""
    return Incident(
        id=n,
        title=f"incident {n}",
        severity=severity,
        state=IncidentState.RESOLVED if resolved is not None else IncidentState.OPEN,
        service=service,
        channel=Conversation("console", "#incidents"),
        opened_at=at,
        opened_by="carol",
        policy=default_settings().policy,
        commander="carol",
        acked_at=at + acked * M if acked is not None else None,
        resolved_at=at + resolved * M if resolved is not None else None,
        respond_due=at + respond * M if respond is not None else None,
        resolve_due=at + resolve * M if resolve is not None else None,
    )


def test_median_and_p90_come_from_the_statistics_module() -> None:
    found = stats.spread([timedelta(minutes=m) for m in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)])
    assert found == stats.Spread(
        median=timedelta(minutes=5, seconds=30), p90=timedelta(minutes=9, seconds=6), count=10
    )
    one = stats.spread([timedelta(minutes=4)])
    assert one == stats.Spread(timedelta(minutes=4), timedelta(minutes=4), 1)
    assert stats.spread([]) is None


def test_figures_of_a_window() -> None:
    incidents = [
        incident(1, "P0", acked=5, resolved=60),  # both clocks met
        incident(2, "P1", acked=30, resolved=300),  # both missed
        incident(3, "P1", acked=10, at=NOW - 60 * M),  # resolve clock not yet due: left out
        incident(4, "P2", at=NOW - 20 * M),  # respond clock overdue and unanswered: missed
        incident(5, "P3", acked=1, at=T0 - timedelta(days=2)),  # before the window
    ]
    figures = stats.compute(
        incidents,
        paged=[(1, ["bob", "carol"]), (2, ["bob"]), (2, ["bob"]), (None, ["dave"])],
        groups=[
            AlertGroupSeen('{}:{alertname="5xx"}', "web", 1, firing=3),
            AlertGroupSeen('{}:{alertname="latency"}', "web", 2, firing=9),
            AlertGroupSeen('{}:{alertname="old"}', "web", 5, firing=50),
        ],
        since=T0,
        until=NOW,
    )
    assert figures.by_severity == {"P0": 1, "P1": 2, "P2": 1, "P3": 0}
    assert figures.total == 4
    assert figures.mtta is not None
    assert (figures.mtta.median, figures.mtta.count) == (10 * M, 3)
    assert figures.mttr is not None
    assert (figures.mttr.median, figures.mttr.count) == (180 * M, 2)
    assert (figures.respond.met, figures.respond.decided) == (2, 4)
    assert (figures.resolve.met, figures.resolve.decided) == (1, 2)
    assert figures.pages == [("bob", 3), ("carol", 1), ("dave", 1)]
    assert [g.incident_id for g in figures.groups] == [2, 1]  # most firing first; 5 is older
    lines = stats.blocks(figures)
    assert lines[0].key == "stats.count"
    assert lines[3].params == {"met": 2, "decided": 4, "percent": 50}
    assert [line.key for line in lines[-3:]] == ["stats.groups", "stats.group", "stats.group"]
    # The weekly report's chart: per severity, how many, and the medians of those that were.
    assert figures.bars == (
        ResponseBar("P0", 1, mtta=5 * M, mttr=60 * M),
        ResponseBar("P1", 2, mtta=20 * M, mttr=300 * M),
        ResponseBar("P2", 1),
        ResponseBar("P3", 0),
    )


def test_for_one_service_only_its_incidents_pages_count() -> None:
    figures = stats.compute(
        [incident(1, acked=5)],
        paged=[(1, ["bob"]), (None, ["dave"]), (9, ["erin"])],
        groups=[],
        since=T0,
        until=NOW,
        service="web",
    )
    assert figures.pages == [("bob", 1)]


def test_an_empty_window_says_so() -> None:
    figures = stats.compute([], paged=[], groups=[], since=T0, until=NOW)
    message = stats.message(figures)
    assert [b.key for b in message.blocks] == ["stats.header", "stats.none"]
    assert [line.key for line in stats.blocks(figures)] == ["stats.none"]


def test_nothing_acknowledged_or_resolved_yet_says_so_line_by_line() -> None:
    figures = stats.compute([incident(1, at=NOW - M)], paged=[], groups=[], since=T0, until=NOW)
    assert [line.key for line in stats.blocks(figures)] == [
        "stats.count",
        "stats.mtta_none",
        "stats.mttr_none",
        "stats.sla_respond_none",
        "stats.sla_resolve_none",
        "stats.pages_none",
    ]
