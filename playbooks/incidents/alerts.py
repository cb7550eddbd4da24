"""Alerts from monitoring, turned into incidents. Pure: what a notification means for the
incidents we have, decided without a session or a clock.

A *notification* is one delivery of an alert *group* (Alertmanager's ``groupKey``, or the
``key`` of a generic hook call). A firing group opens an incident, or joins the one its
group already feeds, or, during a storm, the recent alert incident of the same service.
A resolved group is noted on its incident, and resolves it once every group feeding it
has resolved (if the settings say so).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from playbooks.lists import listed_plain
from playbooks.messages import Message, Text, raw, t

if TYPE_CHECKING:  # incident_policy holds AlertSettings; incidents imports incident_policy
    from playbooks.incidents.machine import Incident

SEVERITIES = ("P0", "P1", "P2", "P3")
FIRING = "firing"
RESOLVED = "resolved"
MAX_TITLE = 200
MAX_SERVICE = 100  # as stored


@dataclass(frozen=True, slots=True)
class Alert:
    fingerprint: str
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: str = ""
    ends_at: str = ""


@dataclass(frozen=True, slots=True)
class Notification:
    source: str  # alertmanager | hook
    group_key: str
    status: str  # firing | resolved
    alerts: Sequence[Alert]
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    truncated: int = 0
    severity: str | None = None  # a generic hook may name it outright
    title: str | None = None  # the incident's title, where the sender words one itself

    @property
    def firing(self) -> int:
        return sum(1 for a in self.alerts if a.status == FIRING)

    def event_id(self) -> str:
        """The same notification delivered twice has the same id (Alertmanager repeats a
        group unchanged every ``repeat_interval``); any change to the group is a new one."""
        identity = [
            self.source,
            self.group_key,
            self.status,
            self.severity,
            sorted([a.fingerprint, a.status, a.starts_at, a.ends_at] for a in self.alerts),
        ]
        canonical = json.dumps(identity, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def group_hash(self) -> str:
        return hashlib.sha256(f"{self.source}\n{self.group_key}".encode()).hexdigest()

    def label(self, name: str) -> str | None:
        """A label all alerts share, else the first alert's."""
        if name in self.common_labels:
            return self.common_labels[name]
        for alert in self.alerts:
            if name in alert.labels:
                return alert.labels[name]
        return None

    def annotation(self, name: str) -> str | None:
        if self.common_annotations.get(name):
            return self.common_annotations[name]
        for alert in self.alerts:
            if alert.annotations.get(name):
                return alert.annotations[name]
        return None


@dataclass(frozen=True, slots=True)
class SeverityMatch:
    """Alerts whose labels all equal ``labels`` get ``severity``."""

    labels: Mapping[str, str]
    severity: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(name) == value for name, value in self.labels.items())


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """How alerts become incidents (``alerts.yaml``)."""

    severity_rules: Sequence[SeverityMatch] = (
        SeverityMatch({"page": "true"}, "P0"),
        SeverityMatch({"severity": "critical"}, "P1"),
        SeverityMatch({"severity": "warning"}, "P2"),
    )
    default_severity: str = "P3"
    # Seed 002 grades alerts by what they are (service down → P0, slow responses → P1,
    # …): an alert's ``alertname`` found here decides before the label rules do.
    by_alertname: Mapping[str, str] = field(default_factory=dict)
    service_labels: Sequence[str] = ("service", "job")
    channel: str = "#incidents"  # for alerts of services not in services.yaml
    storm_window: timedelta = timedelta(minutes=10)
    resolve_when_resolved: bool = True

    def severity_of(self, n: Notification) -> str:
        """The most severe level any firing alert of the group maps to."""
        if n.severity is not None:
            return n.severity
        levels = [self._level(a.labels) for a in n.alerts if a.status == FIRING]
        return min(levels or [self._level(n.common_labels)])

    def _level(self, labels: Mapping[str, str]) -> str:
        by_name = self.by_alertname.get(labels.get("alertname", ""))
        if by_name is not None:
            return by_name
        for rule in self.severity_rules:
            if rule.matches(labels):
                return rule.severity
        return self.default_severity

    def service_of(self, n: Notification) -> str | None:
        for name in self.service_labels:
            value = n.label(name)
            if value:
                return value[:MAX_SERVICE]
        return None


def more_severe(a: str, b: str) -> bool:
    return SEVERITIES.index(a) < SEVERITIES.index(b)


