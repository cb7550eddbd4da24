"""Incidents, pure: the lifecycle table, SLA arithmetic (working days across a weekend),
severity changes re-timing the clocks, and the triage questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from playbooks.business_time import Deadline, WorkingHours
from playbooks.effects import ArmTimer, CancelTimer, Conversation, DirectMessage, Post
from playbooks.errors import InvalidTransition
from playbooks.incidents import machine as lifecycle
from playbooks.incidents.machine import Incident, IncidentState, Move
from playbooks.incidents.policy import default_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
M = timedelta(minutes=1)


def new(severity: str = "P0") -> Incident:
    return Incident(
        id=3,
        title="checkout returns 500",
        severity=severity,
        state=IncidentState.OPEN,
        service="web",
        channel=Conversation("console", "#incidents"),
        opened_at=T0,
        opened_by="carol",
        policy=default_settings().policy,
        commander="carol",
    )


def opened(severity: str = "P0") -> lifecycle.Result:
    return lifecycle.open_incident(
        new(severity), now=T0, tech_channel=Conversation("console", "#tech")
    )


def armed(result: lifecycle.Result) -> dict[str, datetime]:
    return {
        e.kind: e.due_at
        for e in result.effects
        if isinstance(e, ArmTimer) and e.kind != lifecycle.KIND_CHECKLIST
    }


def test_a_p0_gets_seed_001_clocks_and_its_communication_plan() -> None:
    result = opened("P0")
    i = result.incident
    assert (i.respond_due, i.resolve_due) == (T0 + 5 * M, T0 + 60 * M)
    assert armed(result) == {
        lifecycle.KIND_RESPOND: T0 + 5 * M,
        lifecycle.KIND_RESOLVE_WARN: T0 + 48 * M,
        lifecycle.KIND_RESOLVE: T0 + 60 * M,
        lifecycle.KIND_UPDATE: T0 + 30 * M,
    }
    checklist = sorted(
        (e.payload["item"], e.due_at)
        for e in result.effects
        if isinstance(e, ArmTimer) and e.kind == lifecycle.KIND_CHECKLIST
    )
    # Each step is reminded ahead of its deadline (at 80% of its span) and at it.
    assert checklist == [
        ("management", T0 + 12 * M),
        ("management", T0 + 15 * M),
        ("public", T0 + 48 * M),
        ("public", T0 + 60 * M),
    ]
    assert {e.conversation.channel for e in result.effects if isinstance(e, Post)} == {
        "#incidents",
        "#tech",
    }


def test_a_p3_is_internal_tracking_only() -> None:
    result = opened("P3")
    assert lifecycle.KIND_UPDATE not in armed(result)
    assert not any(
        isinstance(e, ArmTimer) and e.kind == lifecycle.KIND_CHECKLIST for e in result.effects
    )
    assert {e.conversation.channel for e in result.effects if isinstance(e, Post)} == {"#incidents"}


def test_the_table_allows_resolve_before_ack_and_refuses_close_while_open() -> None:
    i = opened().incident
    resolved = lifecycle.move(i, Move.RESOLVE, actor="bob", now=T0 + 3 * M)
    assert resolved.incident.state is IncidentState.RESOLVED
    assert resolved.incident.acked_at == T0 + 3 * M  # the first person to act answered it
    assert CancelTimer("incident:3:update") in resolved.effects
    with pytest.raises(InvalidTransition):
        lifecycle.move(i, Move.CLOSE, actor="bob", now=T0)


def test_a_missed_respond_deadline_posts_and_tells_the_commander() -> None:
    result = lifecycle.respond_due(opened().incident, now=T0 + 5 * M)
    assert result.incident.respond_breached
    assert any(isinstance(e, DirectMessage) and e.person == "carol" for e in result.effects)
    acked = lifecycle.move(opened().incident, Move.ACK, actor="bob", now=T0 + M).incident
    assert lifecycle.respond_due(acked, now=T0 + 5 * M).effects == []


def test_update_reminders_back_off_until_resolved() -> None:
    i = opened().incident
    again = lifecycle.update_due(i, now=T0 + 30 * M)
    assert armed(again) == {lifecycle.KIND_UPDATE: T0 + 60 * M}
    [asked] = [e for e in again.effects if isinstance(e, Post)]
    assert asked.message.blocks[0].params["next"] == T0 + 60 * M
    # Asked again and again with no update: 30 minutes, then an hour, then two.
    said = next(e for e in again.effects if isinstance(e, ArmTimer)).payload["said"]
    second = lifecycle.update_due(i, now=T0 + 60 * M, said=said)
    assert armed(second) == {lifecycle.KIND_UPDATE: T0 + 120 * M}
    said = next(e for e in second.effects if isinstance(e, ArmTimer)).payload["said"]
    third = lifecycle.update_due(i, now=T0 + 120 * M, said=said)
    assert armed(third) == {lifecycle.KIND_UPDATE: T0 + 240 * M}
    # An update starts the count over.
    updated = lifecycle.status_update(i, actor="bob", now=T0 + 130 * M, text="rolling back")
    assert armed(updated) == {lifecycle.KIND_UPDATE: T0 + 160 * M}
    done = lifecycle.move(i, Move.RESOLVE, actor="bob", now=T0 + 31 * M).incident
    assert lifecycle.update_due(done, now=T0 + 60 * M).effects == []


def test_a_severity_change_retimes_from_the_opening() -> None:
    result = lifecycle.change_severity(
        opened("P2").incident, "P1", actor="carol", now=T0 + 10 * M, reason="spreading"
    )
    assert result.incident.resolve_due == T0 + 4 * 60 * M
    assert armed(result)[lifecycle.KIND_RESPOND] == T0 + 15 * M


def test_working_days_skip_the_weekend_and_the_night() -> None:
    hours = WorkingHours(tz=SHANGHAI)
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    assert hours.add_days(friday_5pm, 1) == datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI)
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=SHANGHAI)
    assert hours.add_days(saturday, 1) == datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI)
    late_night = datetime(2026, 11, 24, 23, 0, tzinfo=SHANGHAI)
    assert Deadline(working_days=3).due(late_night, hours) == datetime(
        2026, 11, 27, 18, 0, tzinfo=SHANGHAI
    )
    assert Deadline(duration=timedelta(hours=4)).due(friday_5pm, hours) == friday_5pm + timedelta(
        hours=4
    )


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("", (0, None)),
        ("y", (0, "P0")),
        ("nny", (2, "P0")),
        ("nnny", (3, "P1")),
        ("nnnny", (4, "P1")),  # 严重性能问题
        ("nnnnnny", (6, "P2")),
        ("nnnnnnn", (7, "P3")),
        ("nn", (2, None)),
    ],
)
def test_triage_asks_in_order_and_the_first_yes_decides(
    answers: str, expected: tuple[int, str | None]
) -> None:
    assert lifecycle.triage(answers) == expected


def test_reopen_starts_fresh_clocks_without_old_breaches() -> None:
    i = lifecycle.respond_due(opened().incident, now=T0 + 5 * M).incident
    i = lifecycle.resolve_due(i, now=T0 + 60 * M).incident
    i = lifecycle.move(i, Move.RESOLVE, actor="bob", now=T0 + 70 * M).incident
    back = lifecycle.move(i, Move.REOPEN, actor="bob", now=T0 + 2 * 60 * M).incident
    assert (back.respond_breached, back.resolve_breached) == (False, False)
    assert back.respond_due == T0 + 2 * 60 * M + 5 * M
    raised = lifecycle.change_severity(back, "P1", actor="bob", now=T0 + 121 * M, reason="x")
    assert raised.incident.respond_due == T0 + 2 * 60 * M + 15 * M  # from the reopening


def test_severity_and_checklist_need_an_unresolved_incident() -> None:
    done = lifecycle.move(opened().incident, Move.RESOLVE, actor="bob", now=T0 + M).incident
    with pytest.raises(InvalidTransition):
        lifecycle.change_severity(done, "P1", actor="bob", now=T0 + 2 * M, reason="late")
    with pytest.raises(InvalidTransition):
        lifecycle.tick_checklist(done, "public", actor="bob", now=T0 + 2 * M)
    # A P3's plan times no notice, but one may be given ("视情况发布公告").
    p3 = lifecycle.tick_checklist(opened("P3").incident, "public", actor="bob", now=T0)
    assert p3.incident.checklist == {"public": "bob"}
    ticked = lifecycle.tick_checklist(opened("P0").incident, "management", actor="bob", now=T0)
    assert ticked.incident.checklist == {"management": "bob"}
