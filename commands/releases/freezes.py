"""What freezes a service's releases: an unresolved P0 or P1 incident on it."""

from __future__ import annotations

from sqlmodel import Session

from playbooks.incidents.machine import FREEZING
from playbooks.messages import Text, t
from storage.repositories import incidents


def freezes_for(session: Session, service: str) -> list[Text]:
    rows = incidents.search(
        session, unresolved_only=True, severities=sorted(FREEZING), service=service, limit=5
    )
    return [
        t("release.blocker.incident", id=row.id, severity=row.severity, title=row.title)
        for row in rows
    ]
