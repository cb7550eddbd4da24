"""Maintenance windows: a time when a service's alerts and missed heartbeats are noted but
page nobody and open no incident. Pure: when a window may run, what it keeps of what
arrived, and what its end says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from playbooks.errors import UsageError
from playbooks.incidents.alerts import FIRING, RESOLVED, Alert, Notification
from playbooks.messages import Message, MessageField, Text, raw, t

KIND = "maintenance.end"  # the timer that ends a window when its time is up
MAX_LENGTH = timedelta(days=7)  # longer is a silence nobody will remember to lift
MAX_AHEAD = timedelta(days=90)  # how far ahead one may be planned
KEPT = 10  # lines of what arrived kept to say at the end; the rest are counted
HELD_GROUPS = 200  # alert groups remembered to go to the intake at the end
AFTER_KIND = "maintenance.after"  # the timer that hands held groups still firing on
MAX_LINE = 300


def timer_key(window_id: int) -> str:
    return f"maintenance:{window_id}:end"


def after_key(window_id: int) -> str:
    return f"maintenance:{window_id}:after"


def passes(n: Notification, *, its_incident_open: bool) -> bool:
    """Does a notification go on to the intake despite a window? Only a group resolving
    the incident it fed before the window: a resolution pages nobody, and the incident
    should not stay open for want of it. Everything else is held."""
    return n.status == RESOLVED and its_incident_open


def held(groups: Mapping[str, Any], n: Notification) -> dict[str, Any]:
    """The window's held groups with ``n`` as its group's latest news. Alertmanager
    repeats an unchanged group as the same event, which the ledger drops: a group still
    firing when the window ends would never page unless it is handed on then."""
    found = dict(groups)
    key = n.group_hash()
    if key in found or len(found) < HELD_GROUPS:
        found[key] = _to_json(n)
    return found


def still_firing(groups: Mapping[str, Any]) -> list[Notification]:
    """The held groups whose latest news was firing, in the order they were first held."""
    return [_from_json(data) for data in groups.values() if data.get("status") == FIRING]


def _to_json(n: Notification) -> dict[str, Any]:
    return {
        "source": n.source,
        "group_key": n.group_key,
        "status": n.status,
        "alerts": [
            {
                "fingerprint": a.fingerprint,
                "status": a.status,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
            }
            for a in n.alerts
        ],
        "common_labels": dict(n.common_labels),
        "common_annotations": dict(n.common_annotations),
        "truncated": n.truncated,
        "severity": n.severity,
    }


def _from_json(data: Mapping[str, Any]) -> Notification:
    return Notification(
        source=data["source"],
        group_key=data["group_key"],
        status=data["status"],
        alerts=tuple(Alert(**a) for a in data["alerts"]),
        common_labels=data["common_labels"],
        common_annotations=data["common_annotations"],
        truncated=data["truncated"],
        severity=data["severity"],
    )


@dataclass(frozen=True, slots=True)
class Span:
    starts_at: datetime
    ends_at: datetime


def plan(*, now: datetime, until: timedelta | datetime, at: datetime | None) -> Span:
    """When a window asked for at ``now`` runs: from ``at`` (else now) for ``until``, or
    until the time ``until``. Refuses, in one sentence, an end at or before the start,
    a start in the past, and a window or a plan too long to mean what it says."""
    starts_at = now if at is None else at
    if at is not None and at < now - timedelta(minutes=1):
        raise UsageError(t("maintenance.start_passed", at=at))
    if at is not None and at - now > MAX_AHEAD:
        raise UsageError(t("maintenance.too_far", at=at, limit=MAX_AHEAD))
    ends_at = starts_at + until if isinstance(until, timedelta) else until
    if ends_at <= starts_at:
        raise UsageError(t("maintenance.end_before_start", ends=ends_at, starts=starts_at))
    if ends_at - starts_at > MAX_LENGTH:
        raise UsageError(t("maintenance.too_long", length=ends_at - starts_at, limit=MAX_LENGTH))
    return Span(max(starts_at, now), ends_at)


@dataclass(frozen=True, slots=True)
class Arrivals:
    """What arrived during a window with no incident to note it on."""

    lines: tuple[str, ...] = ()
    count: int = 0

    def with_line(self, line: str) -> Arrivals:
        kept = self.lines if len(self.lines) >= KEPT else (*self.lines, line[:MAX_LINE])
        return Arrivals(kept, self.count + 1)


def arrival(at: datetime, line: str) -> str:
    return f"{at:%H:%M} UTC {line}"


def started(
    *,
    window_id: int,
    service: str,
    span: Span,
    reason: str,
    freeze: bool,
    now: datetime,
) -> Message:
    key = "maintenance.started" if span.starts_at <= now else "maintenance.planned"
    blocks: list[Text] = [
        t(
            key,
            id=window_id,
            service=service,
            starts=span.starts_at,
            ends=span.ends_at,
            length=span.ends_at - span.starts_at,
            reason=raw(reason),
        ),
        t("maintenance.freezes" if freeze else "maintenance.releases_unaffected"),
    ]
    return Message(blocks=tuple(blocks))


def ended(
    *,
    window_id: int,
    service: str,
    arrivals: Arrivals,
    ended_by: str | None,
) -> Message:
    """The one post at a window's end: that it is over, and what arrived during it."""
    head = (
        t("maintenance.ended_by", id=window_id, service=service, actor=ended_by)
        if ended_by
        else t("maintenance.ended", id=window_id, service=service)
    )
    blocks: list[Text] = [head]
    if arrivals.count:
        shown = "\n".join(f"• {line}" for line in arrivals.lines)
        more = arrivals.count - len(arrivals.lines)
        blocks.append(t("maintenance.arrived", count=arrivals.count, lines=raw(shown)))
        if more > 0:
            blocks.append(t("maintenance.arrived_more", more=more))
    else:
        blocks.append(t("maintenance.nothing_arrived"))
    return Message(blocks=tuple(blocks))


@dataclass(frozen=True, slots=True)
class WindowView:
    id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    freeze: bool
    created_by: str
    arrived: int


def listing(windows: Sequence[WindowView], *, now: datetime) -> Message:
    """``/maintenance list``: windows in force, then those to come."""
    if not windows:
        return Message.of(t("maintenance.none"))
    fields = []
    for w in windows:
        state = "maintenance.state.on" if w.starts_at <= now else "maintenance.state.planned"
        fields.append(
            MessageField(
                t("maintenance.line_label", id=w.id, service=w.service),
                t(
                    "maintenance.line",
                    state=t(state),
                    starts=w.starts_at,
                    ends=w.ends_at,
                    reason=raw(w.reason),
                    actor=w.created_by,
                    freeze=t("maintenance.line_freeze") if w.freeze else raw(""),
                    arrived=w.arrived,
                ),
            )
        )
    return Message(blocks=(t("maintenance.header", count=len(windows)),), fields=tuple(fields))
