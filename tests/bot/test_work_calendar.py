"""Working calendars from the libraries and the config: China's 2026 holidays and adjusted
working weekends (调休), another country's, the config's own days, mistakes named by
field, and ``shipwatch check``'s one line for a year the library does not know."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.directory import DEFAULTS, load
from bot.work_calendar import unknown_year_warning, work_calendar
from tests.bot.config.test_config_teams import TEAM, own_people
from tests.support import only_problem, write

HOURS = "  weekdays: [mon, tue, wed, thu, fri]\n"


def test_chinas_2026_calendar_has_the_spring_festival_and_its_saturday_worked() -> None:
    china = work_calendar("CN")
    assert china.is_working_day(date(2026, 2, 14))  # Saturday, worked in exchange (调休)
    assert not china.is_working_day(date(2026, 2, 16))  # Monday, the Spring Festival
    assert china.is_working_day(date(2026, 10, 10))  # Saturday after National Day
    assert not china.is_working_day(date(2026, 10, 7))
    assert not china.is_working_day(date(2026, 2, 21))  # a Saturday like any other


def test_another_countrys_calendar_comes_from_holidays() -> None:
    us = work_calendar("US")
    assert not us.is_working_day(date(2026, 7, 3))  # Independence Day, observed on Friday
    assert not us.is_working_day(date(2026, 2, 16))  # Washington's Birthday
    assert us.is_working_day(date(2026, 2, 17))


def test_the_shipped_calendar_is_chinas_and_every_team_keeps_it() -> None:
    config = load(None)
    assert config.incidents.policy.hours.calendar.country == "CN"
    assert config.teams["web"].calendar == config.incidents.policy.hours.calendar


def test_config_adds_a_holiday_and_takes_one_back_for_everyone_and_for_a_team(
    tmp_path: Path,
) -> None:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    severity = (tmp_path / "severity.yaml").read_text(encoding="utf-8")
    severity = severity.replace(
        HOURS, HOURS + "  holidays: [2026-12-24]\n  working_days: ['2026-02-16']\n"
    )
    write(tmp_path, "severity.yaml", severity)
    teams = (tmp_path / "teams.yaml").read_text(encoding="utf-8")
    teams += "    working_days: [2026-12-24]\n    holidays: [2026-02-14]\n"
    write(tmp_path, "teams.yaml", teams)
    config = load(tmp_path)
    everyone = config.incidents.policy.hours
    assert not everyone.is_working_day(date(2026, 12, 24))  # a company holiday
    assert everyone.is_working_day(date(2026, 2, 16))  # a festival day worked
    web = config.teams["web"].calendar
    assert web.is_working_day(date(2026, 12, 24))  # the team works the company holiday
    assert not web.is_working_day(date(2026, 2, 14))  # and takes the adjusted Saturday off
    assert web.is_working_day(date(2026, 2, 16))  # everyone's own days hold for the team


def test_a_team_names_its_own_country(tmp_path: Path) -> None:
    own_people(tmp_path)
    team = TEAM.format(manager="alice", target="'@bob'") + "    country: de-by\n"
    write(tmp_path, "teams.yaml", team)
    api = load(tmp_path).teams["api"].calendar
    assert api.country == "DE-BY"
    assert not api.is_working_day(date(2026, 1, 6))  # Epiphany, in Bavaria
    assert api.is_working_day(date(2026, 2, 16))  # no Spring Festival in Munich


@pytest.mark.parametrize(
    ("addition", "field", "problem"),
    [
        ("    country: XX\n", "teams.api.country", "is not a country whose working days"),
        ("    country: DE-ZZ\n", "teams.api.country", "DE has no region ZZ"),
        ("    holidays: [2026-02-30]\n", "teams.api.holidays[0]", "is not a day"),
        (
            "    holidays: [2026-10-08]\n    working_days: [2026-10-08]\n",
            "teams.api",
            "2026-10-08 is both a holiday and a working day; keep it in one list",
        ),
    ],
)
def test_calendar_mistakes_are_named(
    tmp_path: Path, addition: str, field: str, problem: str
) -> None:
    own_people(tmp_path)
    write(tmp_path, "teams.yaml", TEAM.format(manager="alice", target="'@bob'") + addition)
    found = only_problem(tmp_path)
    assert found.field == field
    assert problem in found.problem
    assert found.line is not None


def test_check_says_once_in_one_line_that_a_year_far_ahead_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own_people(tmp_path)
    team = TEAM.format(manager="alice", target="'@bob'").replace("{P2: never}", "{}")
    write(tmp_path, "teams.yaml", team + "    country: US\n")
    assert main(["check", str(tmp_path), "--on", "2999-03-01"]) == 0  # a warning, no failure
    out, err = capsys.readouterr()
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    line = warnings[0]
    assert "the working calendar does not know 2999 for CN (chinese-calendar " in line
    assert "; 2999 for US (holidays " in line
    assert "Monday to Friday are working days there" in line
    assert "upgrade chinese-calendar and holidays once the year's holidays are published." in line
    assert err == ""
    assert main(["check", str(tmp_path), "--on", "2026-06-01"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_the_next_year_is_said_only_once_it_is_close() -> None:
    assert unknown_year_warning(["CN"], today=date(2026, 6, 1)) is None
    close = unknown_year_warning(["CN"], today=date(2026, 11, 15))
    assert close is not None
    assert "2027 for CN" in close
    assert unknown_year_warning(["CN", "CN"], today=date(2999, 1, 1)) == (
        unknown_year_warning(["CN"], today=date(2999, 1, 1))
    )


def test_check_refuses_a_day_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--on", "next monday"]) == 2
    assert "--on 'next monday' is not a day; write it like 2027-01-04." in capsys.readouterr().err