def title_of(n: Notification) -> str:
    if n.title:
        return " ".join(n.title.split())[:MAX_TITLE]
    name = n.label("alertname")
    summary = n.annotation("summary")
    title = f"{name}: {summary}" if name and summary else name or summary or n.group_key
    return " ".join(title.split())[:MAX_TITLE]


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """A2 before A10: runs of digits compare as numbers."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def describe(n: Notification) -> str:
    """One timeline line: which alerts, how many firing, from which group."""
    names = sorted({a.labels.get("alertname", "?") for a in n.alerts}, key=_natural)
    text = f"{listed_plain(names, empty='?')}: {n.firing}/{len(n.alerts)} firing"
    if n.truncated:
        text += f" (+{n.truncated} not sent)"
    return f"{text} [{n.source} {n.group_key[:120]}]"


class Action(StrEnum):
    OPEN = "opened"  # a new incident
    JOIN = "joined"  # a new group joins an incident (its own earlier one, or a storm's)
    UPDATE = "updated"  # the group's incident hears of a change in the group
    RESOLVE = "resolved"  # the group has resolved
    IGNORE = "ignored"  # resolved news of a group no incident knows


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    incident: Incident | None = None


def decide(
    n: Notification,
    *,
    group_incident: Incident | None,
    group_firing: bool,
    storm: Incident | None,
) -> Decision:
    """Where this notification belongs.

    ``group_incident`` is the incident the group fed last (if any) and ``group_firing``
    whether the group was firing then; ``storm`` is an unresolved alert incident of the
    same service that another group joined within the storm window.
    """
    if n.status == RESOLVED:
        if group_incident is None:
            return Decision(Action.IGNORE)
        return Decision(Action.RESOLVE, group_incident)
    if group_incident is not None and group_incident.unresolved:
        return Decision(Action.UPDATE if group_firing else Action.JOIN, group_incident)
    if storm is not None and storm.unresolved:
        return Decision(Action.JOIN, storm)
    return Decision(Action.OPEN)


class Digested(StrEnum):
    """The line a notification adds to its incident's digest."""

    JOINED = "joined"  # a group joined the incident
    RESOLVED = "resolved"  # a group resolved while others still fire


@dataclass(frozen=True, slots=True)
class Onto:
    """What a notification does to an incident that exists already: it resolves it, or
    raises its severity to ``raised_to``, and adds a line to its digest (``digested``).
    Every notification is said on the incident's timeline either way."""

    resolves: bool = False
    raised_to: str | None = None
    digested: Digested | None = None


def onto(
    action: Action,
    *,
    incident: Incident,
    severity: str,
    others_firing: int,
    resolve_when_resolved: bool,
) -> Onto:
    """What a notification ``decide`` sent to ``incident`` does to it. ``severity`` is
    what the notification's alerts map to; ``others_firing`` counts the other groups
    feeding the incident that still fire.

    A resolved group resolves an unresolved incident once no other group fires (if the
    settings say so), else it is gathered into the digest; a firing group raises the
    incident to a more severe level, and one that joins it is gathered too."""
    if action is Action.RESOLVE:
        if not incident.unresolved:
            return Onto()
        if not others_firing and resolve_when_resolved:
            return Onto(resolves=True)
        return Onto(digested=Digested.RESOLVED)
    return Onto(
        raised_to=severity if more_severe(severity, incident.severity) else None,
        digested=Digested.JOINED if action is Action.JOIN else None,
    )


def may_page(action: Action) -> bool:
    """Whether the incident a notification went to may now need a page: one that joined
    or updated it may have raised its severity to one that pages."""
    return action in (Action.JOIN, Action.UPDATE)


def storm_since(settings: AlertSettings, now: datetime) -> datetime:
    return now - settings.storm_window


# ------------------------------------------------------------------ the storm's digest

# The alerts of one storm arrive over minutes, one notification per group: what they do
# to an incident that exists already (groups joining it, groups resolving) is gathered
# for this long and said in one post, not one post per group.
DIGEST_AFTER = timedelta(minutes=2)
DIGEST_KIND = "alert.digest"
DIGEST_KEPT = 10  # lines kept per kind; the rest are counted


def digest_key(incident_id: int) -> str:
    return f"incident:{incident_id}:alert-digest"


def gathered(
    payload: Mapping[str, object] | None, *, incident_id: int, joined: str = "", resolved: str = ""
) -> dict[str, object]:
    """The digest so far (``payload`` of its pending timer, None for a new one) with one
    more group's line: ``joined`` when it joined the incident, ``resolved`` when it
    resolved without ending it."""
    found: dict[str, object] = {
        "incident": incident_id,
        "joined": [],
        "joined_more": 0,
        "resolved": [],
        "resolved_more": 0,
        **(payload or {}),
    }
    for kind, line in (("joined", joined), ("resolved", resolved)):
        if not line:
            continue
        kept = found[kind]
        lines = [str(x) for x in kept] if isinstance(kept, list) else []
        if line in lines:
            continue
        if len(lines) < DIGEST_KEPT:
            found[kind] = [*lines, line]
        else:
            found[f"{kind}_more"] = int(str(found[f"{kind}_more"])) + 1
    return found


def _lines_of(payload: Mapping[str, object], kind: str) -> tuple[list[str], int]:
    lines = payload.get(kind)
    more = payload.get(f"{kind}_more")
    return (
        [str(x) for x in lines] if isinstance(lines, list) else [],
        int(more) if isinstance(more, int) else 0,
    )


def digest(
    payload: Mapping[str, object], *, incident_id: int, title: str, still_firing: int
) -> Message | None:
    """The one post for what a storm's groups did to an incident while the digest
    gathered them; None when nothing is left to say."""
    blocks: list[Text] = []
    joined, joined_more = _lines_of(payload, "joined")
    if joined:
        blocks.append(
            t(
                "alert.group_joined",
                id=incident_id,
                title=title,
                alerts=_listed(joined, joined_more),
            )
        )
    resolved, resolved_more = _lines_of(payload, "resolved")
    if resolved:
        blocks.append(
            t(
                "alert.group_resolved",
                id=incident_id,
                alerts=_listed(resolved, resolved_more),
                firing=still_firing,
            )
        )
    return Message(blocks=tuple(blocks)) if blocks else None


def _listed(lines: Sequence[str], more: int) -> Text:
    if not more:
        return raw("; ".join(lines))
    return t("list.and_more", items="; ".join(lines), more=more)
