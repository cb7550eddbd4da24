"""The console as a person uses it: ``shipwatch console --drill`` fed a script on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def console(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


SCRIPT = """\
# a reminder, a rehearsal of ten minutes, and a cancelled one
/remind 10m check the canary dashboards
/remind 1h "go/no-go meeting"
:advance 10m
/reminders
:press {cancel_token}
:advance 2h
/reminders
"""


def test_drill_scenario_prints_every_message_with_its_header() -> None:
    first = console(SCRIPT.replace(":press {cancel_token}\n", ""), "--drill")
    assert first.returncode == 0, first.stderr
    # The listing shows the 1h reminder with a Cancel button; press it in a second run.
    tokens = [line.split()[-1] for line in first.stdout.splitlines() if line.startswith("[Cancel]")]
    token = tokens[-1]  # the listing's button, for reminder #2
    result = console(SCRIPT.format(cancel_token=token), "--drill")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("-- Shipwatch console — you are @alice in #ops.")
    assert ">>> #ops\n⏰ Reminder #1 set for 2026-11-23 01:10 UTC (in 10m): check the canary" in out
    assert ">>> #ops\n⏰ Reminder from @alice:\ncheck the canary dashboards\n" in out
    assert "-- The clock is now 2026-11-23 01:10 UTC." in out
    assert "Reminder #2 cancelled: go/no-go meeting" in out
    assert "Reminder from @alice:\ngo/no-go meeting" not in out, "a cancelled reminder never fires"
    assert out.rstrip().endswith("No reminders are pending here.")
    assert "Traceback" not in out + result.stderr


def test_drill_output_is_deterministic() -> None:
    runs = [console(SCRIPT.replace(":press {cancel_token}\n", ""), "--drill") for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout


def test_directives_and_people() -> None:
    result = console(
        ":as mallory\n/remind 5m hi\n:as nobody\n:in releases\n:now\n:bogus\n:advance 10x\n",
        "--drill",
        "--start",
        "2026-11-23T09:00:00+08:00",
    )
    out = result.stdout
    assert "-- You are now @mallory." in out
    assert "/remind needs the responder role" in out
    assert "There is nobody called “nobody”. Known people: alice, bob, carol, dave, mallory." in out
    assert "-- You are now in #releases." in out
    assert "-- It is 2026-11-23 01:00 UTC." in out
    assert "There is no directive “:bogus”." in out
    assert "“10x” is not a duration" in out


def test_play_types_a_drill_script_in_the_console_that_plays_it(tmp_path: Path) -> None:
    """``:play FILE`` is the script's story in this console (and its database), as if
    each line were typed here, so it can be looked at afterwards (``/pages``, ``/web``)."""
    script = tmp_path / "story.txt"
    script.write_text(
        "# a P0 nobody answers, then carol takes it\n"
        ":in #web\n"
        '/incident open "checkout returns 500" --sev P0 --service web\n'
        ":advance 5m\n"
        ":play elsewhere.txt\n",
        encoding="utf-8",
    )
    result = console(f":play {script}\n/pages\n:play {tmp_path / 'missing.txt'}\n", "--drill")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert '-- alice@#ops> /incident open "checkout returns 500" --sev P0 --service web' not in out
    assert '-- alice@#web> /incident open "checkout returns 500" --sev P0 --service web' in out
    assert "-- The clock is now 2026-11-23 01:05 UTC." in out
    assert "A script cannot play another script" in out
    assert f"-- Played 4 lines of {script}." in out
    # The script's story stays: the console that played it is in #web, the page is open.
    after = out.split(f"Played 4 lines of {script}.")[1]
    assert ">>> #web\n1 page:\n  #1 P0: #1 checkout returns 500 — web, open, @bob, @carol" in after
    assert f"Cannot read “{tmp_path / 'missing.txt'}” as a UTF-8 text file" in out
    assert "Traceback" not in out + result.stderr


def test_shipwatch_help_describes_the_tool() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=False
    )
    assert "Shipwatch: releases, incidents and on-call paging from chat." in result.stdout
    assert "``" not in result.stdout


def test_chinese_console() -> None:
    result = console("/remind 10m 检查灰度指标\n/remnd\n", "--drill", "--locale", "zh")
    assert "⏰ 提醒 #1 已设定在 2026-11-23 01:10 UTC（10分钟后）：检查灰度指标" in result.stdout
    assert "没有 /remnd 这个命令。您是想输入 /remind 吗？" in result.stdout


def test_one_advance_is_capped_at_a_week() -> None:
    result = console(":advance 3650d\n:now\n:advance 7d\n:now\n", "--drill")
    out = result.stdout
    assert "-- One :advance moves at most 7d; “3650d” is more." in out
    assert "-- It is 2026-11-23 01:00 UTC." in out, "a refused advance leaves the clock alone"
    assert "-- The clock is now 2026-11-30 01:00 UTC." in out


def test_advance_is_for_drills_only(tmp_path: Path) -> None:
    result = console(":advance 5m\n", env={"SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    assert result.returncode == 0
    assert ":advance works only in a drill" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "zed"], "there is nobody called 'zed'"),
        (["--drill", "--start", "tomorrow"], "--start 'tomorrow' is not an ISO 8601 time"),
        (["--drill", "--start", "2026-11-23T09:00"], "needs an offset"),
        (["--drill", "--start", "0001-01-01T00:00:00Z"], "outside the years 2000–2099"),
        (["--drill", "--start", "9999-12-31T23:59:00Z"], "outside the years 2000–2099"),
    ],
)
def test_bad_command_line_is_one_sentence(args: list[str], message: str) -> None:
    result = console("", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_button_is_pressed_by_its_label_the_newest_near_you_first() -> None:
    script = """\
/remind 1h "check ops"
:in #web
/remind 2h "check web"
:in #ops
:press cancel
:press Nowhere
/reminders
"""
    result = console(script, "--drill")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The newest Cancel is #2's in #web; in #ops the one shown here is pressed.
    assert "Reminder #1 cancelled: check ops" in out
    assert "Reminder #2 cancelled" not in out
    assert "That button is not known here; run the command again." in out  # :press Nowhere
    assert out.count("No reminders are pending here.") == 1
    assert "Traceback" not in out + result.stderr
