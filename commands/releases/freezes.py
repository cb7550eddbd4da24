"""What freezes a service's releases: an unresolved P0 or P1 incident on it, and a
maintenance window declared with --freeze."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from playbooks.incidents.machine import FREEZING
from playbooks.messages import Text, t
from storage.repositories import incidents, maintenance


def freezes_for(session: Session, service: str, *, now: datetime | None = None) -> list[Text]:
    """Every blocker; maintenance windows only given ``now``."""
    rows = incidents.search(
        session, unresolved_only=True, severities=sorted(FREEZING), service=service, limit=5
    )
    found = [
        t("release.blocker.incident", id=row.id, severity=row.severity, title=row.title)
        for row in rows
    ]
    if now is not None:
        found += [
            t("release.blocker.maintenance", id=w.id, ends=w.ends_at, reason=w.reason)
            for w in maintenance.freezing(session, service=service, now=now)
        ]
    return found
