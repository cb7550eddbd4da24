"""Handoff times: weekly in Shanghai, across DST in Berlin, at an override's edges; and
the post that lists who is on now, who handed over and what is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playbooks.effects import Conversation, DirectMessage, Post
from playbooks.oncall import handoff
from playbooks.oncall.rotations import Change, ChangeKind, Rotation, Schedule, Version
from playbooks.oncall.teams import Team

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
WEEK = timedelta(weeks=1)


def schedule(tz: ZoneInfo, start: datetime, *changes: Change) -> Schedule:
    return Schedule(
        "web",
        tz,
        {
            "primary": [Version(start, Rotation(("bob", "carol"), start, WEEK, tz))],
            "secondary": [Version(start, Rotation(("carol", "bob"), start, WEEK, tz))],
        },
        changes,
    )


def team(tz: ZoneInfo, start: datetime, channel: str | None = "#web") -> Team:
    rotation = Rotation(("bob", "carol"), start, WEEK, tz)
    return Team("web", tz, {"primary": rotation, "secondary": rotation}, channel=channel)


LAYERS = ("primary", "secondary")


def test_the_weekly_handoff_is_monday_0900_shanghai() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    s = schedule(SH, start)
    after = datetime(2026, 11, 23, 9, tzinfo=SH)  # exactly at a handoff: the next one
    assert handoff.next_handoff(s, LAYERS, after=after) == datetime(2026, 11, 30, 1, tzinfo=UTC)
    after = datetime(2026, 11, 30, 8, 59, tzinfo=SH)
    assert handoff.next_handoff(s, LAYERS, after=after) == datetime(2026, 11, 30, 1, tzinfo=UTC)


def test_handoffs_stay_at_0900_local_across_dst() -> None:
    start = datetime(2027, 3, 22, 9, tzinfo=BERLIN)  # CET, a Monday
    s = schedule(BERLIN, start)
    before = handoff.next_handoff(s, LAYERS, after=start)
    assert before == datetime(2027, 3, 29, 7, tzinfo=UTC)  # CEST from 28 March: 09:00 is 07:00 Z
    assert before is not None
    assert before.astimezone(BERLIN).hour == 9
    autumn = datetime(2027, 10, 26, tzinfo=BERLIN)
    after_dst = handoff.next_handoff(s, LAYERS, after=autumn)
    assert after_dst == datetime(2027, 11, 1, 8, tzinfo=UTC)  # CET again: 08:00 Z


def test_an_override_moves_the_next_handoff_to_its_edges() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    dave = Change(
        1,
        ChangeKind.OVERRIDE,
        datetime(2026, 11, 24, 9, tzinfo=SH),
        datetime(2026, 11, 24, 21, tzinfo=SH),
        "dave",
        layer="primary",
    )
    s = schedule(SH, start, dave)
    assert handoff.next_handoff(s, LAYERS, after=start) == dave.start
    assert handoff.next_handoff(s, LAYERS, after=dave.start) == dave.end
    changes = handoff.handovers(s, LAYERS, at=dave.end)
    assert changes == [
        handoff.Handover("primary", "bob", "dave"),
        handoff.Handover("secondary", "carol", "carol"),
    ]


def test_an_override_of_the_person_already_on_is_no_handoff() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    same = Change(
        1,
        ChangeKind.OVERRIDE,
        datetime(2026, 11, 24, 9, tzinfo=SH),
        datetime(2026, 11, 24, 21, tzinfo=SH),
        "bob",
        layer="primary",
    )
    s = schedule(SH, start, same)
    assert handoff.next_handoff(s, LAYERS, after=start) == datetime(2026, 11, 30, 1, tzinfo=UTC)


def test_nobody_left_in_the_rotation_has_no_handoff() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    empty = Schedule("web", SH, {"primary": [Version(start, Rotation((), start, WEEK, SH))]})
    assert handoff.next_handoff(empty, ("primary",), after=start) is None


def test_the_post_names_who_is_on_who_handed_over_and_what_is_open() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    at = datetime(2026, 11, 30, 9, tzinfo=SH)
    changes = handoff.handovers(schedule(SH, start), LAYERS, at=at)
    work = [handoff.OpenWork("page", 3, "disk full", "open", "P1")]
    effects = handoff.handoff_post(
        team(SH, start), changes, at=at, work=work, channel=Conversation("console", "#web")
    )
    assert len(effects) == 1
    assert isinstance(effects[0], Post)
    keys = [b.key for b in effects[0].message.blocks]
    assert keys == [
        "handoff.header",
        "handoff.layer",
        "handoff.layer",
        "handoff.open_work",
        "handoff.open_page",
    ]
    assert effects[0].message.blocks[1].params["person"] == "@carol"
    assert effects[0].message.blocks[1].params["previous"] == "@bob"
    assert effects[0].message.mentions == ("carol", "bob")
    # A team without a channel: each incoming person is told directly.
    effects = handoff.handoff_post(team(SH, start, None), changes, at=at, work=[], channel=None)
    assert [e.person for e in effects if isinstance(e, DirectMessage)] == ["carol", "bob"]


def test_a_late_post_after_several_handoffs_names_the_latest() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    s = schedule(SH, start)
    missed = datetime(2026, 11, 30, 1, tzinfo=UTC)  # carol's week began; the bot was down
    now = datetime(2026, 12, 8, 1, tzinfo=UTC)  # back a day after bob's next week began
    latest = handoff.latest_handoff(s, LAYERS, at=missed, now=now)
    assert latest == datetime(2026, 12, 7, 1, tzinfo=UTC)
    [primary, _] = handoff.handovers(s, LAYERS, at=latest)
    assert (primary.incoming, primary.outgoing) == ("bob", "carol")
    # On time, the handoff is its own latest.
    assert handoff.latest_handoff(s, LAYERS, at=missed, now=missed) == missed
