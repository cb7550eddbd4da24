"""What holds a release from deploying again: an open P0/P1 incident on its service, a
maintenance window declared with --freeze, a guard of a rolled-back attempt still
reading bad. Pure: ``now`` is a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from playbooks.incidents.machine import Incident
from playbooks.incidents.maintenance import WindowView
from playbooks.messages import Text, t
from playbooks.releases.guards import GAP_INTERVALS, GuardState, Verdict
from playbooks.releases.machine import Release
from playbooks.releases.plan import Guard


@dataclass(frozen=True, slots=True)
class Hold:
    """One reason not to go ahead: the sentence a person reads when refused by it, the
    line that names it among others (and when a release manager forces past it), and the
    plain words kept in the audit log and the release's history."""

    refusal: Text
    line: Text
    words: str


def incident_holds(service: str, incidents: Sequence[Incident], *, what: str) -> list[Hold]:
    """Each unresolved P0/P1 incident on the service holds a start or a retry."""
    return [
        Hold(
            refusal=t(
                "release.incident_refused",
                service=service,
                what=t(f"window.what.{what}"),
                id=i.id,
                severity=i.severity,
                title=i.title,
            ),
            line=t("release.blocker.incident", id=i.id, severity=i.severity, title=i.title),
            words=f"incident #{i.id} ({i.severity}) open",
        )
        for i in incidents
        if i.freezes_releases
    ]


def maintenance_holds(service: str, windows: Sequence[WindowView], *, what: str) -> list[Hold]:
    """Each maintenance window in force on the service with ``--freeze`` holds a start or
    a retry until it ends."""
    return [
        Hold(
            refusal=t(
                "release.maintenance_refused",
                service=service,
                what=t(f"window.what.{what}"),
                id=w.id,
                ends=w.ends_at,
                reason=w.reason,
            ),
            line=t("release.blocker.maintenance", id=w.id, ends=w.ends_at, reason=w.reason),
            words=f"maintenance #{w.id} (--freeze) until {w.ends_at.isoformat()}",
        )
        for w in windows
        if w.freeze
    ]


def current(guard: Guard, state: GuardState | None, *, now: datetime) -> bool:
    """Is the guard's last sample still evidence now? The same rule as between samples:
    more than three intervals without a look says nothing."""
    return state is not None and now - state.last_at <= guard.interval * GAP_INTERVALS


def guard_holds(r: Release, *, now: datetime) -> list[Hold]:
    """Each guard of a rolled-back attempt whose current reading is a breach holds its
    retry: the same traffic would meet the same reading."""
    held = []
    for guard in r.plan.guards:
        state = r.guards.get(guard.name)
        if state is None or not current(guard, state, now=now):
            continue
        if state.verdict is not Verdict.BREACH:
            continue
        reading = guard.show(state.value)
        held.append(
            Hold(
                refusal=t(
                    "release.guard_refused",
                    service=r.service,
                    guard=guard.name,
                    reading=reading,
                    threshold=guard.threshold,
                    at=state.last_at,
                ),
                line=t(
                    "release.blocker.guard_still_bad",
                    guard=guard.name,
                    reading=reading,
                    threshold=guard.threshold,
                    at=state.last_at,
                ),
                words=f"guard {guard.name} read {reading} {guard.threshold}",
            )
        )
    return held


def unread(r: Release, *, now: datetime) -> list[str]:
    """The guards with no current reading: a rolled-back release is no longer read, so a
    retry some minutes later has no evidence either way for these."""
    return [g.name for g in r.plan.guards if not current(g, r.guards.get(g.name), now=now)]
