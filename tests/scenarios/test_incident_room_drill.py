"""The incident-room drill: a P1 from an Alertmanager notification to a room of its own,
its people brought in once, commands there without an id, and the room archived an hour
after the incident is closed."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_incident_room_drill() -> None:
    out = run_drill("incident-room.txt", config_dir="incident-room")
    line = "Incident #1 [P1] SlowResponses has its own room: #inc-1."
    assert f">>> #incidents\n{line}" in out
    assert f">>> #tech\n{line}" in out
    assert ">>> #inc-1\n📌 Incident #1: SlowResponses\n  severity: P1\n  state: open" in out
    assert ">>> #inc-1\n🚨 Incident #1 [P1] opened by @alertmanager: SlowResponses." in out
    # Each person is asked in once: bob (paged) at the opening, carol when made scribe.
    assert out.count("Brought into this room: @bob.") == 1
    assert out.count("Brought into this room: @carol.") == 1
    # Commands typed in the room needed no id.
    assert ">>> #inc-1\nIncident #1 acknowledged by @bob: SlowResponses" in out
    assert "Update on incident #1 from @bob: rolled back the config" in out
    assert "Incident #1 is now P2 (was P1), set by @bob: only some users are affected." in out
    assert ">>> #inc-1\n✅ Incident #1 resolved by @bob: SlowResponses (config reverted)" in out
    # carol is in the room: her new role is not sent to her again directly.
    assert ">>> @carol" not in out.split("-- The clock is now 2026-11-23 01:20 UTC.")[0]
    # Closed at 01:20; archived after the hour's grace, not before.
    archived = "Incident #1 is closed; this room is archived now."
    before, _, after = out.partition("-- The clock is now 2026-11-23 01:50 UTC.")
    assert archived not in before
    assert archived in after
    # Two follow-up actions, said in the room (their owners are there: no direct message),
    # and each owner reminded the day before and on the day, once each.
    assert ">>> #inc-1\nAction #1 on incident #1 for @bob (P2, due 2026-11-26):" in out
    assert ">>> #inc-1\nAction #2 on incident #1 for @carol (P2, due 2026-11-30):" in out
    for who, n, day in (("bob", 1, "2026-11-26"), ("carol", 2, "2026-11-30")):
        for when in ("tomorrow", "today"):
            said = f">>> @{who}\nYour action #{n} on incident #1 is due {when} ({day}):"
            assert out.count(said) == 1, said
    week = out.split("-- The clock is now 2026-11-30 02:21 UTC.")[1]
    assert "overdue since 2026-11-26 (4 days)" in week
    assert ">>> #inc-1" not in out.split(archived)[1]  # nothing after, nor said twice
    assert ">>> #incidents\n🚨" not in out  # the whole post is in the room only
