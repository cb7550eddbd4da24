"""A room per incident, through the whole pipeline on the console's terms: made once, its
people brought in, its summary kept, commands in it needing no id, closed after a grace,
and the shared channel kept where no room can be made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config.directory import DEFAULTS
from playbooks.incidents.rooms import platform_name
from storage.models import IncidentRoom, IncidentRow, OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.adapters import RecordingAdapter, RoomAdapter
from tests.fakes.alertmanager import alert, notification
from tests.scenarios.test_noise_budget import alertmanager

pytestmark = pytest.mark.usefixtures("database_url")

ROOM = "#inc-1"  # the console keeps the short name; Slack's is inc-1-checkout-returns-500


def rooms_on(tmp_path: Path, severities: str = "[P0, P1, P2]") -> Path:
    config = tmp_path / "config"
    shutil.copytree(DEFAULTS, config)
    severity = config / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    severity.write_text(
        text.replace("severities: []", f"severities: {severities}"), encoding="utf-8"
    )
    return config


def posts(h: Harness, channel: str) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "post" and s.address == channel]


def room_row(h: Harness, incident_id: int = 1) -> IncidentRoom | None:
    with unit_of_work(h.app.engine) as session:
        found = session.get(IncidentRoom, incident_id)
        if found is not None:
            session.expunge(found)
        return found


async def open_p1(h: Harness, *, channel: str = "#ops") -> None:
    out = await h.say(
        '/incident open "Checkout returns 500" --sev P1 --service web', user="bob", channel=channel
    )
    assert out.status == "ok", h.reply_text(out)


async def test_a_p1_opens_a_room_with_its_people_and_one_line_elsewhere(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    await open_p1(h)
    room = room_row(h)
    assert room is not None
    assert (room.state, room.platform_id, room.address) == ("open", ROOM, "#inc-1")
    with unit_of_work(h.app.engine) as session:
        incident = session.get(IncidentRow, 1)
        assert incident is not None
        assert incident.channel == "console:#inc-1"
    # The room: the pinned summary first, then the opening with its buttons.
    summary, opening = posts(h, ROOM)[:2]
    assert summary.startswith("📌 Incident #1: Checkout returns 500")
    assert "commander: @bob" in summary
    assert "service: web" in summary
    assert "Respond by" in summary
    assert opening.startswith("🚨 Incident #1 [P1] opened by @bob")
    # #incidents and #tech: one line naming the room, not the whole post.
    line = f"Incident #1 [P1] Checkout returns 500 has its own room: {ROOM}."
    assert posts(h, "#incidents") == [line]
    assert posts(h, "#tech") == [line]
    # The reporter (and commander) is in the room; the web team's on-call was paged and
    # brought in too.
    assert adapter.rooms[ROOM][0] == "bob"


async def test_commands_in_the_room_need_no_id_and_the_room_closes_after_the_grace(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    await open_p1(h)
    out = await h.say("/incident ack", user="carol", channel=ROOM)
    assert out.status == "ok", h.reply_text(out)
    assert "carol" in adapter.rooms[ROOM]  # who acknowledges is brought in
    out = await h.say('/incident update "rolled back the config"', user="carol", channel=ROOM)
    assert out.status == "ok", h.reply_text(out)
    out = await h.say('/incident sev P2 --reason "only some users"', user="carol", channel=ROOM)
    assert out.status == "ok", h.reply_text(out)
    # Said once in the room (the reply), not again as a post there.
    assert not any("rolled back the config" in p for p in posts(h, ROOM))
    # The summary is revised under its key; the console cannot edit, so it is not re-posted.
    with unit_of_work(h.app.engine) as session:
        revisions = session.exec(
            select(OutboxMessage).where(OutboxMessage.edit_key == "incident:1:room-summary")
        ).all()
    assert revisions[0].kind == "room_open"
    assert "revise" in [r.kind for r in revisions]
    await h.say("/incident resolve", user="carol", channel=ROOM)
    await h.say("/incident close", user="alice", channel=ROOM)
    await h.advance(minutes=59)
    assert adapter.closed == []
    await h.advance(minutes=2)
    assert adapter.closed == [ROOM]
    assert room_row(h).state == "closed"  # type: ignore[union-attr]
    assert "this room is archived now" in posts(h, ROOM)[-1]


async def test_reopened_before_the_grace_the_room_stays(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    await open_p1(h)
    await h.say("/incident resolve 1", user="bob")
    await h.say("/incident close 1", user="alice")
    await h.say("/incident reopen 1", user="bob")
    await h.advance(hours=2)
    assert adapter.closed == []


async def test_a_p3_and_rooms_switched_off_stay_in_the_shared_channel(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path, "[P0]"))
    await open_p1(h)
    assert adapter.rooms == {}
    assert room_row(h) is None
    assert posts(h, "#incidents")[0].startswith("🚨 Incident #1 [P1] opened by @bob")


async def test_refused_it_says_so_once_and_keeps_the_shared_channel(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter(refuse="missing_scope")
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    await open_p1(h)
    await h.say('/incident open "Search is slow" --sev P2 --service web', user="bob")
    assert room_row(h).state == "fallback"  # type: ignore[union-attr]
    shared = posts(h, "#incidents")
    refusals = [p for p in shared if "could not make a room" in p]
    assert len(refusals) == 1
    assert "(missing_scope)" in refusals[0]
    # The incidents' whole news is in the shared channel, as without rooms.
    assert any(p.startswith("🚨 Incident #1 [P1] opened by @bob") for p in shared)
    assert any(p.startswith("🚨 Incident #2 [P2] opened by @bob") for p in shared)
    out = await h.say("/incident ack 1", user="carol", channel="#incidents")
    assert out.status == "ok"


async def test_a_platform_without_rooms_says_so_once(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(adapter=RecordingAdapter(), config_dir=rooms_on(tmp_path))
    await open_p1(h)
    await open_p1(h)
    shared = posts(h, "#incidents")
    assert sum("cannot make incident rooms on console" in p for p in shared) == 1


def test_room_names_follow_the_strictest_platform_rule() -> None:
    assert platform_name(42, "Checkout returns 500!") == "inc-42-checkout-returns-500"
    assert platform_name(42, "Café  down") == "inc-42-cafe-down"
    assert platform_name(42, "支付失败") == "inc-42"
    assert platform_name(42, "payments 支付失败") == "inc-42"
    assert platform_name(42, "!!!") == "inc-42"
    long = platform_name(42, "x" * 200)
    assert len(long) == 80
    assert long.startswith("inc-42-x")
    assert platform_name(42, "Checkout returns 500", platform="console") == "inc-42"


async def test_every_command_typed_in_the_room_goes_on_the_timeline_once(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(adapter=RoomAdapter(), config_dir=rooms_on(tmp_path))
    await open_p1(h)
    await h.advance(minutes=1)
    paged = await h.say('/page @dave "checkout is down, need the db"', user="carol", channel=ROOM)
    assert paged.status == "ok", h.reply_text(paged)
    first_line = h.reply_text(paged).splitlines()[0]
    await h.say("/oncall who web", user="carol", channel=ROOM)
    refused = await h.say("/release pause web", user="carol", channel=ROOM)
    assert refused.status == "refused"
    why = h.reply_text(refused).splitlines()[0].lstrip("⚠️ ").strip()
    # The incident's own commands write their own line, and its views say nothing new.
    await h.say('/incident update "db failover started"', user="carol", channel=ROOM)
    await h.say("/incident show", user="carol", channel=ROOM)
    # Outside the room, nothing goes on any timeline.
    await h.say("/oncall who web", user="carol", channel="#ops")
    timeline = h.reply_text(await h.say("/incident timeline 1", user="carol"))
    commands = [line for line in timeline.splitlines() if "command: " in line]
    assert len(commands) == 3, timeline
    assert all("@carol: command: " in line for line in commands)
    assert f'command: /page @dave "checkout is down, need the db" → {first_line}' in commands[0]
    assert "command: /oncall who web → " in commands[1]
    assert "command: /release pause web → refused: " in commands[2]
    assert why.rstrip(".") in commands[2]
    assert timeline.count("db failover started") == 1
    assert "/incident show" not in timeline
    # Read in Chinese, the bot's part is in Chinese; what was typed stays as typed.
    await h.say("/config locale zh", user="alice")
    zh = h.reply_text(await h.say("/incident timeline 1", user="carol"))
    assert "/release pause web → 被拒绝：" in zh


async def test_those_a_later_step_reaches_and_who_acknowledges_the_page_are_brought_in(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    out = await h.say('/incident open "Checkout returns 500" --sev P1 --service web', user="alice")
    assert out.status == "ok", h.reply_text(out)
    # The opening brings in the reporter and the primary its page reached.
    assert adapter.rooms[ROOM] == ["alice", "bob"]
    await h.advance(minutes=5)  # nobody answered: the secondary is paged
    assert adapter.rooms[ROOM] == ["alice", "bob", "carol"]
    out = await h.say("/escalate 1", user="carol")  # the manager, now
    assert out.status == "ok", h.reply_text(out)
    assert adapter.rooms[ROOM] == ["alice", "bob", "carol", "dave"]
    # Each once: a later step reaching them again asks nobody in twice.
    await h.advance(minutes=30)
    assert adapter.rooms[ROOM] == ["alice", "bob", "carol", "dave"]


async def test_who_acknowledges_a_page_for_the_incident_is_brought_in(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    await h.say('/incident open "Checkout returns 500" --sev P1 --service web', user="alice")
    out = await h.say("/ack 1", user="dave")  # a responder, though not paged
    assert out.status == "ok", h.reply_text(out)
    assert adapter.rooms[ROOM] == ["alice", "bob", "dave"]
    with unit_of_work(h.app.engine) as session:
        incident = session.get(IncidentRow, 1)
        assert incident is not None
        assert incident.state == "acknowledged"


async def test_raised_into_a_rooms_severity_it_gets_its_room_then(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path))
    out = await h.say('/incident open "Avatars load slowly" --sev P3 --service web', user="alice")
    assert out.status == "ok", h.reply_text(out)
    assert room_row(h) is None  # a P3 has no room
    await h.say("/incident ack 1", user="carol")
    before = len(posts(h, "#incidents"))
    out = await h.say('/incident sev 1 P1 --reason "checkout too"', user="bob", channel="#ops")
    assert out.status == "ok", h.reply_text(out)
    line = f"Incident #1 [P1] Avatars load slowly has its own room: {ROOM}."
    assert h.reply_text(out).endswith(line)
    room = room_row(h)
    assert room is not None
    assert room.state == "open"
    with unit_of_work(h.app.engine) as session:
        incident = session.get(IncidentRow, 1)
        assert incident is not None
        assert incident.channel == "console:#inc-1"
    # The shared channel and the tech channel hear of the new severity once, with the room.
    [raised] = posts(h, "#incidents")[before:]
    assert raised.startswith("Incident #1 is now P1 (was P3), set by @bob")
    assert line in raised
    assert line in posts(h, "#tech")[-1]
    # Everyone who had a hand in it: the reporter (and commander), who acknowledged, and
    # the one its page reached.
    assert sorted(adapter.rooms[ROOM]) == ["alice", "bob", "carol"]
    summary = posts(h, ROOM)[0]
    assert summary.startswith("📌 Incident #1: Avatars load slowly")
    assert "severity: P1" in summary
    # From now on its news is in the room, and commands there need no id.
    out = await h.say('/incident update "cdn purged"', user="carol", channel=ROOM)
    assert out.status == "ok", h.reply_text(out)
    # Lowered again, it keeps its room; raised again, no second room.
    await h.say('/incident sev P3 --reason "only avatars"', user="carol", channel=ROOM)
    await h.say('/incident sev P2 --reason "worse again"', user="carol", channel=ROOM)
    assert list(adapter.rooms) == [ROOM]
    assert posts(h, "#incidents")[before:] == [raised]


async def test_raised_by_a_more_severe_alert_it_gets_its_room(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    adapter = RoomAdapter()
    h = await make_harness(adapter=adapter, config_dir=rooms_on(tmp_path, "[P0, P1]"))

    def group(name: str, severity: str) -> dict[str, object]:
        return notification(
            alert(name, service="checkout", severity=severity), group_by=("alertname", "service")
        )

    await alertmanager(h, group("SlowCheckout", "warning"))  # a P2: no room
    assert room_row(h) is None
    await alertmanager(h, group("CheckoutDown", "critical"))  # joins it, and raises it to P1
    room = room_row(h)
    assert room is not None
    assert room.state == "open"
    with unit_of_work(h.app.engine) as session:
        incident = session.get(IncidentRow, 1)
        assert incident is not None
        assert (incident.severity, incident.channel) == ("P1", "console:#inc-1")
    assert any(
        "is now P1 (was P2)" in p and "has its own room" in p for p in posts(h, "#incidents")
    )
    assert posts(h, ROOM)[0].startswith("📌 Incident #1:")
