"""Business hours on escalation: a step limited to working hours is skipped outside them
(and the timeline says so), a P3 raised outside hours waits for the next working morning,
and the working morning is found across weekends and holidays in the team's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from playbooks.business_time import WorkCalendar, WorkingHours
from playbooks.effects import ArmTimer, Conversation, DirectMessage, Post
from playbooks.oncall.paging import (
    KIND_STEP,
    Page,
    PageState,
    Policy,
    Step,
    StepWhen,
    Target,
    defer,
    escalate_due,
    key,
    respond_missed,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
M = timedelta(minutes=1)
POLICY = Policy(
    (
        Step(Target.LAYER, "primary", 5 * M),
        Step(Target.LAYER, "secondary", 10 * M, StepWhen.WORKING_HOURS),
        Step(Target.MANAGER, "", 10 * M),
    )
)
ON_CALL = {"primary": "bob", "secondary": "carol", "": "dave"}
SATURDAY = datetime(2026, 11, 28, 10, tzinfo=SH)


def resolve(step: Step) -> str | None:
    return ON_CALL.get(step.value)


def page() -> Page:
    return Page(1, "db down", PageState.OPEN, POLICY, SATURDAY, "alice", team="web")


def test_a_working_hours_step_is_skipped_outside_them_and_said_on_the_timeline() -> None:
    first = escalate_due(page(), now=SATURDAY, resolve=resolve, channel=None, working_hours=False)
    assert [e.person for e in first.effects if isinstance(e, DirectMessage)] == ["bob"]
    later = SATURDAY + 5 * M
    second = escalate_due(first.page, now=later, resolve=resolve, channel=None, working_hours=False)
    assert [(e.kind, e.person, e.text) for e in second.events] == [
        ("skipped", "", "secondary"),
        ("notify", "dave", "manager"),
    ]
    # The manager's wait follows at once: the skipped step added none of its own.
    arm = next(e for e in second.effects if isinstance(e, ArmTimer))
    assert arm.due_at == later + 10 * M


def test_in_working_hours_the_step_runs() -> None:
    monday = datetime(2026, 11, 30, 10, tzinfo=SH)
    first = escalate_due(page(), now=monday, resolve=resolve, channel=None, working_hours=True)
    second = escalate_due(first.page, now=monday + 5 * M, resolve=resolve, channel=None)
    assert [(e.kind, e.person) for e in second.events] == [("notify", "carol")]


def test_a_snapshot_keeps_the_condition_and_old_snapshots_mean_always() -> None:
    assert Policy.from_json(POLICY.to_json()) == POLICY
    old = POLICY.to_json()
    for step in old["steps"]:
        del step["when"]
    assert all(s.when is StepWhen.ALWAYS for s in Policy.from_json(old).steps)


def test_a_deferred_page_arms_its_first_step_for_the_morning() -> None:
    morning = datetime(2026, 11, 30, 9, tzinfo=SH)
    result = defer(page(), until=morning, now=SATURDAY)
    assert result.effects == [ArmTimer(key(1), KIND_STEP, morning, {"page_id": 1})]
    assert [e.kind for e in result.events] == ["deferred"]
    assert result.page.position == 0
    assert result.page.paged == ()


def test_the_next_working_morning_in_the_team_timezone() -> None:
    hours = WorkingHours(tz=SH)
    assert hours.next_opening(SATURDAY) == datetime(2026, 11, 30, 9, tzinfo=SH)
    friday_night = datetime(2026, 11, 27, 19, tzinfo=SH)
    assert hours.next_opening(friday_night) == datetime(2026, 11, 30, 9, tzinfo=SH)
    early = datetime(2026, 11, 24, 7, tzinfo=SH)
    assert hours.next_opening(early) == datetime(2026, 11, 24, 9, tzinfo=SH)
    open_now = datetime(2026, 11, 24, 11, tzinfo=SH)
    assert hours.next_opening(open_now) == open_now
    holiday = WorkingHours(tz=SH, calendar=WorkCalendar(days_off=frozenset({date(2026, 11, 30)})))
    assert holiday.next_opening(SATURDAY) == datetime(2026, 12, 1, 9, tzinfo=SH)
    # The day after the spring change the morning is 09:00 CEST: 07:00 UTC.
    berlin = WorkingHours(tz=BERLIN)
    sunday = datetime(2027, 3, 28, 12, tzinfo=BERLIN)  # CEST since 02:00 today
    assert berlin.next_opening(sunday) == datetime(2027, 3, 29, 7, tzinfo=UTC)


def test_an_ack_arms_a_reminder_and_resolving_cancels_it() -> None:
    from playbooks.effects import CancelTimer
    from playbooks.oncall.paging import KIND_REMIND, acknowledge, remind, remind_key, resolve_page

    first = escalate_due(page(), now=SATURDAY, resolve=resolve, channel=None)
    acked = acknowledge(first.page, actor="bob", now=SATURDAY, channel=None, remind_after=30 * M)
    arm = next(e for e in acked.effects if isinstance(e, ArmTimer) and e.kind == KIND_REMIND)
    assert arm.due_at == SATURDAY + 30 * M
    later = SATURDAY + 30 * M
    reminded = remind(acked.page, now=later, every=30 * M)
    assert [e.person for e in reminded.effects if isinstance(e, DirectMessage)] == ["bob"]
    assert any(isinstance(e, ArmTimer) and e.due_at == later + 30 * M for e in reminded.effects)
    done = resolve_page(acked.page, actor="bob", now=later)
    assert CancelTimer(remind_key(1)) in done.effects
    assert remind(done.page, now=later, every=30 * M).effects == []
    quiet = acknowledge(first.page, actor="bob", now=SATURDAY, channel=None)
    assert not any(isinstance(e, ArmTimer) for e in quiet.effects)


def test_a_page_whose_every_step_waits_for_hours_waits_for_the_opening() -> None:
    only_hours = Policy(
        (
            Step(Target.LAYER, "primary", 5 * M, StepWhen.WORKING_HOURS),
            Step(Target.MANAGER, "", 10 * M, StepWhen.WORKING_HOURS),
        ),
        repeat=1,
    )
    monday = datetime(2026, 11, 30, 9, tzinfo=SH)
    held = Page(1, "db down", PageState.OPEN, only_hours, SATURDAY, "alice", team="web")
    channel = Conversation("console", "#web")
    result = escalate_due(
        held, now=SATURDAY, resolve=resolve, channel=channel, working_hours=False, opens_at=monday
    )
    assert "exhausted" not in [e.kind for e in result.events]
    assert result.page.position == 0
    arm = next(e for e in result.effects if isinstance(e, ArmTimer))
    assert (arm.key, arm.kind, arm.due_at) == (key(1), KIND_STEP, monday)
    [post] = [e for e in result.effects if isinstance(e, Post)]
    assert post.conversation == channel
    # When the day opens the chain starts over and reaches the primary.
    morning = escalate_due(result.page, now=monday, resolve=resolve, channel=channel)
    assert [e.person for e in morning.effects if isinstance(e, DirectMessage)] == ["bob"]


def test_a_missed_respond_deadline_on_a_held_page_is_said_in_the_channel() -> None:
    channel = Conversation("console", "#web")
    monday = datetime(2026, 11, 30, 9, tzinfo=SH)
    result = respond_missed(page(), now=SATURDAY, until=monday, channel=channel)
    assert [e.kind for e in result.events] == ["respond_missed"]
    [post] = [e for e in result.effects if isinstance(e, Post)]
    assert post.conversation == channel
