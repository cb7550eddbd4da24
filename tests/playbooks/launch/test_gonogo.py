"""The Go/No-Go matrix: full weight for a met target, nothing for a missed one, and bands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from playbooks.errors import UsageError
from playbooks.launch.gonogo import Verdict, assess, parse_values, verdict_for
from playbooks.launch.plan import DEFAULT_DIMENSIONS, GoNoGoPolicy, LaunchPlan, launch_problems

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POLICY = GoNoGoPolicy()
ALL_MET = "functional=96 performance=92 stability=99.6 satisfaction=85 blockers=0"


def score_of(line: str) -> tuple[float, Verdict]:
    a = assess(parse_values(line.split(), POLICY), POLICY, by="alice", at=AT)
    return a.score, a.verdict


@pytest.mark.parametrize(
    ("line", "score", "verdict"),
    [
        (ALL_MET, 100, Verdict.GO),
        (ALL_MET.replace("satisfaction=85", "satisfaction=80"), 85, Verdict.GO),
        (ALL_MET.replace("stability=99.6", "stability=98"), 75, Verdict.REVIEW),
        (
            ALL_MET.replace("functional=96", "functional=95").replace(
                "satisfaction=85", "satisfaction=10"
            ),
            55,
            Verdict.NO_GO,
        ),
        (ALL_MET.replace("blockers=0", "blockers=1"), 95, Verdict.GO),
    ],
)
def test_a_dimension_scores_its_whole_weight_or_nothing(
    line: str, score: float, verdict: Verdict
) -> None:
    assert score_of(line) == (score, verdict)


@pytest.mark.parametrize(
    ("score", "verdict"),
    [
        (100, Verdict.GO),
        (85, Verdict.GO),
        (84.99, Verdict.REVIEW),
        (70, Verdict.REVIEW),
        (69.99, Verdict.NO_GO),
        (0, Verdict.NO_GO),
    ],
)
def test_the_bands(score: float, verdict: Verdict) -> None:
    assert verdict_for(score, POLICY) is verdict


def test_the_table_keeps_each_row_with_its_target_and_whether_it_was_met() -> None:
    a = assess(parse_values(ALL_MET.split(), POLICY), POLICY, by="alice", at=AT)
    stability = next(row for row in a.rows if row.name == "stability")
    assert (stability.value, stability.op, stability.target, stability.met) == (99.6, ">", 99, True)
    assert type(a).from_json(a.to_json()) == a


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("functional=96 performance=92 stability=99.6 satisfaction=85", "gonogo.missing"),
        (ALL_MET.replace("functional=96", "functional=-1"), "gonogo.out_of_range"),
        (ALL_MET.replace("functional=96", "functional=101"), "gonogo.out_of_range"),
        (ALL_MET.replace("functional=96", "functional=nan"), "gonogo.out_of_range"),
        (ALL_MET.replace("functional=96", "functional=lots"), "gonogo.not_a_number"),
        (ALL_MET + " speed=3", "gonogo.unknown_dimension"),
        (ALL_MET + " functional=97", "gonogo.repeated"),
        (ALL_MET.replace("functional=96", "functional"), "gonogo.not_a_pair"),
        (ALL_MET.replace("blockers=0", "blockers=0.5"), "gonogo.not_a_count"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(line: str, key: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_values(line.split(), POLICY)
    assert caught.value.text.key == key


def test_a_count_takes_a_whole_number_and_a_percentage_need_not() -> None:
    assert (
        parse_values(ALL_MET.replace("blockers=0", "blockers=2").split(), POLICY)["blockers"] == 2
    )
    values = parse_values(ALL_MET.split(), POLICY)
    assert values["stability"] == 99.6


def test_a_dimension_named_twice_is_a_plan_problem() -> None:
    twice = GoNoGoPolicy(dimensions=(*DEFAULT_DIMENSIONS[:4], DEFAULT_DIMENSIONS[0]))
    problems = launch_problems(LaunchPlan(gonogo=twice), stages=("a", "b"))
    assert ("gonogo.dimensions[4].name", "'functional' is listed twice; name each once") in problems
