"""The daily sweep of rows whose work is done (``storage.repositories.housekeeping``),
run by a durable timer, so with many replicas it runs once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from commands.core.context import SystemContext
from playbooks import housekeeping as rules
from playbooks.effects import ArmTimer
from storage.models import Timer
from storage.repositories import housekeeping as repo
from storage.repositories import timers
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.housekeeping")


def ensure(engine: Engine, *, keep_days: int, tz: str, now: datetime) -> None:
    """At start-up: the sweep's timer pending, with how long rows are kept as set now. A
    pending one keeps its time; one that failed or is missing is armed for the next
    sweep."""
    payload = {"keep_days": keep_days}
    with unit_of_work(engine) as session:
        existing = timers.get(session, key=rules.KEY)
        if existing is not None and existing.state == "pending":
            if existing.payload == payload:
                return
            due = existing.due_at
        else:
            due = rules.next_sweep(now, ZoneInfo(tz))
        timers.arm(session, key=rules.KEY, kind=rules.KIND, due_at=due, payload=payload, now=now)


def on_sweep(ctx: SystemContext, timer: Timer) -> None:
    keep = timedelta(days=int(timer.payload["keep_days"]))
    deleted = repo.sweep(ctx.session, before=ctx.now - keep, now=ctx.now)
    more_left = any(n >= repo.BATCH for n in deleted.values())
    if any(deleted.values()):
        log.info("swept rows whose work is done", extra={"deleted": deleted, "more": more_left})
    due = rules.after_sweep(ctx.now, ctx.tz, more_left=more_left)
    ctx.effects.append(ArmTimer(rules.KEY, rules.KIND, due, dict(timer.payload)))


TIMER_HANDLERS = {rules.KIND: on_sweep}
