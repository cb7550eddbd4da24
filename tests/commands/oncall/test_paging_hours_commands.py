"""Business hours on pages through the pipeline, on SQLite and PostgreSQL: a P3 raised on
Saturday waits for Monday 09:00 Shanghai, a working-hours step is skipped at the weekend
and its skip is on the page's timeline."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config.directory import DEFAULTS
from tests.conftest import HarnessFactory
from tests.support import dms_to

pytestmark = pytest.mark.usefixtures("database_url")
SATURDAY = datetime(2026, 11, 28, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def config(tmp_path: Path, *, defer: str | None = None) -> Path:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    teams = (tmp_path / "teams.yaml").read_text(encoding="utf-8")
    teams = teams.replace(
        "{notify: secondary, wait: 10m}", "{notify: secondary, wait: 10m, when: working_hours}"
    )
    if defer is not None:
        teams += f"    defer_outside_working_hours: {defer}\n"
    (tmp_path / "teams.yaml").write_text(teams, encoding="utf-8")
    return tmp_path


async def test_a_p3_at_the_weekend_waits_for_monday_morning(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=SATURDAY, config_dir=config(tmp_path))
    out = await h.say('/page web "cron backlog" --sev P3')
    assert "it waits until 2026-11-30 09:00 UTC+8" in h.reply_text(out)
    await h.advance(days=1)
    assert dms_to(h, "bob") == []
    await h.advance(hours=23)  # Monday 09:00 Shanghai
    assert len(dms_to(h, "carol")) == 1  # carol is primary in the second week
    timeline = h.reply_text(await h.say("/pages --id 1"))
    assert "2026-11-28 10:00 UTC+8 deferred to the next working morning" in timeline
    assert "2026-11-30 09:00 UTC+8 notified @carol (primary)" in timeline


async def test_deferral_is_configurable_per_team(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=SATURDAY, config_dir=config(tmp_path, defer="[]"))
    out = await h.say('/page web "cron backlog" --sev P3')
    assert "Notified: @bob" in h.reply_text(out)


async def test_a_working_hours_step_is_skipped_at_the_weekend(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=SATURDAY, config_dir=config(tmp_path))
    out = await h.say('/page web "db down" --sev P1')
    assert "Notified: @bob" in h.reply_text(out)
    await h.advance(minutes=5)
    assert dms_to(h, "carol") == []  # secondary only in working hours
    assert len(dms_to(h, "dave")) == 1  # the manager at once instead
    timeline = h.reply_text(await h.say("/pages --id 1"))
    assert "2026-11-28 10:05 UTC+8 skipped secondary: outside working hours" in timeline
    missing = await h.say("/pages --id 9")
    assert "There is no page #9" in h.reply_text(missing)
