"""alerts.yaml: the shipped rules, a team's own, and mistakes named by line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config.directory import load
from playbooks.incidents.alerts import Alert, Notification
from tests.support import only_problem, write


def paged(**labels: str) -> Notification:
    alert = Alert("f", "firing", {"alertname": "X", **labels})
    return Notification("alertmanager", "k", "firing", (alert,))


def test_shipped_rules_follow_the_alert_levels() -> None:
    alerts = load(None).incidents.alerts
    assert alerts.severity_of(paged(page="true")) == "P0"
    assert alerts.severity_of(paged(severity="critical")) == "P1"
    assert alerts.severity_of(paged(severity="warning")) == "P2"
    assert alerts.severity_of(paged()) == "P3"
    assert (alerts.channel, alerts.storm_window) == ("#incidents", timedelta(minutes=10))


def named(alertname: str, **labels: str) -> Notification:
    alert = Alert("f", "firing", {"alertname": alertname, **labels})
    return Notification("alertmanager", "k", "firing", (alert,))


def test_shipped_alert_names_follow_seed_002s_table_before_the_labels() -> None:
    alerts = load(None).incidents.alerts
    graded = {
        name: alerts.severity_of(named(name, severity="warning"))
        for name in (
            "ServiceDown",
            "DatabaseConnectionFailure",
            "HighErrorRate",
            "SlowResponses",
            "HighCPUUsage",
            "HighMemoryUsage",
            "DiskSpaceLow",
            "TooManyConnections",
            "SlowQueries",
        )
    }
    assert graded == {
        "ServiceDown": "P0",
        "DatabaseConnectionFailure": "P0",
        "HighErrorRate": "P0",
        "SlowResponses": "P1",
        "HighCPUUsage": "P1",
        "HighMemoryUsage": "P1",
        "DiskSpaceLow": "P2",
        "TooManyConnections": "P2",
        "SlowQueries": "P3",  # graded by its name, not its severity=warning label
    }
    # A name not in the table falls back to the labels.
    assert alerts.severity_of(named("CertificateExpiring", severity="warning")) == "P2"
    # A group takes its most severe alert, names and labels alike.
    group = Notification(
        "alertmanager",
        "k",
        "firing",
        (
            Alert("a", "firing", {"alertname": "SlowQueries"}),
            Alert("b", "firing", {"alertname": "HighCPUUsage"}),
        ),
    )
    assert alerts.severity_of(group) == "P1"


def test_a_teams_own_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        "alerts.yaml",
        """
        severity:
          - labels: {page: true, team: db}
            severity: P0
        default_severity: P2
        service_labels: [app]
        storm_window: 30m
        resolve_when_resolved: false
        """,
    )
    alerts = load(tmp_path).incidents.alerts
    assert alerts.severity_of(paged(page="true", team="db")) == "P0"  # YAML's true is "true"
    assert alerts.severity_of(paged(page="true")) == "P2"
    assert alerts.service_of(paged(app="checkout", service="web")) == "checkout"
    assert alerts.storm_window == timedelta(minutes=30)
    assert alerts.resolve_when_resolved is False


def test_a_bad_severity_is_named_with_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "alerts.yaml",
        """
        severity:
          - labels: {severity: critical}
            severity: P5
        """,
    )
    problem = only_problem(tmp_path)
    assert problem.file.endswith("alerts.yaml")
    assert problem.line == 3
    assert problem.field == "severity[0].severity"
    assert "P0" in problem.problem
