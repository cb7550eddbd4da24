"""The report subscriptions summaries.yaml asks for, made real at start-up: each created
once (two replicas starting together create it once), none revived after a person
unsubscribed it, and one turned off (``enabled: false``) or dropped from the file stopped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from commands.reports.runs import view
from playbooks.effects import Conversation
from playbooks.reports import notes as summary_notes
from playbooks.reports import subscriptions as rules
from playbooks.reports.metrics import ConfiguredSubscription, SummarySettings
from playbooks.reports.schedule import ReportKind, parse_at
from storage.models import SummarySubscription
from storage.repositories import timers
from storage.unit_of_work import unit_of_work

CONFIG = "config:"


def sync_subscriptions(
    engine: Engine, settings: SummarySettings, *, tz: str, home_platform: str, now: datetime
) -> int:
    """Create the configured subscriptions not yet in the database; returns how many."""
    created = 0
    for wanted in settings.subscriptions:
        if wanted.enabled:
            created += _create_once(
                engine, wanted, settings=settings, tz=tz, home_platform=home_platform, now=now
            )
    keep = {w.origin for w in settings.subscriptions if w.enabled}
    with unit_of_work(engine) as session:
        stale = session.exec(
            select(SummarySubscription).where(
                col(SummarySubscription.origin).startswith(CONFIG),
                SummarySubscription.state == "active",
            )
        ).all()
        for row in stale:
            if row.origin not in keep:
                row.state = "cancelled"
                session.add(row)
                timers.cancel(session, key=rules.timer_key(row.id or 0))
    return created


def _create_once(
    engine: Engine,
    wanted: ConfiguredSubscription,
    *,
    settings: SummarySettings,
    tz: str,
    home_platform: str,
    now: datetime,
) -> int:
    conversation = Conversation.parse(wanted.channel, default_platform=home_platform)
    kind = ReportKind(wanted.report)
    try:
        with unit_of_work(engine) as session:
            known = session.exec(
                select(SummarySubscription).where(SummarySubscription.origin == wanted.origin)
            ).first()
            if known is not None:
                return 0  # running, or unsubscribed by a person: theirs to decide now
            row = SummarySubscription(
                platform=conversation.platform,
                channel=conversation.channel,
                kind=kind.value,
                at=parse_at(wanted.at, kind=kind).describe(),
                timezone=wanted.timezone or settings.timezone or tz,
                services=list(wanted.services),
                created_by="shipwatch",
                created_at=now,
                origin=wanted.origin,
            )
            session.add(row)
            session.flush()
            scheduled, arm = rules.arm_next(view(row), after=now, settings=settings)
            row.next_run_at = scheduled
            session.add(row)
            ask = summary_notes.reminder_timer(row.id or 0, kind, scheduled, settings=settings)
            for timer in (arm, *([ask] if ask is not None and ask.due_at > now else [])):
                timers.arm(
                    session,
                    key=timer.key,
                    kind=timer.kind,
                    due_at=timer.due_at,
                    payload=timer.payload,
                    now=now,
                )
    except IntegrityError:
        return 0  # another replica created it first
    return 1
