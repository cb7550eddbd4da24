"""Escalation without a database: steps in order, waits, repeats, nobody to reach, acks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from playbooks.effects import ArmTimer, CancelTimer, Conversation, DirectMessage, Post
from playbooks.errors import InvalidTransition
from playbooks.oncall.paging import (
    Page,
    PageState,
    Policy,
    Step,
    Target,
    acknowledge,
    escalate,
    escalate_due,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
M = timedelta(minutes=1)
TEAM = Conversation("console", "#web")
POLICY = Policy(
    (
        Step(Target.LAYER, "primary", 5 * M),
        Step(Target.LAYER, "secondary", 10 * M),
        Step(Target.MANAGER, "", 10 * M),
    ),
    repeat=2,
)
ON_CALL = {"primary": "bob", "secondary": "carol", "": "dave"}


def resolve(step: Step) -> str | None:
    return ON_CALL.get(step.value)


def new_page(policy: Policy = POLICY) -> Page:
    return Page(1, "checkout down", PageState.OPEN, policy, T0, "alice", team="web")


def dms(effects: list[object]) -> list[str]:
    return [e.person for e in effects if isinstance(e, DirectMessage)]


def test_steps_run_in_order_each_after_its_wait_around_the_chain() -> None:
    p, now, reached = new_page(), T0, []
    for _ in range(POLICY.length):
        result = escalate_due(p, now=now, resolve=resolve, channel=TEAM)
        reached += dms(result.effects)
        [arm] = [e for e in result.effects if isinstance(e, ArmTimer)]
        now, p = arm.due_at, result.page
    assert reached == ["bob", "carol", "dave"] * 3
    assert p.paged == ("bob", "carol", "dave")
    # After the last wait: nobody answered, said in the team channel, nothing re-armed.
    done = escalate_due(p, now=now, resolve=resolve, channel=TEAM)
    assert [e.kind for e in done.events] == ["exhausted"]
    assert [type(e) for e in done.effects] == [CancelTimer, Post]


def test_a_page_that_comes_round_again_says_which_round_it_is() -> None:
    p, now, said = new_page(), T0, []
    for _ in range(POLICY.length):
        result = escalate_due(p, now=now, resolve=resolve, channel=TEAM)
        [dm] = [e for e in result.effects if isinstance(e, DirectMessage)]
        said.append((dm.person, [b.key for b in dm.message.blocks], dm.message.blocks[-1].params))
        [arm] = [e for e in result.effects if isinstance(e, ArmTimer)]
        now, p = arm.due_at, result.page
    assert said[0] == ("bob", ["page.notify"], said[0][2])  # the first round: the page alone
    assert said[3][:2] == ("bob", ["page.notify", "page.again"])
    assert said[3][2] == {"round": 2, "rounds": 3}
    assert said[8][:2] == ("dave", ["page.notify", "page.again"])
    assert said[8][2] == {"round": 3, "rounds": 3}


def test_a_step_with_nobody_to_reach_says_so_and_goes_straight_on() -> None:
    result = escalate_due(
        new_page(),
        now=T0,
        resolve=lambda s: None if s.value == "primary" else "carol",
        channel=TEAM,
    )
    assert [e.kind for e in result.events] == ["nobody", "notify"]
    assert dms(result.effects) == ["carol"]
    assert any(isinstance(e, Post) for e in result.effects)
    assert result.page.position == 2


def test_the_first_ack_stops_it_and_tells_everyone_paged() -> None:
    p = escalate_due(new_page(), now=T0, resolve=resolve, channel=TEAM).page
    p = escalate_due(p, now=T0 + 5 * M, resolve=resolve, channel=TEAM).page
    result = acknowledge(p, actor="carol", now=T0 + 6 * M, channel=TEAM)
    assert result.page.state is PageState.ACKNOWLEDGED
    assert dms(result.effects) == ["bob"]
    assert CancelTimer("page:1:step") in result.effects
    # Later acks are recorded, not refused; a resolved page has nothing to acknowledge.
    again = acknowledge(result.page, actor="bob", now=T0 + 7 * M, channel=TEAM)
    assert again.page.acked_by == "carol"
    assert [e.kind for e in again.events] == ["ack"]
    assert again.effects == []
    with pytest.raises(InvalidTransition):
        acknowledge(_resolved(), actor="bob", now=T0, channel=TEAM)


def _resolved() -> Page:
    return replace(new_page(), state=PageState.RESOLVED)


def test_escalate_runs_the_next_step_now() -> None:
    p = escalate_due(new_page(), now=T0, resolve=resolve, channel=TEAM).page
    result = escalate(p, actor="bob", now=T0 + M, resolve=resolve, channel=TEAM)
    assert dms(result.effects) == ["carol"]
    assert result.events[0].kind == "escalate"
    with pytest.raises(InvalidTransition):
        escalate(_resolved(), actor="bob", now=T0, resolve=resolve, channel=TEAM)


def test_an_escalation_that_runs_out_cancels_the_pending_step() -> None:
    policy = Policy((Step(Target.LAYER, "primary", 5 * M), Step(Target.MANAGER, "", 5 * M)))
    p = escalate_due(new_page(policy), now=T0, resolve=resolve, channel=TEAM).page
    nobody = escalate(p, actor="bob", now=T0 + M, resolve=lambda s: None, channel=TEAM)
    assert CancelTimer("page:1:step") in nobody.effects
    assert [e.kind for e in nobody.events] == ["escalate", "nobody", "exhausted"]
