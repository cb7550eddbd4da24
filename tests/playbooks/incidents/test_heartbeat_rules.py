"""The rules of heartbeats, pure: when a beat is missed, and what a miss tells the intake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playbooks.incidents import heartbeats as rules
from playbooks.incidents.alerts import FIRING, RESOLVED, AlertSettings
from playbooks.incidents.heartbeats import Beat, Heartbeat

AT = datetime(2026, 11, 23, 1, tzinfo=UTC)
BACKUP = Heartbeat("nightly-backup", "orders", timedelta(hours=24), timedelta(hours=1), "P1")


def test_a_beat_is_missed_once_interval_and_grace_have_passed() -> None:
    beat = Beat(AT, 1)
    assert rules.due_at(BACKUP, AT) == AT + timedelta(hours=25)
    assert not rules.overdue(BACKUP, beat, now=AT + timedelta(hours=24, minutes=59))
    assert rules.overdue(BACKUP, beat, now=AT + timedelta(hours=25))
    # Known to be missing already: not missed a second time.
    missing = Beat(AT, 1, missing_since=AT + timedelta(hours=25))
    assert not rules.overdue(BACKUP, missing, now=AT + timedelta(hours=30))


def test_a_miss_is_a_firing_group_of_its_own_with_the_configured_severity() -> None:
    settings = AlertSettings(service_labels=("app", "service"))
    n = rules.missed(BACKUP, service_labels=settings.service_labels)
    assert (n.source, n.group_key, n.status) == ("heartbeat", "heartbeat:nightly-backup", FIRING)
    assert settings.severity_of(n) == "P1"
    assert settings.service_of(n) == "orders"  # read from alerts.yaml's first service label
    back = rules.back(BACKUP)
    assert back.status == RESOLVED
    assert back.group_hash() == n.group_hash()  # the same group: it resolves the incident


def test_the_listing_shows_never_on_time_and_missing() -> None:
    export = Heartbeat("export", "web", timedelta(minutes=30), timedelta(minutes=5), "P2")
    idle = Heartbeat("idle", "web", timedelta(hours=1), timedelta(minutes=5), "P3")
    message = rules.listing(
        {"nightly-backup": BACKUP, "export": export, "idle": idle},
        {"nightly-backup": Beat(AT, 3), "export": Beat(AT - timedelta(hours=2), 9)},
        now=AT + timedelta(hours=1),
    )
    states = {str(f.label.params["text"]): f.value.params["state"].key for f in message.fields}
    assert states == {
        "export": "heartbeat.state.missing",
        "idle": "heartbeat.state.never",
        "nightly-backup": "heartbeat.state.ok",
    }
    assert message.severity == "warning"
    assert rules.listing({}, {}, now=AT).blocks[0].key == "heartbeat.none"
