"""Incident rooms on DingTalk: group chats are made by an enterprise internal app with the
chat permissions (qyapi chat/create, or im/v1.0 scene groups with a template), which
Shipwatch's robots and its app robot do not have; so DingTalk says once that it keeps the
shared group, and every incident's news goes there as without rooms."""

from __future__ import annotations

from pathlib import Path

from bot.config.directory import DEFAULTS
from storage.models import IncidentRoom
from storage.unit_of_work import unit_of_work
from tests.fakes.robot_world import make_world


def with_rooms(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (DEFAULTS / "severity.yaml").read_text(encoding="utf-8")
    text = text.replace("severities: []", "severities: [P0, P1, P2]")
    (folder / "severity.yaml").write_text(
        text.replace('management: ["@dave"]', "management: []"), encoding="utf-8"
    )
    return folder


async def test_dingtalk_keeps_the_shared_group_and_says_so_once(
    database_url: str, tmp_path: Path
) -> None:
    world = await make_world(
        database_url, with_rooms(tmp_path / "config"), platforms=("dingtalk",), apps=True
    )
    try:
        for title in ("checkout returns 500", "search is slow"):
            outcome = await world.say(
                f'/incident open "{title}" --sev P1 --service web',
                platform="dingtalk",
                user="staff-alice",
                channel="#ops",
            )
            assert outcome.status == "ok", outcome
        with unit_of_work(world.app.engine) as session:
            room = session.get(IncidentRoom, 1)
            assert room is not None
            assert room.state == "fallback"
        texts = [m.text for m in world.dingtalk_robots.to("dt-incidents-token")]
        assert sum("cannot make incident rooms on dingtalk" in t for t in texts) == 1
        assert sum("opened by" in t for t in texts) == 2
    finally:
        await world.close()
