"""Timers survive a restart: a second process on the same database fires what the first armed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.usefixtures("database_url")


def drill(database_url: str, start: str, script: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--drill", "--start", start],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SHIPWATCH_DATABASE_URL": database_url},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_reminder_fires_once_late_after_restart(database_url: str) -> None:
    first = drill(database_url, "2026-11-23T09:00:00+08:00", "/remind 10m check the canary\n")
    assert "Reminder #1 set for 2026-11-23 01:10 UTC" in first
    assert "Reminder from" not in first

    # The bot was down from 09:00 until 09:25: the reminder fires once, on start, marked late.
    second = drill(database_url, "2026-11-23T09:25:00+08:00", "/reminders\n")
    assert second.count("⏰ Reminder from @alice:") == 1
    assert "check the canary\n(late by 15m: Shipwatch could not post it on time)" in second
    assert "No reminders are pending here." in second

    # Drill button tokens repeat from run to run; a kept database must not trip on them.
    third = drill(database_url, "2026-11-23T10:00:00+08:00", "/reminders\n/remind 5m again\n")
    assert "Reminder from" not in third, "never twice"
    assert "⏰ Reminder #2 set for 2026-11-23 02:05 UTC (in 5m): again" in third
    assert "Something went wrong" not in third


def test_reminder_due_after_restart_fires_on_time(database_url: str) -> None:
    drill(database_url, "2026-11-23T09:00:00+08:00", "/remind 1h retro\n")
    second = drill(database_url, "2026-11-23T09:30:00+08:00", ":advance 30m\n")
    assert "⏰ Reminder from @alice:\nretro\n-- The clock" in second
    assert "late by" not in second
