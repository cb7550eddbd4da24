"""Working days as China lives them, through the pipeline on SQLite and PostgreSQL: in
2026 Saturday 14 February is worked (调休) and 15-23 February are the Spring Festival, for
held P3 pages, working-hours escalation steps, working-day SLAs and deploy windows; and
the days a config adds or takes back."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.config.directory import DEFAULTS
from storage.models import IncidentRow
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
SH = ZoneInfo("Asia/Shanghai")
WORKED_SATURDAY = datetime(2026, 2, 14, 10, tzinfo=SH)
FESTIVAL_MONDAY = datetime(2026, 2, 16, 10, tzinfo=SH)
HOURS = "  weekdays: [mon, tue, wed, thu, fri]\n"


def config(tmp_path: Path, *, everyone: str = "", team: str = "") -> Path:
    """The shipped config with the web team on call from February, its secondary step in
    working hours only, the operations policy (P3: 1 working day), and ``everyone``'s and
    the ``team``'s own calendar lines."""
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    teams = (tmp_path / "teams.yaml").read_text(encoding="utf-8")
    teams = teams.replace("2026-11-23T09:00", "2026-02-02T09:00")
    teams = teams.replace(
        "{notify: secondary, wait: 10m}", "{notify: secondary, wait: 10m, when: working_hours}"
    )
    (tmp_path / "teams.yaml").write_text(teams + team, encoding="utf-8")
    severity = (tmp_path / "severity.yaml").read_text(encoding="utf-8")
    severity = severity.replace("policy: launch-plan", "policy: operations")
    (tmp_path / "severity.yaml").write_text(
        severity.replace(HOURS, HOURS + everyone), encoding="utf-8"
    )
    return tmp_path


def direct(h: Harness) -> list[str]:
    return [s.address for s in h.adapter.sent if s.kind == "direct"]


async def test_a_p3_pages_on_the_worked_saturday_and_waits_out_the_festival(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=WORKED_SATURDAY, config_dir=config(tmp_path))
    saturday = h.reply_text(await h.say('/page web "cron backlog" --sev P3'))
    assert "Notified: @" in saturday
    assert "waits until" not in saturday
    await h.advance(days=2)  # Monday 16 February, the Spring Festival
    monday = h.reply_text(await h.say('/page web "queue lag" --sev P3'))
    assert "it waits until 2026-02-24 09:00" in monday  # the first day back


async def test_a_working_hours_step_runs_on_the_worked_saturday_not_on_the_festival(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(start=WORKED_SATURDAY, config_dir=config(tmp_path))
    await h.say('/page web "db slow" --sev P1')
    await h.advance(minutes=5)
    saturday = h.reply_text(await h.say("/pages --id 1"))
    assert "notified @bob (secondary)" in saturday  # bob holds secondary this week
    assert "outside working hours" not in saturday
    await h.say("/ack 1", user="carol")
    await h.advance(days=2)
    await h.say('/page web "db slow again" --sev P1')
    await h.advance(minutes=5)
    monday = h.reply_text(await h.say("/pages --id 2"))
    assert "skipped secondary: outside working hours" in monday


async def test_a_working_day_promise_counts_the_worked_saturday_and_skips_the_festival(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    friday = datetime(2026, 2, 13, 10, tzinfo=SH)
    h = await make_harness(start=friday, config_dir=config(tmp_path))
    await h.say('/incident open "report export slow" --sev P3 --service web', user="bob")
    await h.advance(days=1, hours=7)  # Saturday 14 February, 17:00
    await h.say('/incident open "typo on the about page" --sev P3 --service web', user="bob")
    with unit_of_work(h.app.engine) as session:
        due = [
            row.respond_due.astimezone(SH).replace(tzinfo=None)
            for row in session.exec(select(IncidentRow).order_by(IncidentRow.id)).all()
            if row.respond_due is not None
        ]
    # 1 working day: Friday to the worked Saturday; from Saturday 17:00, an hour there and
    # eight on Tuesday 24 February, the first day back.
    assert due == [datetime(2026, 2, 14, 10), datetime(2026, 2, 24, 17)]


async def test_deploy_windows_keep_to_the_working_calendar(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    evening = datetime(2026, 2, 14, 17, 10, tzinfo=SH)
    h = await make_harness(start=evening, config_dir=config(tmp_path))
    saturday = h.reply_text(await h.say("/release window miniapp"))
    assert "OPEN until 2026-02-14 18:00" in saturday  # the weekday window, on a Saturday
    await h.advance(days=2)  # Monday 16 February, 17:10
    for said in [
        "/release start miniapp 2.0.0",
        *(f"/release check miniapp {n}" for n in (1, 2, 3, 4)),
    ]:
        assert (await h.say(said)).status == "ok", said
    refused = await h.say("/release go miniapp")
    assert refused.status == "refused"
    text = h.reply_text(refused)
    assert "2026-02-16 is a holiday in the CN working calendar" in text  # Spring Festival
    assert "The next window opens 2026-02-17 10:00" in text  # a day off: the weekend window


async def test_config_adds_a_holiday_for_everyone_and_a_working_day_for_the_team(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    # Monday 30 November off for the company; Saturday 28 November worked by web.
    folder = config(
        tmp_path,
        everyone="  holidays: [2026-11-30]\n",
        team="    working_days: [2026-11-28]\n",
    )
    h = await make_harness(start=datetime(2026, 11, 28, 10, tzinfo=SH), config_dir=folder)
    saturday = h.reply_text(await h.say('/page web "cron backlog" --sev P3'))
    assert "Notified: @" in saturday
    await h.advance(days=2)  # the company's Monday off
    monday = h.reply_text(await h.say('/page web "queue lag" --sev P3'))
    assert "it waits until 2026-12-01 09:00" in monday


async def test_config_takes_a_festival_day_back_as_a_working_day(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    folder = config(tmp_path, everyone="  working_days: [2026-02-16]\n")
    h = await make_harness(start=FESTIVAL_MONDAY, config_dir=folder)
    monday = h.reply_text(await h.say('/page web "queue lag" --sev P3'))
    assert "Notified: @" in monday
    assert "waits until" not in monday
