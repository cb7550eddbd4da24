"""Effects: what a transition asks the world to do, written to the outbox with the state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from playbooks.messages import Message

if TYPE_CHECKING:
    from playbooks.releases.machine import Release
    from playbooks.reports.subscriptions import ReportAsk


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a message goes: a channel on a platform (``console``, ``#ops``)."""

    platform: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}"

    @classmethod
    def parse(cls, address: str, *, default_platform: str = "console") -> Conversation:
        """``#releases`` (on the default platform) or ``slack:C0123``."""
        platform, sep, channel = address.partition(":")
        if sep and platform and not platform.startswith("#"):
            return cls(platform, channel)
        return cls(default_platform, address)


class Priority(IntEnum):
    """Which conversations of a platform get their turn first when its limits bite (a
    storm): pages and acknowledgements before ordinary news before reports and progress.
    Order within one conversation never changes."""

    PAGE = 0
    NORMAL = 1
    REPORT = 2


@dataclass(frozen=True, slots=True)
class Post:
    """``edit_key`` names a message this one revises (a progress report): platforms that
    can edit change the last one of that key in place, the others post anew.
    ``revision_only``: a revision that says nothing new (fresher readings of an unchanged
    report) is an edit where the platform edits and nothing elsewhere."""

    conversation: Conversation
    message: Message
    edit_key: str | None = None
    priority: Priority = Priority.NORMAL
    revision_only: bool = False


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """``unless_in`` names conversations the same news is posted in: someone who is a
    member of one of them is not sent this copy (one message per person per event).
    ``spends_page_budget``: a page's notification or an ack reminder, counted against the
    person's page budget and held past it (``playbooks.oncall.budget``). ``ways``,
    ``every_way`` and ``page_id``: how a page's step reaches the person (its ``via``)."""

    person: str
    message: Message
    priority: Priority = Priority.NORMAL
    unless_in: tuple[Conversation, ...] = ()
    spends_page_budget: bool = False
    # How to reach the person: these ways (platforms) in order, the next tried when one
    # fails; () their own ways in people.yaml's order. ``every_way``: all at once.
    ways: tuple[str, ...] = ()
    every_way: bool = False
    # A page's notification: the ways tried and failed are written on its timeline.
    page_id: int | None = None


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Fire ``kind`` with ``payload`` at ``due_at``; re-arming a key moves the timer."""

    key: str
    kind: str
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelTimer:
    key: str


@dataclass(frozen=True, slots=True)
class SetTraffic:
    """Move a service's traffic, through the outbox: delivered at least once, always
    with the same ``key``, so a backend that honours it applies the change once."""

    service: str
    version: str
    percent: float
    stage: str
    key: str
    rollback: bool = False
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "version": self.version,
            "percent": self.percent,
            "stage": self.stage,
            "key": self.key,
            "rollback": self.rollback,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SetTraffic:
        return cls(
            service=data["service"],
            version=data["version"],
            percent=float(data["percent"]),
            stage=data["stage"],
            key=data["key"],
            rollback=bool(data.get("rollback", False)),
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True, slots=True)
class GuardQuery:
    name: str
    query: str


@dataclass(frozen=True, slots=True)
class Measure:
    """Read a release's guard metrics now, then report the readings back.

    Not durable on purpose: a measurement lost to a crash is simply taken again at
    the next tick.
    """

    release_id: int
    attempt: int
    stage: int
    at: datetime
    service: str
    version: str
    stage_name: str
    source: str
    guards: tuple[GuardQuery, ...]


@dataclass(frozen=True, slots=True)
class ReportMetric:
    name: str
    query: str  # with {service} and {window}
    chart: bool = False
    simulated: float | None = None


@dataclass(frozen=True, slots=True)
class ResponseBar:
    """One severity in a report's response chart: the incidents opened at it in the
    period, and the median time to acknowledge and to resolve those that were."""

    severity: str
    opened: int
    mtta: timedelta | None = None
    mttr: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ReadReport:
    """Read a report's metrics (instant values over ``window`` at ``at``, and a chart's
    series from ``chart_start``), then hand them back with ``request`` to be posted.

    Not durable, like ``Measure``: the run it belongs to is already recorded, so a
    report lost to a crash is not posted twice.
    """

    request: ReportAsk
    services: tuple[str, ...]
    metrics: tuple[ReportMetric, ...]
    at: datetime
    window: str  # a PromQL range, like 24h or 7d
    chart_start: datetime
    chart_step: timedelta
    # the weekly report's response figures, drawn as bars under the metrics; none when
    # no incident was opened in the period
    response: tuple[ResponseBar, ...] = ()


@dataclass(frozen=True, slots=True)
class Watch:
    """Read a live release's guards every ``plan.tick``, first at ``start`` (None: keep
    the cadence already running, or begin now), as ``release`` now stands.

    Not a durable timer on purpose: the bot keeps this schedule in memory and rebuilds it
    from the releases when it starts. A gap of more than three intervals between samples
    counts as no evidence, so a tick lost to a crash is harmless.
    """

    release: Release
    start: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unwatch:
    release_id: int


@dataclass(frozen=True, slots=True)
class OpenRoom:
    """Make an incident its own conversation, through the outbox (once, with replicas):
    ``conversation`` is how Shipwatch addresses it (``#inc-42``), ``name`` what the platform
    calls it; ``summary`` is posted in it and pinned, and revised under ``summary_key``.
    Where no room can be made, posts to the room go to ``fallback``."""

    incident_id: int
    conversation: Conversation
    name: str
    topic: str
    summary: Message
    summary_key: str
    fallback: Conversation
    close_after: timedelta


@dataclass(frozen=True, slots=True)
class InviteToRoom:
    """Bring people (handles) into a room; nothing where it fell back to a shared channel."""

    conversation: Conversation
    people: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CloseRoom:
    """Archive (or close) a room once its incident is over."""

    conversation: Conversation


Effect = (
    Post
    | DirectMessage
    | ArmTimer
    | CancelTimer
    | SetTraffic
    | Measure
    | ReadReport
    | Watch
    | Unwatch
    | OpenRoom
    | InviteToRoom
    | CloseRoom
)
