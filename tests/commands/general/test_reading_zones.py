"""Times are read and shown where the reader lives: a team's channel in the team's
timezone, a person's replies and direct messages in their own (people.yaml `timezone`),
everything else in SHIPWATCH_TIMEZONE; always with the offset, never "CST"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config.directory import DEFAULTS
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


def config_with_zones(tmp_path: Path) -> Path:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    people = (tmp_path / "people.yaml").read_text(encoding="utf-8")
    people = people.replace(
        "    name: Alice Chen\n", "    name: Alice Chen\n    timezone: Asia/Shanghai\n"
    ).replace("    name: Carol Wang\n", "    name: Carol Wang\n    timezone: Europe/Berlin\n")
    (tmp_path / "people.yaml").write_text(people, encoding="utf-8")
    return tmp_path


async def test_a_teams_channel_reads_and_shows_the_teams_time(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()  # 01:00 UTC, 09:00 in Shanghai; SHIPWATCH_TIMEZONE is UTC
    # #web is team web's channel: Shanghai.
    out = await h.say("/remind 2026-11-23T17:00 check the canary", channel="#web")
    assert "set for 2026-11-23 17:00 UTC+8 (in 8h)" in h.reply_text(out)
    elsewhere = await h.say("/remind 2026-11-23T17:00 check the canary", channel="#ops")
    assert "set for 2026-11-23 17:00 UTC (in 16h)" in h.reply_text(elsewhere)


async def test_a_person_reads_replies_and_direct_messages_in_their_own_timezone(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(config_dir=config_with_zones(tmp_path))
    # carol lives in Berlin, though she is on web's rotation: her own timezone wins.
    out = await h.say("/remind 2026-11-23T18:00 standup", user="carol", channel="#ops")
    assert "set for 2026-11-23 18:00 UTC+1 (in 16h)" in h.reply_text(out)
    # bob has no timezone of his own: he reads his team's (web, Shanghai).
    bob = await h.say("/remind 2026-11-23T18:00 standup", user="bob", channel="#ops")
    assert "set for 2026-11-23 18:00 UTC+8 (in 9h)" in h.reply_text(bob)
    # dave has neither (a manager, on no rotation): SHIPWATCH_TIMEZONE.
    dave = await h.say("/remind 2026-11-23T18:00 standup", user="dave", channel="#ops")
    assert "set for 2026-11-23 18:00 UTC (in 17h)" in h.reply_text(dave)
    # A direct message: alice is asked for the evening report's notes an hour before it.
    await h.advance(hours=7)
    [ask] = [s.text for s in h.adapter.sent if s.kind == "direct" and s.address == "alice"]
    assert "The evening daily report is at 2026-11-23 17:00 UTC+8" in ask


async def test_a_bad_timezone_in_people_yaml_is_named(tmp_path: Path) -> None:
    from bot.config.directory import ConfigError, load

    config = config_with_zones(tmp_path)
    people = (config / "people.yaml").read_text(encoding="utf-8")
    (config / "people.yaml").write_text(people.replace("Europe/Berlin", "Mars/Olympus"), "utf-8")
    with pytest.raises(ConfigError) as raised:
        load(config)
    assert "'Mars/Olympus' is not a timezone; use an IANA name like Asia/Shanghai" in str(
        raised.value
    )
