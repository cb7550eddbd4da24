"""What an incident's move does to its pages, decided without a database: resolving stops
them, the first answer answers them, a reopening pages again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from playbooks.effects import Conversation
from playbooks.incidents.machine import (
    TRANSITIONS,
    Incident,
    IncidentState,
    Move,
    PagesFollow,
    pages_follow,
)
from playbooks.incidents.policy import default_settings

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
S = IncidentState


def incident(state: IncidentState) -> Incident:
    return Incident(
        id=7,
        title="x",
        severity="P1",
        state=state,
        service="web",
        channel=Conversation("console", "#incidents"),
        opened_at=T0,
        opened_by="alice",
        policy=default_settings().policy,
        commander="alice",
    )


def follows(before: IncidentState, the_move: Move) -> PagesFollow | None:
    after = TRANSITIONS[(before, the_move)]
    return pages_follow(incident(before), replace(incident(before), state=after), the_move)


def test_the_first_answer_answers_the_pages() -> None:
    assert follows(S.OPEN, Move.ACK) is PagesFollow.ANSWER
    assert follows(S.OPEN, Move.MITIGATE) is PagesFollow.ANSWER


def test_later_moves_while_unresolved_leave_the_pages() -> None:
    assert follows(S.ACKNOWLEDGED, Move.MITIGATE) is None


def test_resolving_stops_the_pages_and_reopening_pages_again() -> None:
    assert follows(S.MITIGATED, Move.RESOLVE) is PagesFollow.STOP
    assert follows(S.RESOLVED, Move.REOPEN) is PagesFollow.PAGE
