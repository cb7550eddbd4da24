"""The release machine's TRANSITIONS are enforced on every move it records: a move that
lands anywhere else is a bug and fails loudly, before anything is written."""

from __future__ import annotations

import pytest

from playbooks.releases.machine import TRANSITIONS, BrokenMove, Move, ReleaseState, check_move

S = ReleaseState


@pytest.mark.parametrize(("before", "move"), sorted(TRANSITIONS, key=str))
def test_every_listed_transition_is_allowed(before: ReleaseState, move: Move) -> None:
    check_move(before, move, TRANSITIONS[(before, move)])


def test_entering_a_stage_may_wait_for_a_person_to_apply_the_traffic() -> None:
    check_move(S.IN_STAGE, Move.PROMOTE, S.PENDING)
    check_move(S.ROLLED_BACK, Move.RETRY, S.PENDING)
    check_move(S.PENDING, Move.START, S.PREPARED)


@pytest.mark.parametrize(
    ("before", "move", "after"),
    [
        (S.COMPLETED, Move.PROMOTE, S.IN_STAGE),  # nothing moves a completed release
        (S.IN_STAGE, Move.PAUSE, S.IN_STAGE),  # a pause that did not pause
        (S.PAUSED, Move.ROLLBACK, S.ABORTED),  # a rollback recorded as something else
        (S.IN_STAGE, Move.START, S.IN_STAGE),  # starting a release already under way
    ],
)
def test_a_move_anywhere_else_is_a_bug(
    before: ReleaseState, move: Move, after: ReleaseState
) -> None:
    with pytest.raises(BrokenMove):
        check_move(before, move, after)
