"""Setting Discord up: ``shipwatch discord register`` against the fake API, run as the
command people run, and what ``shipwatch check`` and the start say of its settings."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import adapters
from bot.adapters.discord_setup import application_commands, problems
from bot.cli import main
from bot.config.directory import load
from bot.errors import StartupError
from bot.i18n import Translator
from bot.settings import Settings
from commands.table import build_table
from tests.fakes.discord_api import APPLICATION_ID, TOKEN, FakeDiscord, Signer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(now=lambda: datetime.now(UTC))
    await server.start()
    yield server
    await server.stop()


async def shipwatch(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return int(process.returncode or 0), out.decode(), err.decode()


def discord_env(fake: FakeDiscord, **more: str) -> dict[str, str]:
    return {
        "SHIPWATCH_DISCORD_BOT_TOKEN": TOKEN,
        "SHIPWATCH_DISCORD_APPLICATION_ID": APPLICATION_ID,
        "SHIPWATCH_DISCORD_PUBLIC_KEY": Signer().public_hex,
        "SHIPWATCH_DISCORD_API_URL": f"{fake.base_url}/api/v10",
        **more,
    }


async def test_register_puts_one_command_per_family_in_a_server(fake: FakeDiscord) -> None:
    code, out, err = await shipwatch(
        "discord", "register", "--guild", "613425648685547541", env=discord_env(fake)
    )
    assert (code, err) == (0, "")
    [put] = fake.of("PUT", f"/applications/{APPLICATION_ID}/guilds/613425648685547541/commands")
    names = [c["name"] for c in put.body]
    assert {"release", "incident", "page", "ack", "shipwatch"} <= set(names)
    release = next(c for c in put.body if c["name"] == "release")
    assert [o["name"] for o in release["options"]] == ["args"]
    assert release["options"][0]["type"] == 3  # STRING: the rest of the command line
    assert all(len(c["description"]) <= 100 for c in put.body)
    assert "zh-CN" in release["description_localizations"]
    assert f"Registered {len(names)} commands in server 613425648685547541" in out


async def test_register_everywhere_overwrites_the_global_commands(fake: FakeDiscord) -> None:
    code, out, _ = await shipwatch("discord", "register", env=discord_env(fake))
    assert code == 0
    assert fake.of("PUT", f"/applications/{APPLICATION_ID}/commands")
    assert "everywhere" in out


async def test_register_with_a_wrong_token_says_which_setting(fake: FakeDiscord) -> None:
    env = discord_env(fake, SHIPWATCH_DISCORD_BOT_TOKEN="not-the-token")
    code, _, err = await shipwatch("discord", "register", env=env)
    assert code == 1
    assert "check SHIPWATCH_DISCORD_BOT_TOKEN" in err
    assert "not-the-token" not in err, "a secret is never printed"


def test_every_family_is_a_command_and_names_are_valid() -> None:
    commands = application_commands(build_table())
    names = [c["name"] for c in commands]
    assert set(build_table().families) | {"shipwatch"} == set(names)
    assert all(n.islower() and 1 <= len(n) <= 32 for n in names)


def test_check_reports_what_discord_lacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHIPWATCH_DISCORD_BOT_TOKEN", "some-token")
    monkeypatch.setenv("SHIPWATCH_DISCORD_PUBLIC_KEY", "abcd")
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "SHIPWATCH_DISCORD_APPLICATION_ID is not set" in err
    assert "SHIPWATCH_DISCORD_PUBLIC_KEY is not a public key" in err
    assert "some-token" not in err


def test_check_is_quiet_about_discord_when_it_is_not_set_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check"]) == 0
    assert "DISCORD" not in capsys.readouterr().err


def test_a_full_setup_has_no_problems_and_half_of_one_stops_the_start() -> None:
    whole = Settings(
        discord_bot_token=TOKEN,  # type: ignore[arg-type]
        discord_application_id=APPLICATION_ID,
        discord_public_key=Signer().public_hex,
    )
    assert problems(whole) == []
    built = adapters.build(whole, load(None))
    assert list(built) == ["discord"]
    assert [r.path for r in built["discord"].routes()] == ["/discord/interactions"]
    half = Settings(discord_application_id=APPLICATION_ID)
    said = [Translator("zh", UTC)(p) for p in problems(half)]
    assert said[0].startswith("SHIPWATCH_DISCORD_BOT_TOKEN 未设置")
    with pytest.raises(StartupError, match="SHIPWATCH_DISCORD_PUBLIC_KEY is not set"):
        adapters.build(half, load(None))
