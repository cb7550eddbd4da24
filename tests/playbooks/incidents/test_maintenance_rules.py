"""The rules of maintenance windows, pure: when one may run, and what its end says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from playbooks.errors import UsageError
from playbooks.incidents import maintenance as rules

NOW = datetime(2026, 11, 23, 1, tzinfo=UTC)


def test_a_window_runs_from_now_or_from_at_for_a_duration_or_until_a_time() -> None:
    assert rules.plan(now=NOW, until=timedelta(hours=2), at=None) == rules.Span(
        NOW, NOW + timedelta(hours=2)
    )
    later = NOW + timedelta(days=1)
    assert rules.plan(now=NOW, until=later + timedelta(hours=1), at=later) == rules.Span(
        later, later + timedelta(hours=1)
    )
    # A start a few seconds ago (the time it took to type) starts now.
    assert (
        rules.plan(now=NOW, until=timedelta(hours=1), at=NOW - timedelta(seconds=20)).starts_at
        == NOW
    )


@pytest.mark.parametrize(
    ("until", "at", "key"),
    [
        (NOW - timedelta(hours=1), None, "maintenance.end_before_start"),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=2), "maintenance.end_before_start"),
        (NOW + timedelta(hours=2), NOW + timedelta(hours=2), "maintenance.end_before_start"),
        (timedelta(days=8), None, "maintenance.too_long"),
        (timedelta(hours=1), NOW - timedelta(hours=1), "maintenance.start_passed"),
        (timedelta(hours=1), NOW + timedelta(days=200), "maintenance.too_far"),
    ],
)
def test_impossible_windows_are_refused_with_one_sentence(
    until: timedelta | datetime, at: datetime | None, key: str
) -> None:
    with pytest.raises(UsageError) as refused:
        rules.plan(now=NOW, until=until, at=at)
    assert refused.value.text.key == key


def test_what_arrived_is_counted_and_the_list_kept_short() -> None:
    arrivals = rules.Arrivals()
    for n in range(rules.KEPT + 3):
        arrivals = arrivals.with_line(f"Alert{n}")
    assert arrivals.count == rules.KEPT + 3
    assert len(arrivals.lines) == rules.KEPT
    message = rules.ended(window_id=3, service="web", arrivals=arrivals, ended_by=None)
    assert [b.key for b in message.blocks] == [
        "maintenance.ended",
        "maintenance.arrived",
        "maintenance.arrived_more",
    ]
    assert message.blocks[2].params["more"] == 3
    quiet = rules.ended(window_id=3, service="web", arrivals=rules.Arrivals(), ended_by="carol")
    assert [b.key for b in quiet.blocks] == ["maintenance.ended_by", "maintenance.nothing_arrived"]


def test_only_a_group_resolving_its_open_incident_passes_a_window() -> None:
    from playbooks.incidents.alerts import Alert, Notification

    def n(status: str) -> Notification:
        return Notification("alertmanager", "k", status, (Alert("f", status, {"a": "b"}),))

    assert rules.passes(n("resolved"), its_incident_open=True)
    assert not rules.passes(n("resolved"), its_incident_open=False)
    assert not rules.passes(n("firing"), its_incident_open=True)
    held = rules.held({}, n("firing"))
    assert [x.status for x in rules.still_firing(held)] == ["firing"]
    assert rules.still_firing(rules.held(held, n("resolved"))) == []
