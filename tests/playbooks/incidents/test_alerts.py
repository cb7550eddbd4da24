"""Alerts into incidents, decided without a database: identity, severity, service, where."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from playbooks.effects import Conversation
from playbooks.incidents.alerts import (
    Action,
    Alert,
    AlertSettings,
    Notification,
    SeverityMatch,
    decide,
    describe,
    title_of,
)
from playbooks.incidents.machine import Incident, IncidentState
from playbooks.incidents.policy import default_settings

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def firing(name: str, **labels: str) -> Alert:
    return Alert(name + "-fp", "firing", {"alertname": name, **labels}, {}, "2026-11-23T01:00:00Z")


def group(*alerts: Alert, status: str = "firing", key: str = '{}:{alertname="X"}') -> Notification:
    return Notification("alertmanager", key, status, alerts)


def incident(state: IncidentState = IncidentState.OPEN) -> Incident:
    return Incident(
        id=7,
        title="x",
        severity="P2",
        state=state,
        service="web",
        channel=Conversation("console", "#incidents"),
        opened_at=T0,
        opened_by="alertmanager",
        policy=default_settings().policy,
        commander="shipwatch",
    )


def test_a_repeat_has_the_same_event_id_and_any_change_a_new_one() -> None:
    a, b = firing("A", service="web"), firing("B", service="web")
    first = group(a, b)
    assert first.event_id() == group(b, a).event_id()  # order of alerts does not matter
    assert first.event_id() != group(a).event_id()
    assert first.event_id() != group(a, b, status="resolved").event_id()
    ended = replace(a, status="resolved", ends_at="2026-11-23T01:20:00Z")
    assert first.event_id() != group(ended, b).event_id()
    assert first.event_id() != replace(first, group_key="other").event_id()
    assert first.group_hash() == group(a).group_hash()  # the same group, whatever its alerts


def test_severity_is_the_most_severe_firing_alert_and_page_wins() -> None:
    settings = AlertSettings()
    assert settings.severity_of(group(firing("A", severity="warning"))) == "P2"
    assert settings.severity_of(group(firing("A", severity="info"))) == "P3"
    mixed = group(firing("A", severity="warning"), firing("B", severity="critical"))
    assert settings.severity_of(mixed) == "P1"
    paged = group(firing("A", severity="warning", page="true"))
    assert settings.severity_of(paged) == "P0"
    # A resolved alert in the group no longer counts.
    calm = group(
        firing("A", severity="warning"),
        replace(firing("B", severity="critical"), status="resolved"),
    )
    assert settings.severity_of(calm) == "P2"
    # An explicit severity (the generic hook) is taken as it is.
    assert settings.severity_of(replace(mixed, severity="P3")) == "P3"
    custom = AlertSettings(severity_rules=(SeverityMatch({"team": "db"}, "P0"),))
    assert custom.severity_of(group(firing("A", team="db"))) == "P0"


def test_service_comes_from_the_first_label_present() -> None:
    settings = AlertSettings()
    assert settings.service_of(group(firing("A", job="api", service="web"))) == "web"
    assert settings.service_of(group(firing("A", job="api"))) == "api"
    assert settings.service_of(group(firing("A"))) is None


def test_title_and_timeline_line() -> None:
    n = replace(
        group(firing("HighErrorRate"), firing("HighErrorRate")),
        common_annotations={"summary": "5xx above 5%\n on web"},
        truncated=3,
    )
    assert title_of(n) == "HighErrorRate: 5xx above 5% on web"
    assert describe(n) == (
        'HighErrorRate: 2/2 firing (+3 not sent) [alertmanager {}:{alertname="X"}]'
    )
    assert title_of(group(Alert("f", "firing", {"job": "x"}), key="k")) == "k"


def test_where_a_notification_belongs() -> None:
    n = group(firing("A"))
    open_one, done = incident(), incident(IncidentState.RESOLVED)
    assert decide(n, group_incident=None, group_firing=False, storm=None).action is Action.OPEN
    assert decide(n, group_incident=open_one, group_firing=True, storm=None) == (
        decide(n, group_incident=open_one, group_firing=True, storm=incident())
    )
    assert decide(n, group_incident=open_one, group_firing=True, storm=None).action is Action.UPDATE
    assert decide(n, group_incident=open_one, group_firing=False, storm=None).action is Action.JOIN
    # Its incident is over: a storm takes it in, else a new incident.
    storm = replace(incident(), id=9)
    joined = decide(n, group_incident=done, group_firing=False, storm=storm)
    assert (joined.action, joined.incident) == (Action.JOIN, storm)
    assert decide(n, group_incident=done, group_firing=False, storm=None).action is Action.OPEN
    resolved = group(firing("A"), status="resolved")
    assert (
        decide(resolved, group_incident=None, group_firing=False, storm=storm).action
        is Action.IGNORE
    )
    assert (
        decide(resolved, group_incident=done, group_firing=True, storm=None).action
        is Action.RESOLVE
    )


def test_a_storm_incident_resolved_meanwhile_takes_nothing_in() -> None:
    n = group(firing("A"))
    gone = incident(IncidentState.RESOLVED)
    assert decide(n, group_incident=None, group_firing=False, storm=gone).action is Action.OPEN
