"""The three clocks of seed 002 (respond, start handling, resolve) under the shipped
``operations`` policy: each armed with its reminder, met by the right move, re-timed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config.directory import load
from bot.i18n import Translator
from playbooks.effects import ArmTimer, CancelTimer, Conversation, DirectMessage, Post
from playbooks.errors import InvalidTransition
from playbooks.incidents import machine as lifecycle
from playbooks.incidents.machine import Incident, IncidentState, Move
from playbooks.incidents.policy import SeverityPolicy
from playbooks.messages import text_from_str

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
M = timedelta(minutes=1)
H = timedelta(hours=1)


def policy(name: str) -> SeverityPolicy:
    return load(None).incidents.policies[name]


def opened(severity: str = "P0", name: str = "operations") -> lifecycle.Result:
    incident = Incident(
        id=7,
        title="checkout returns 500",
        severity=severity,
        state=IncidentState.OPEN,
        service="web",
        channel=Conversation("console", "#incidents"),
        opened_at=T0,
        opened_by="carol",
        policy=policy(name),
        commander="carol",
    )
    return lifecycle.open_incident(incident, now=T0, tech_channel=None)


def armed(result: lifecycle.Result) -> dict[str, datetime]:
    return {
        e.kind: e.due_at
        for e in result.effects
        if isinstance(e, ArmTimer) and e.kind != lifecycle.KIND_CHECKLIST
    }


def cancelled(result: lifecycle.Result) -> set[str]:
    return {e.key.rsplit(":", 1)[1] for e in result.effects if isinstance(e, CancelTimer)}


def test_an_operations_p0_has_three_clocks_each_with_its_reminder() -> None:
    result = opened("P0")
    i = result.incident
    assert (i.respond_due, i.start_due, i.resolve_due) == (T0 + 5 * M, T0 + 15 * M, T0 + 4 * H)
    assert armed(result) == {
        lifecycle.KIND_RESPOND: T0 + 5 * M,
        lifecycle.KIND_START_WARN: T0 + 12 * M,
        lifecycle.KIND_START: T0 + 15 * M,
        lifecycle.KIND_RESOLVE_WARN: T0 + 192 * M,
        lifecycle.KIND_RESOLVE: T0 + 4 * H,
        lifecycle.KIND_UPDATE: T0 + 30 * M,
    }


def test_at_fifteen_minutes_the_start_clock_is_missed_not_the_resolve_clock() -> None:
    i = opened("P0").incident
    warned = lifecycle.start_warning(i, now=T0 + 12 * M)
    assert [type(e) for e in warned.effects] == [Post, DirectMessage]
    result = lifecycle.start_due(i, now=T0 + 15 * M)
    assert result.incident.start_breached
    assert not result.incident.resolve_breached
    # Stored as catalog text, read in each reader's language.
    missed = Translator("en", UTC)(text_from_str(result.timeline[0].text))
    assert missed == "start-handling deadline missed"


def test_start_meets_the_start_clock_and_acknowledges_an_open_incident() -> None:
    i = opened("P0").incident
    result = lifecycle.move(i, Move.START, actor="bob", now=T0 + 3 * M)
    after = result.incident
    assert after.state is IncidentState.ACKNOWLEDGED
    assert (after.acked_at, after.started_at) == (T0 + 3 * M, T0 + 3 * M)
    assert {"respond", "start", "start_warn"} <= cancelled(result)
    assert "resolve" not in cancelled(result)
    # A start once made is not made again, and a late timer changes nothing.
    with pytest.raises(InvalidTransition):
        lifecycle.move(after, Move.START, actor="bob", now=T0 + 4 * M)
    assert lifecycle.start_due(after, now=T0 + 15 * M).incident.start_breached is False


def test_mitigating_starts_handling_and_a_reopen_starts_the_clock_again() -> None:
    i = lifecycle.move(opened("P0").incident, Move.ACK, actor="bob", now=T0 + M).incident
    assert i.started_at is None
    mitigated = lifecycle.move(i, Move.MITIGATE, actor="bob", now=T0 + 20 * M).incident
    assert mitigated.started_at == T0 + 20 * M
    resolved = lifecycle.move(mitigated, Move.RESOLVE, actor="bob", now=T0 + H).incident
    reopened = lifecycle.move(resolved, Move.REOPEN, actor="bob", now=T0 + 2 * H)
    assert reopened.incident.started_at is None
    assert reopened.incident.start_due == T0 + 2 * H + 15 * M
    assert lifecycle.KIND_START in armed(reopened)


def test_a_clock_the_plan_does_not_name_is_not_timed() -> None:
    # Seed 002 names a recovery time for core business only: P1 has respond and start.
    result = opened("P1")
    i = result.incident
    assert (i.respond_due, i.start_due, i.resolve_due) == (T0 + 30 * M, T0 + 2 * H, None)
    assert lifecycle.KIND_RESOLVE not in armed(result)
    # P2 counts working days: opened Monday 09:00 Shanghai, it starts by Monday 18:00.
    p2 = opened("P2").incident
    assert p2.start_due == T0 + 9 * H
    # The launch plan (seed 001) promises respond and handle (处理时间 = resolve) only.
    launch = opened("P0", name="launch-plan").incident
    assert (launch.start_due, launch.resolve_due) == (None, T0 + H)


def test_a_severity_change_keeps_a_start_already_made() -> None:
    i = lifecycle.move(opened("P1").incident, Move.START, actor="bob", now=T0 + 10 * M).incident
    raised = lifecycle.change_severity(i, "P0", actor="bob", now=T0 + 11 * M, reason="worse")
    assert raised.incident.start_due == i.start_due
    assert raised.incident.resolve_due == T0 + 4 * H
    assert lifecycle.KIND_START not in armed(raised)


def test_the_policy_survives_its_snapshot() -> None:
    snapshot = policy("operations")
    again = SeverityPolicy.from_json(snapshot.to_json())
    assert again.rule("P0") == snapshot.rule("P0")
    assert again.rule("P1").resolve is None
    # A snapshot written before the start clock existed still reads.
    old = snapshot.to_json()
    for rule in old["rules"].values():
        rule.pop("start")
    assert SeverityPolicy.from_json(old).rule("P0").start is None
    assert replace(snapshot.rule("P0"), start=None).start is None
