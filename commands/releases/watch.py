"""What moves a release without a person: guard ticks, readings, soaks running out, and a
traffic change that could not be delivered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlmodel import Session

from commands.core.context import SystemContext
from commands.core.observations import Reads, observing
from commands.oncall import paging
from commands.procedures import rows as procedure_rows
from commands.releases import launch_rows
from commands.releases.freezes import freezes_for
from commands.releases.rows import save, to_view
from playbooks.effects import Post
from playbooks.errors import ShipwatchError
from playbooks.messages import Message, Severity, Text, raw, t, text_to_str
from playbooks.people import BOT
from playbooks.releases import machine, watch
from playbooks.releases.guards import Reading
from playbooks.releases.machine import ReleaseState, Result
from playbooks.releases.settled import settled
from storage.models import ReleaseRow, Timer
from storage.repositories import audit, guard_readings
from storage.repositories import releases as repo

READINGS = "release.readings"
TRAFFIC_FAILED = "release.traffic_failed"


@dataclass(frozen=True, slots=True)
class GuardReadings:
    """A release's guards as read at ``at``, for the attempt and stage they were read for:
    each guard's reading by the guard's name."""

    kind: ClassVar[str] = READINGS
    release_id: int
    attempt: int
    stage: int
    at: datetime
    readings: Mapping[str, Reading]


@dataclass(frozen=True, slots=True)
class TrafficFailed:
    """A traffic change the outbox gave up on: the service, the share it was to move to,
    the change's key (``release-<id>-a<attempt>-...``), why, and its outbox row."""

    kind: ClassVar[str] = TRAFFIC_FAILED
    service: str
    percent: float
    key: str
    reason: str
    outbox_id: int


def _load(ctx: SystemContext, release_id: Any) -> ReleaseRow | None:
    return repo.get(ctx.session, release_id=int(release_id), for_update=True)


def _save(ctx: SystemContext, row: ReleaseRow, result: Result) -> None:
    result = settled(result)
    save(ctx.session, row, result, now=ctx.now)
    ctx.effects += result.effects
    ctx.effects += procedure_rows.rollback_started(
        ctx.session, ctx.directory, result.release, result.history
    )
    for entry in result.history:
        # Automatic moves are audited like a person's, with Shipwatch as the actor.
        audit.record(
            ctx.session,
            at=ctx.now,
            actor=entry.actor,
            platform="system",
            conversation=str(result.release.channel),
            command=f"release {entry.move.value}",
            text=f"{row.service} {row.version}",
            outcome="ok",
            detail=text_to_str(entry.reason) if entry.reason else "",
        )
        if entry.move is machine.Move.ROLLBACK and entry.actor == BOT:
            _page_team(ctx, row, entry.reason)


def _page_team(ctx: SystemContext, row: ReleaseRow, reason: Text | None) -> None:
    """Shipwatch rolled a release back by itself: the service's on-call hears of it. A
    page's title is stored once for readers of every language, so it holds names, figures
    and signs only ("miniapp 2.0.0 ↩ 0%: crash_rate 0.6% > 0.5%")."""
    service = ctx.releases.services.get(row.service)
    team = ctx.teams.get(service.team) if service and service.team else None
    if team is not None:
        paging.start(
            ctx,
            title=_neutral_title(row, reason)[:200],
            team=team,
            policy=team.policy,
            created_by=BOT,
        )


def _neutral_title(row: ReleaseRow, reason: Text | None) -> str:
    words = _names_and_figures(reason) if reason is not None else []
    title = f"{row.service} {row.version} ↩ 0%"
    return f"{title}: {' '.join(words)}" if words else title


def _names_and_figures(text: Text) -> list[str]:
    """The names and figures a text carries (a guard, its reading, its threshold), without
    the words of any one language; a person's own words as written."""
    if text.key == "raw":
        return [str(text.params.get("text", ""))]
    found: list[str] = []
    for value in text.params.values():
        if isinstance(value, Text):
            found += _names_and_figures(value)
        elif isinstance(value, str | int | float) and str(value):
            found.append(str(value))
    return found


def legacy_tick(ctx: SystemContext, timer: Timer) -> None:
    """A guard tick stored as a timer by an earlier version: nothing to do, the bot
    watches every live release from memory now (``live``)."""


