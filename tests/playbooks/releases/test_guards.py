"""Guard windows on a virtual timeline: a run of samples acts, a single one never does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from playbooks.releases.guards import (
    GuardState,
    Reading,
    Verdict,
    clean_since,
    observe,
    sustained_breach,
    sustained_silence,
)
from playbooks.releases.plan import Guard, GuardAction

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
EVERY = timedelta(seconds=30)
ERROR_RATE = Guard(
    name="error_rate",
    query="q",
    window=timedelta(minutes=5),
    action=GuardAction.ROLLBACK,
    max=0.05,
    interval=EVERY,
)


def run(guard: Guard, samples: list[tuple[timedelta, Reading]]) -> GuardState:
    state: GuardState | None = None
    for offset, reading in samples:
        state = observe(guard, state, reading, T0 + offset)
    assert state is not None
    return state


def steady(
    value: float, *, until: timedelta, start: timedelta = timedelta(0)
) -> list[tuple[timedelta, Reading]]:
    out = []
    at = start
    while at <= until:
        out.append((at, Reading.of(value)))
        at += EVERY
    return out


def test_each_sample_is_one_of_four_distinct_verdicts() -> None:
    assert run(ERROR_RATE, [(timedelta(0), Reading.of(0.01))]).verdict is Verdict.OK
    assert run(ERROR_RATE, [(timedelta(0), Reading.of(0.08))]).verdict is Verdict.BREACH
    assert (
        run(ERROR_RATE, [(timedelta(0), Reading(no_data="no series"))]).verdict is Verdict.NO_DATA
    )
    assert run(ERROR_RATE, [(timedelta(0), Reading(error="timeout"))]).verdict is Verdict.ERROR
    assert run(ERROR_RATE, [(timedelta(0), Reading.of(float("nan")))]).verdict is Verdict.NO_DATA


def test_a_breach_for_4m59s_does_nothing_and_5m_acts() -> None:
    samples = steady(0.08, until=timedelta(minutes=4, seconds=30))
    almost = run(ERROR_RATE, [*samples, (timedelta(minutes=4, seconds=59), Reading.of(0.08))])
    assert not sustained_breach(ERROR_RATE, almost)
    enough = run(ERROR_RATE, [*samples, (timedelta(minutes=5), Reading.of(0.08))])
    assert sustained_breach(ERROR_RATE, enough)


def test_one_good_sample_restarts_the_breach_window() -> None:
    samples = [
        *steady(0.08, until=timedelta(minutes=3)),
        (timedelta(minutes=3, seconds=30), Reading.of(0.01)),
        *steady(0.08, start=timedelta(minutes=4), until=timedelta(minutes=8, seconds=30)),
    ]
    state = run(ERROR_RATE, samples)
    assert state.breach_since == T0 + timedelta(minutes=4)
    assert not sustained_breach(ERROR_RATE, state)


def test_no_data_or_errors_for_max_unknown_is_silence() -> None:
    samples = [
        (timedelta(seconds=30 * i), Reading(no_data="none") if i % 2 else Reading(error="boom"))
        for i in range(10)
    ]
    assert not sustained_silence(ERROR_RATE, run(ERROR_RATE, samples))
    samples.append((timedelta(minutes=5), Reading(error="boom")))
    state = run(ERROR_RATE, samples)
    assert sustained_silence(ERROR_RATE, state)
    assert state.ok_since is None


def test_a_gap_of_more_than_three_intervals_breaks_every_streak() -> None:
    samples = [(timedelta(0), Reading.of(0.08)), (timedelta(minutes=6), Reading.of(0.08))]
    state = run(ERROR_RATE, samples)
    assert state.breach_since == T0 + timedelta(minutes=6)
    assert not sustained_breach(ERROR_RATE, state)


def test_clean_since_needs_ok_at_every_sample_from_the_start() -> None:
    ok = run(ERROR_RATE, steady(0.01, until=timedelta(minutes=30)))
    assert clean_since(ERROR_RATE, ok, T0)
    blip = run(
        ERROR_RATE,
        [
            *steady(0.01, until=timedelta(minutes=10)),
            (timedelta(minutes=10, seconds=30), Reading.of(0.09)),
            *steady(0.01, start=timedelta(minutes=11), until=timedelta(minutes=30)),
        ],
    )
    assert not clean_since(ERROR_RATE, blip, T0)
    assert clean_since(ERROR_RATE, blip, T0 + timedelta(minutes=11))
    assert not clean_since(ERROR_RATE, None, T0)
    errored = run(ERROR_RATE, [(timedelta(0), Reading(error="x"))])
    assert not clean_since(ERROR_RATE, errored, T0)


@pytest.mark.parametrize(
    ("maximum", "minimum", "value", "breach"),
    [
        (0.05, None, 0.05, False),
        (0.05, None, 0.0501, True),
        (None, 0.99, 0.98, True),
        (None, 0.99, 0.995, False),
    ],
)
def test_thresholds_are_strict(
    maximum: float | None, minimum: float | None, value: float, breach: bool
) -> None:
    guard = Guard("g", "q", timedelta(minutes=1), GuardAction.WARN, max=maximum, min=minimum)
    assert guard.breached_by(value) is breach
