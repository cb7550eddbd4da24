"""/me through the pipeline, on SQLite and PostgreSQL: identities in the order reached
(which platforms run), roles, teams and the next shifts in the team's timezone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config.directory import DEFAULTS
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


async def test_me_lists_identities_roles_teams_and_shifts(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    text = h.reply_text(await h.say("/me", user="bob"))
    assert "You are @bob (Bob Li)." in text
    assert "1. console:bob (pages go here first)" in text
    assert "Roles: responder" in text
    assert "Team web: Primary, Secondary" in text
    assert "Primary on web: now, until 2026-11-30 09:00 UTC+8" in text
    assert "Secondary on web: 2026-11-30 09:00 UTC+8 → 2026-12-07 09:00 UTC+8" in text
    assert text.index("Primary on web: now") < text.index("Secondary on web: 2026-11-30")


async def test_me_for_someone_on_no_team(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    text = h.reply_text(await h.say("/me", user="mallory"))
    assert "Roles: none" in text
    assert "You are in no on-call team." in text


async def test_an_identity_on_a_platform_not_running_is_skipped(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    for name in ("roles.yaml", "teams.yaml"):
        shutil.copy(DEFAULTS / name, tmp_path / name)
    people = (DEFAULTS / "people.yaml").read_text(encoding="utf-8")
    people = people.replace(
        "    identities:\n      console: bob\n",
        "    identities:\n      slack: U0BOB\n      console: bob\n",
    )
    (tmp_path / "people.yaml").write_text(people, encoding="utf-8")
    h = await make_harness(config_dir=tmp_path)
    text = h.reply_text(await h.say("/me", user="bob"))
    assert "1. slack:U0BOB (not running here, skipped)" in text
    assert "2. console:bob (pages go here first)" in text


async def test_a_way_through_apprise_is_named_by_its_way_alone(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    for name in ("roles.yaml", "teams.yaml"):
        shutil.copy(DEFAULTS / name, tmp_path / name)
    people = (DEFAULTS / "people.yaml").read_text(encoding="utf-8")
    inline = "mailto://relay.example.com?from=pager@example.com&to=bob@example.com"
    people = people.replace(
        "    identities:\n      console: bob\n",
        f"    identities:\n      sms: env:BOB_SMS_URL\n      email: '{inline}'\n"
        "      console: bob\n",
    )
    (tmp_path / "people.yaml").write_text(people, encoding="utf-8")
    h = await make_harness(config_dir=tmp_path)
    text = h.reply_text(await h.say("/me", user="bob"))
    assert "1. sms (not running here, skipped)" in text
    assert "2. email (not running here, skipped)" in text
    assert "BOB_SMS_URL" not in text
    assert "relay.example.com" not in text, "the way, never its address"
    assert "3. console:bob (pages go here first)" in text
