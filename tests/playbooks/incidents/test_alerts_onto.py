"""What an alert notification does to an incident that exists already, decided without a
database: it resolves it, raises its severity, or adds a line to its digest."""

from __future__ import annotations

from datetime import UTC, datetime

from playbooks.effects import Conversation
from playbooks.incidents.alerts import Action, Digested, Onto, may_page, onto
from playbooks.incidents.machine import Incident, IncidentState
from playbooks.incidents.policy import default_settings

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def incident(state: IncidentState = IncidentState.OPEN, severity: str = "P2") -> Incident:
    return Incident(
        id=7,
        title="x",
        severity=severity,
        state=state,
        service="web",
        channel=Conversation("console", "#incidents"),
        opened_at=T0,
        opened_by="alertmanager",
        policy=default_settings().policy,
        commander="shipwatch",
    )


def decided(
    action: Action,
    *,
    state: IncidentState = IncidentState.OPEN,
    severity: str = "P2",
    others_firing: int = 0,
    resolve_when_resolved: bool = True,
) -> Onto:
    return onto(
        action,
        incident=incident(state),
        severity=severity,
        others_firing=others_firing,
        resolve_when_resolved=resolve_when_resolved,
    )


def test_the_last_group_resolving_resolves_the_incident() -> None:
    assert decided(Action.RESOLVE) == Onto(resolves=True)


def test_a_group_resolving_while_others_fire_is_gathered_into_the_digest() -> None:
    assert decided(Action.RESOLVE, others_firing=2) == Onto(digested=Digested.RESOLVED)


def test_settings_that_keep_incidents_open_only_gather_the_resolved_group() -> None:
    kept = decided(Action.RESOLVE, resolve_when_resolved=False)
    assert kept == Onto(digested=Digested.RESOLVED)


def test_a_group_resolving_on_a_resolved_incident_is_only_noted() -> None:
    for state in (IncidentState.RESOLVED, IncidentState.CLOSED):
        assert decided(Action.RESOLVE, state=state) == Onto()


def test_resolved_news_never_raises_the_severity() -> None:
    assert decided(Action.RESOLVE, severity="P0", others_firing=1).raised_to is None


def test_a_more_severe_group_raises_the_incident() -> None:
    assert decided(Action.UPDATE, severity="P0") == Onto(raised_to="P0")
    assert decided(Action.JOIN, severity="P1") == Onto(raised_to="P1", digested=Digested.JOINED)


def test_a_group_as_severe_or_less_leaves_the_severity() -> None:
    assert decided(Action.UPDATE, severity="P2") == Onto()
    assert decided(Action.UPDATE, severity="P3") == Onto()
    assert decided(Action.JOIN, severity="P3") == Onto(digested=Digested.JOINED)


def test_only_joining_or_updating_may_call_for_a_page() -> None:
    assert may_page(Action.JOIN)
    assert may_page(Action.UPDATE)
    assert not may_page(Action.OPEN)  # the new incident pages as it opens
    assert not may_page(Action.RESOLVE)
    assert not may_page(Action.IGNORE)
