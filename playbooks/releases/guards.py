"""Guard evaluation: each sample is ok, breach, no_data or error, and only runs of
samples act. Pure: the caller passes the time of the sample.

A guard keeps three streaks: since when it has been ``ok`` without a break, since
when it has been breaching, and since when it has had no usable reading
(``no_data`` or ``error``). A gap of more than three intervals between samples (the
bot was down) breaks every streak: no evidence is assumed for time nobody looked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from playbooks.messages import Text, as_text, raw, t, text_from_str, text_to_str
from playbooks.releases.plan import Guard

GAP_INTERVALS = 3
NO_REASON = raw("")  # an ``ok`` reading needs no explanation


class Verdict(StrEnum):
    OK = "ok"
    BREACH = "breach"
    NO_DATA = "no_data"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Reading:
    """What a metric source said: a value, no data (with why), or an error (with why).

    The why is catalog text where the bot words it; a source's own technical detail
    (a query error from Prometheus) is kept as written."""

    value: float | None = None
    no_data: Text | str | None = None
    error: Text | str | None = None

    @classmethod
    def of(cls, value: float) -> Reading:
        if math.isnan(value) or math.isinf(value):
            return cls(no_data=t("guard.why.not_a_number", value=str(value)))
        return cls(value=value)

    def to_json(self) -> dict[str, Any]:
        def why(value: Text | str | None) -> str | None:
            return text_to_str(value) if value is not None else None

        return {"value": self.value, "no_data": why(self.no_data), "error": why(self.error)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reading:
        def why(name: str) -> Text | None:
            value = data.get(name)
            return text_from_str(value) if isinstance(value, str) else None

        return cls(value=data.get("value"), no_data=why("no_data"), error=why("error"))


@dataclass(frozen=True, slots=True)
class GuardState:
    last_at: datetime
    verdict: Verdict
    value: float | None = None
    reason: Text = NO_REASON
    ok_since: datetime | None = None
    breach_since: datetime | None = None
    unknown_since: datetime | None = None
    acted: bool = False  # the guard's action was taken for the current breach or silence
    # The highest value read since ``peak_since`` (the current stage's start): what a
    # stage's promotion target is held against.
    peak: float | None = None
    peak_since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "last_at": self.last_at.isoformat(),
            "verdict": self.verdict.value,
            "value": self.value,
            "reason": text_to_str(self.reason),
            "ok_since": iso(self.ok_since),
            "breach_since": iso(self.breach_since),
            "unknown_since": iso(self.unknown_since),
            "acted": self.acted,
            "peak": self.peak,
            "peak_since": iso(self.peak_since),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GuardState:
        def when(name: str) -> datetime | None:
            value = data.get(name)
            return datetime.fromisoformat(value) if value else None

        last_at = when("last_at")
        assert last_at is not None
        return cls(
            last_at=last_at,
            verdict=Verdict(data["verdict"]),
            value=data.get("value"),
            reason=text_from_str(str(data.get("reason", ""))),
            ok_since=when("ok_since"),
            breach_since=when("breach_since"),
            unknown_since=when("unknown_since"),
            acted=bool(data.get("acted", False)),
            peak=data.get("peak"),
            peak_since=when("peak_since"),
        )


def judge(guard: Guard, reading: Reading) -> tuple[Verdict, Text]:
    if reading.error is not None:
        return Verdict.ERROR, as_text(reading.error)
    if reading.value is None:
        return Verdict.NO_DATA, as_text(reading.no_data or t("guard.why.no_value"))
    if guard.breached_by(reading.value):
        return Verdict.BREACH, t(
            "guard.why.breach", value=guard.show(reading.value), threshold=guard.threshold
        )
    return Verdict.OK, NO_REASON


def verdict_name(verdict: Verdict) -> Text:
    """A verdict as a reader says it ("no data", 无数据), never its enum value."""
    return t(f"guard.verdict.{verdict.value}")


def observe(
    guard: Guard,
    state: GuardState | None,
    reading: Reading,
    at: datetime,
    *,
    stage_start: datetime | None = None,
) -> GuardState:
    """The guard's state after one more sample taken at ``at`` (in the stage that began at
    ``stage_start``, whose peak it keeps)."""
    verdict, reason = judge(guard, reading)
    if state is not None and at - state.last_at > guard.interval * GAP_INTERVALS:
        state = None  # nobody looked for a while: start every streak afresh
    unknown = verdict in (Verdict.NO_DATA, Verdict.ERROR)
    previous_unknown = state is not None and state.unknown_since is not None
    new = GuardState(
        last_at=at,
        verdict=verdict,
        value=reading.value,
        reason=reason,
        ok_since=_since(state.ok_since if state else None, verdict is Verdict.OK, at),
        breach_since=_since(state.breach_since if state else None, verdict is Verdict.BREACH, at),
        unknown_since=_since(state.unknown_since if state else None, unknown, at),
    )
    # The action taken belongs to one run of bad samples; a new run may act again.
    same_run = state is not None and (
        (verdict is Verdict.BREACH and state.verdict is Verdict.BREACH)
        or (unknown and previous_unknown)
    )
    peak, peak_since = _peak(state, reading.value, at=at, stage_start=stage_start)
    return replace(
        new, acted=bool(state and state.acted and same_run), peak=peak, peak_since=peak_since
    )


def _peak(
    state: GuardState | None, value: float | None, *, at: datetime, stage_start: datetime | None
) -> tuple[float | None, datetime | None]:
    """The stage's highest reading so far; a new stage (or a gap) starts it afresh."""
    if state is None or state.peak_since is None:
        return value, at
    if stage_start is not None and state.peak_since < stage_start:
        return value, min(stage_start, at)
    if value is None or (state.peak is not None and state.peak >= value):
        return state.peak, state.peak_since
    return value, state.peak_since


def _since(previous: datetime | None, holds: bool, at: datetime) -> datetime | None:
    if not holds:
        return None
    return previous if previous is not None else at


def sustained_breach(guard: Guard, state: GuardState) -> bool:
    return state.breach_since is not None and state.last_at - state.breach_since >= guard.window


def sustained_silence(guard: Guard, state: GuardState) -> bool:
    return (
        state.unknown_since is not None and state.last_at - state.unknown_since >= guard.max_unknown
    )


def peak_since(guard: Guard, state: GuardState | None, start: datetime) -> float | None:
    """The highest reading since ``start``, when the guard has watched all of it (its
    first sample may come up to one interval after it); None when it has not."""
    if state is None or state.peak_since is None or state.peak_since > start + guard.interval:
        return None
    return state.peak


def clean_since(guard: Guard, state: GuardState | None, start: datetime) -> bool:
    """Has the guard read ``ok`` at every sample since ``start`` (its first sample may
    come up to one interval after it)?"""
    return (
        state is not None
        and state.verdict is Verdict.OK
        and state.ok_since is not None
        and state.ok_since <= start + guard.interval
    )
