"""What a transaction changed, as topics a web page can follow: ``incident:42`` and
``incidents``, ``page:7`` and ``pages``, ``release:3`` and ``releases``, ``oncall``,
``reports``, ``audit`` (and ``sessions:<handle>``, for the event streams themselves).

The topics are read off the rows each flush writes, not declared by each command: every
writer (a command, a timer, an alert arriving, a guard reading, the delivery worker) goes
through the ORM, so a page is told of a change whoever made it, and no handler can forget
to say so. A topic is published only when its transaction commits; on PostgreSQL it is
also sent with NOTIFY in that transaction, so the other replicas hear it (on commit, and
only then).

A process registers what to do with the topics of an engine's commits (``watch``); an
engine nobody watches costs a set lookup per flush."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession

from storage import models, notices

# The NOTIFY payload: "web <origin> <topic> <topic>…" (PostgreSQL takes up to 8000 bytes).
PREFIX = "web"
MAX_PAYLOAD = 7000
_KEY = "shipwatch.topics"
# A person's console sessions changed (signed out): their open streams look again.
SESSIONS = "sessions:"

Publish = Callable[[frozenset[str]], None]
_watchers: weakref.WeakKeyDictionary[Engine, tuple[str, Publish]] = weakref.WeakKeyDictionary()


def watch(engine: Engine, publish: Publish, *, origin: str) -> None:
    """Call ``publish`` with the topics of each transaction committed on ``engine`` (on
    the thread that committed); ``origin`` names this process in the NOTIFY payload, so
    that it can tell its own notices from other replicas'."""
    _watchers[engine] = (origin, publish)


def unwatch(engine: Engine) -> None:
    _watchers.pop(engine, None)


def topics_of(row: object) -> Iterable[str]:
    """The topics a written row touches."""
    match row:
        case models.IncidentRow(id=int() as incident):
            return (f"incident:{incident}", "incidents")
        case (
            models.IncidentEvent(incident_id=incident)
            | models.IncidentAction(incident_id=incident)
            | models.IncidentRoom(incident_id=incident)
            | models.AlertGroup(incident_id=incident)
        ):
            return (f"incident:{incident}", "incidents")
        case models.PageRow(id=int() as page, incident_id=incident):
            about = (f"page:{page}", "pages", "oncall")
            return about if incident is None else (*about, f"incident:{incident}")
        case models.PageEvent(page_id=page):
            return (f"page:{page}", "pages", "oncall")
        case models.ReleaseRow(id=int() as release):
            return (f"release:{release}", "releases")
        case models.ReleaseEvent(release_id=release) | models.ReleaseLaunch(release_id=release):
            return (f"release:{release}", "releases")
        case models.ProcedureRun(release_id=int() as release):
            return (f"release:{release}", "releases")
        case models.DeployFreeze():
            return ("releases",)
        case models.RotationVersion() | models.OncallChange():
            return ("oncall",)
        case (
            models.SummaryRun()
            | models.SummaryNote()
            | models.SummarySubscription()
            | models.SentReport()
        ):
            return ("reports",)
        case models.MaintenanceWindow():
            return ("incidents",)
        case models.AuditEntry():
            return ("audit",)
        case models.WebSession(handle=handle):
            return (f"{SESSIONS}{handle}",)
    return ()


def payload(origin: str, topics: Iterable[str]) -> str:
    """The NOTIFY payload; a change too wide to list (a bulk import) names only the
    collections, which every page of that kind follows."""
    ordered = sorted(topics)
    text_ = " ".join((PREFIX, origin, *ordered))
    if len(text_.encode()) <= MAX_PAYLOAD:
        return text_
    broad = sorted({t for t in ordered if ":" not in t})
    return " ".join((PREFIX, origin, *broad))


def read_payload(text_: str) -> tuple[str, frozenset[str]] | None:
    """(origin, topics) of a notice this module sent, else None."""
    parts = text_.split()
    if len(parts) < 2 or parts[0] != PREFIX:
        return None
    return parts[1], frozenset(parts[2:])


@event.listens_for(OrmSession, "after_flush")
def _collect(session: OrmSession, context: Any) -> None:
    bind = session.get_bind()
    watcher = _watchers.get(bind) if isinstance(bind, Engine) else None
    if watcher is None:
        return
    flushed: set[str] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        flushed.update(topics_of(row))
    if not flushed:
        return
    session.info.setdefault(_KEY, set()).update(flushed)
    # Sent with the commit (PostgreSQL holds it until then, and drops it on a rollback).
    notices.queue(session, payload(watcher[0], flushed))


@event.listens_for(OrmSession, "after_commit")
def _publish(session: OrmSession) -> None:
    topics = session.info.pop(_KEY, None)
    if not topics:
        return
    bind = session.get_bind()
    watcher = _watchers.get(bind) if isinstance(bind, Engine) else None
    if watcher is not None:
        watcher[1](frozenset(topics))


@event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop(_KEY, None)