def live(session: Session) -> list[machine.Release]:
    """Every release the guard schedule watches: rebuilt from these when the bot starts.
    A prepared release has no traffic yet, so nothing of it is read."""
    return [r for r in (to_view(row) for row in repo.active(session)) if r.active]


def live_marks(session: Session) -> dict[int, tuple[int, int, str]]:
    """Each watched release's (attempt, stage, state): enough to tell a schedule entry
    another process has moved on."""
    return {
        release_id: mark
        for release_id, mark in repo.active_marks(session).items()
        if ReleaseState(mark[2]) in machine.ACTIVE
    }


def soak_over(ctx: SystemContext, timer: Timer) -> None:
    row = _load(ctx, timer.payload["release_id"])
    if row is None or row.state != ReleaseState.IN_STAGE.value:
        return
    if row.attempt != timer.payload["attempt"] or row.stage != timer.payload["stage"]:
        return  # the release has moved on since this soak was armed
    release = to_view(row)
    held_by = freezes_for(ctx.session, row.service, now=ctx.now) + _launch_gates(ctx, release)
    _save(ctx, row, watch.soak_over(release, now=ctx.now, held_by=held_by))


def _launch_gates(ctx: SystemContext, release: machine.Release) -> list[Text]:
    """What holds a soaked stage from moving on by itself: the launch's gates."""
    if release.final_stage:
        return []
    return launch_rows.blockers(ctx, release, target=release.stage + 1)


def readings(ctx: SystemContext, payload: GuardReadings) -> None:
    # Every live release's guards are read every tick: its plan is built from its stored
    # text once, not decoded and built again each time.
    found = repo.get_with_plan_text(ctx.session, release_id=payload.release_id, for_update=True)
    if found is None or found[0].attempt != payload.attempt:
        return  # a reading for an earlier attempt says nothing about this one
    row, plan = found
    release = to_view(row, plan_text=plan)
    # What holds a release matters only where it could move on by itself: a soaked stage.
    could_move_on = release.state is ReleaseState.IN_STAGE and release.soak_left(
        ctx.now
    ) == timedelta(0)
    result = watch.evaluate(
        release,
        payload.readings,
        at=payload.at,
        now=ctx.now,
        held_by=(
            freezes_for(ctx.session, row.service, now=ctx.now) + _launch_gates(ctx, release)
            if could_move_on
            else ()
        ),
        decision_owners=launch_rows.decision_owners(ctx.directory, release),
    )
    _save(ctx, row, result)
    _keep(ctx, release, payload)


def _keep(ctx: SystemContext, release: machine.Release, payload: GuardReadings) -> None:
    """Keep the plan's guards' readings for the release page's charts (a value only: a
    reading of no data or an error is a gap in the line, its reason is on the status)."""
    watched = {guard.name for guard in release.plan.guards}
    guard_readings.add_all(
        ctx.session,
        release_id=release.id,
        at=payload.at,
        values={
            name: reading.value
            for name, reading in payload.readings.items()
            if name in watched and reading.value is not None
        },
    )


def traffic_failed(ctx: SystemContext, payload: TrafficFailed) -> None:
    """A traffic change was given up on: say so loudly, and stop the release from moving
    on traffic that may not be where Shipwatch thinks it is."""
    reason = payload.reason
    row = repo.active_for(ctx.session, service=payload.service, for_update=True)
    latest = row or repo.latest_for(ctx.session, service=payload.service)
    text = t(
        "release.traffic_failed",
        service=payload.service,
        percent=payload.percent,
        reason=reason,
        outbox_id=payload.outbox_id,
    )
    ours = row is not None and payload.key.startswith(f"release-{row.id}-a{row.attempt}-")
    if row is not None and ours and row.state != ReleaseState.PAUSED.value:
        try:
            result = machine.pause(
                to_view(row),
                actor=BOT,
                now=ctx.now,
                reason=t("release.reason.traffic_failed", reason=raw(reason)),
            )
        except ShipwatchError:
            result = None
        if result is not None:
            _save(ctx, row, result)
    if latest is not None:
        ctx.effects.append(
            Post(to_view(latest).channel, Message.of(text, severity=Severity.DANGER))
        )


TIMER_HANDLERS = {machine.TICK_KIND: legacy_tick, machine.SOAK_KIND: soak_over}
OBSERVATION_HANDLERS = observing(
    Reads(GuardReadings, readings), Reads(TrafficFailed, traffic_failed)
)
