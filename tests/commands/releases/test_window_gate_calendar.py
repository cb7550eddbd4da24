"""The deploy window is one gate, read on the service's team's working days wherever it is
asked: a start on a public holiday is refused as a go or a promotion would be, where the
weekday window would have let it through on an ordinary Monday. Through the pipeline on
SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config.directory import DEFAULTS
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
SH = ZoneInfo("Asia/Shanghai")
FESTIVAL_MONDAY = datetime(2026, 2, 16, 17, 10, tzinfo=SH)  # the Spring Festival
ORDINARY_MONDAY = datetime(2026, 3, 2, 17, 10, tzinfo=SH)


def config(tmp_path: Path) -> Path:
    """The shipped config with the standard plan keeping to the default deploy windows
    (weekdays 17:00-18:00, weekends 10:00-11:00)."""
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    shutil.copytree(DEFAULTS / "plans", tmp_path / "plans")
    standard = tmp_path / "plans" / "standard.yaml"
    standard.write_text(standard.read_text(encoding="utf-8") + "windows: true\n", "utf-8")
    return tmp_path


async def test_a_start_on_a_holiday_is_outside_the_weekday_window(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=FESTIVAL_MONDAY, config_dir=config(tmp_path))
    refused = await h.say("/release start web 1.5.0")
    assert refused.status == "refused"
    text = h.reply_text(refused)
    assert "2026-02-16 is a holiday in the CN working calendar" in text
    assert "The next window opens 2026-02-17 10:00" in text  # a day off: the weekend window


async def test_a_start_on_an_ordinary_monday_is_in_the_weekday_window(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=ORDINARY_MONDAY, config_dir=config(tmp_path))
    assert (await h.say("/release start web 1.5.0")).status == "ok"
