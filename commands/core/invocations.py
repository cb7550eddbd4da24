"""The ways in: a person's command, a button press, a timer firing, something observed,
a call from another system."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Protocol

from playbooks.effects import Conversation, Measure, ReadReport, Unwatch, Watch
from playbooks.messages import Message


@dataclass(frozen=True, slots=True)
class CommandInvocation:
    """A command line typed by someone on some platform."""

    platform: str
    user_id: str
    conversation: Conversation
    text: str
    event_id: str | None = None  # the platform's delivery id, for the idempotency ledger


@dataclass(frozen=True, slots=True)
class ButtonPress:
    platform: str
    user_id: str
    conversation: Conversation
    action_id: str
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class TimerFired:
    key: str


class Observed(Protocol):
    """What an observation carries: a frozen dataclass defined by the room that reads it
    (``commands.releases.watch.GuardReadings`` ...), built by the bot. Its ``kind``
    names the handler that reads it."""

    kind: ClassVar[str]


@dataclass(frozen=True, slots=True)
class Observation:
    """Something the bot saw rather than was told: guard readings, a traffic backend's
    final answer. Handled like a command, without a person and without a reply."""

    payload: Observed

    def __post_init__(self) -> None:
        if not isinstance(getattr(type(self.payload), "kind", None), str):
            raise TypeError(
                f"an observation carries a payload type with a kind, not "
                f"{type(self.payload).__name__}"
            )

    @property
    def kind(self) -> str:
        return self.payload.kind


@dataclass(frozen=True, slots=True)
class Inbound:
    """A call from another system (Alertmanager, a generic incident hook), already read
    and checked by its HTTP route. ``event_id`` goes into the idempotency ledger under
    ``source``, so a delivery repeated changes nothing."""

    source: str
    kind: str
    payload: Any
    event_id: str | None = None


Invocation = CommandInvocation | ButtonPress | TimerFired | Observation | Inbound


@dataclass(slots=True)
class Outcome:
    """What came of one invocation: the reply, and what the runtime must now arm or send."""

    status: str  # ok | usage | denied | refused | error | duplicate | ignored
    command: str
    reply: Message | None = None
    reply_to: Conversation | None = None
    locale: str = "en"
    tz: tzinfo | None = None  # where the reply's reader reads times; None: the default
    armed: list[tuple[str, datetime]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    enqueued: int = 0
    enqueued_on: frozenset[str] | None = frozenset()  # their platforms; None: not known
    measure: list[Measure | ReadReport] = field(default_factory=list)  # reads to make
    watch: list[Watch | Unwatch] = field(default_factory=list)
    data: Mapping[str, Any] = field(default_factory=dict)  # an Inbound's answer to its caller
