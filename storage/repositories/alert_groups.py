"""Alert groups and the incidents they feed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from storage.models import AlertGroup, IncidentRow
from storage.repositories.incidents import UNRESOLVED

# Statements read on every notification are built once: building and keying a new one
# costs several times what running it does.
_BY_HASH = select(AlertGroup).where(AlertGroup.group_hash == bindparam("group_hash"))
_BY_HASH_LOCKED = _BY_HASH.with_for_update()
_STORM = (
    select(AlertGroup.incident_id)
    .join(IncidentRow, col(IncidentRow.id) == col(AlertGroup.incident_id))
    .where(
        AlertGroup.service == bindparam("service"),
        col(AlertGroup.joined_at) >= bindparam("since"),
        col(IncidentRow.state).in_(UNRESOLVED),
    )
    .order_by(col(AlertGroup.joined_at).desc())
    .limit(1)
)


def get(session: Session, *, group_hash: str, for_update: bool = False) -> AlertGroup | None:
    query = _BY_HASH_LOCKED if for_update else _BY_HASH
    return session.exec(query, params={"group_hash": group_hash}).first()


def lock_service(session: Session, *, service: str) -> None:
    """Hold ``service``'s alert intake to this transaction, so two new groups of one
    service arriving at two replicas at once cannot both find no storm and both open an
    incident: the second waits, then folds into the first's.

    PostgreSQL takes a transaction-scoped advisory lock on a stable hash of the name.
    SQLite needs nothing: every transaction begins IMMEDIATE, holding the one write lock
    from its first read to its commit.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(service)})


def _lock_key(service: str) -> int:
    """A signed 64-bit number for ``service``, the same in every process (unlike hash())."""
    digest = hashlib.blake2b(f"alert-storm:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def storm_incident(session: Session, *, service: str, since: datetime) -> int | None:
    """The unresolved incident that a group of ``service`` joined most recently, if one
    joined at or after ``since``: the storm new groups of that service fold into."""
    return session.exec(_STORM, params={"service": service, "since": since}).first()


def of_incident(session: Session, *, incident_id: int) -> Sequence[AlertGroup]:
    query = select(AlertGroup).where(AlertGroup.incident_id == incident_id)
    return session.exec(query.order_by(col(AlertGroup.id))).all()


def save(session: Session, group: AlertGroup) -> None:
    session.add(group)
