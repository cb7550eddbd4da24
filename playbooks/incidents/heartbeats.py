"""Heartbeats (a dead man's switch): scheduled work says it ran by calling in; when a call
is missing past its interval and grace, that is an alert like any other. Pure: when a
beat is due, what a missed or returning beat says to the alert intake, and the list."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from playbooks.incidents.alerts import FIRING, RESOLVED, Alert, Notification
from playbooks.messages import Message, MessageField, Severity, Text, raw, t

SOURCE = "heartbeat"  # the alert source of a missed beat, and the actor on the timeline
KIND = "heartbeat.due"  # the timer that fires when the next beat is overdue


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One entry of ``heartbeats.yaml``."""

    name: str
    service: str
    interval: timedelta
    grace: timedelta
    severity: str
    # Its incident's title in each language Shipwatch speaks, as (locale, title): "No
    # heartbeat from nightly-backup for 1h 10m"; worded from the catalog when loaded.
    titles: tuple[tuple[str, str], ...] = ()

    @property
    def allowed(self) -> timedelta:
        """How long after a beat the next may come before it counts as missed."""
        return self.interval + self.grace

    def title_in(self, locale: str) -> str | None:
        """Its incident's title in ``locale`` (else the first language it has one in;
        None without titles, and the alert's name is its title)."""
        found = dict(self.titles)
        return found.get(locale) or next(iter(found.values()), None)


@dataclass(frozen=True, slots=True)
class Beat:
    """What is known of a heartbeat's beats (its stored row)."""

    last_at: datetime
    count: int
    missing_since: datetime | None = None


def timer_key(name: str) -> str:
    return f"heartbeat:{name}:due"


def due_at(heartbeat: Heartbeat, last_beat: datetime) -> datetime:
    """When the beat after ``last_beat`` is missed."""
    return last_beat + heartbeat.allowed


def group_key(name: str) -> str:
    """The alert group a heartbeat's outages feed: one group, so one incident an outage."""
    return f"heartbeat:{name}"


def _notification(
    heartbeat: Heartbeat, status: str, *, service_labels: Sequence[str], title: str | None = None
) -> Notification:
    labels = {"alertname": group_key(heartbeat.name), "service": heartbeat.service}
    for name in service_labels[:1]:  # where alerts.yaml reads a service from
        labels.setdefault(name, heartbeat.service)
    fingerprint = hashlib.sha256(heartbeat.name.encode()).hexdigest()[:16]
    return Notification(
        source=SOURCE,
        group_key=group_key(heartbeat.name),
        status=status,
        alerts=(Alert(fingerprint=fingerprint, status=status, labels=labels),),
        common_labels=labels,
        severity=heartbeat.severity,
        title=title,
    )


def missed(
    heartbeat: Heartbeat, *, service_labels: Sequence[str] = (), locale: str = "en"
) -> Notification:
    """A missed beat, told to the alert intake as a firing group of its own; the incident
    it opens is titled in ``locale``, the language of the channel its news goes to."""
    return _notification(
        heartbeat, FIRING, service_labels=service_labels, title=heartbeat.title_in(locale)
    )


def back(heartbeat: Heartbeat, *, service_labels: Sequence[str] = ()) -> Notification:
    """The beat after an outage: the group resolves, and with it the incident."""
    return _notification(heartbeat, RESOLVED, service_labels=service_labels)


def overdue(heartbeat: Heartbeat, beat: Beat, *, now: datetime) -> bool:
    """Is the next beat missed at ``now`` (and not already known to be)?"""
    return beat.missing_since is None and now >= due_at(heartbeat, beat.last_at)


def listing(
    heartbeats: Mapping[str, Heartbeat], beats: Mapping[str, Beat], *, now: datetime
) -> Message:
    """``/heartbeats``: each one, its service and rhythm, and its last beat."""
    if not heartbeats:
        return Message.of(t("heartbeat.none"))
    fields = []
    late = False
    for name in sorted(heartbeats):
        heartbeat = heartbeats[name]
        beat = beats.get(name)
        state: Text
        if beat is None:
            state = t("heartbeat.state.never")
        elif beat.missing_since is not None or now >= due_at(heartbeat, beat.last_at):
            late = True
            state = t("heartbeat.state.missing", last=beat.last_at, ago=now - beat.last_at)
        else:
            state = t("heartbeat.state.ok", last=beat.last_at, ago=now - beat.last_at)
        fields.append(
            MessageField(
                raw(name),
                t(
                    "heartbeat.line",
                    service=heartbeat.service,
                    interval=heartbeat.interval,
                    grace=heartbeat.grace,
                    severity=heartbeat.severity,
                    state=state,
                ),
            )
        )
    return Message(
        blocks=(t("heartbeat.header", count=len(heartbeats)),),
        fields=tuple(fields),
        severity=Severity.WARNING if late else Severity.INFO,
    )
