"""teams.yaml: the shipped example team, a team's own, and mistakes named by line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.directory import load
from playbooks.oncall.paging import Target
from tests.bot.config.test_config_dir import GOOD_PEOPLE
from tests.support import only_problem, problems_of, write

TEAM = """
teams:
  api:
    timezone: Europe/Berlin
    channel: "#api"
    manager: {manager}
    layers:
      primary: {{participants: [alice, bob], start: 2026-11-23T09:00, length: 1d}}
    escalation:
      steps:
        - {{notify: primary}}
        - {{notify: {target}, wait: 15m}}
    page_incidents: {{P2: never}}
"""


def own_people(folder: Path) -> None:
    write(folder, "people.yaml", GOOD_PEOPLE)  # alice and bob
    write(folder, "roles.yaml", "roles:\n  admin: [bob]\n")


def test_the_shipped_example_team() -> None:
    web = load(None).teams["web"]
    assert web.manager == "dave"
    assert web.rotations["primary"].participants == ("bob", "carol")
    assert [s.target for s in web.policy.steps] == [Target.LAYER, Target.LAYER, Target.MANAGER]
    assert [s.wait for s in web.policy.steps] == [timedelta(minutes=m) for m in (5, 10, 10)]
    assert web.policy.repeat == 2


def test_a_teams_own_file(tmp_path: Path) -> None:
    own_people(tmp_path)
    write(tmp_path, "teams.yaml", TEAM.format(manager="alice", target="'@bob'"))
    api = load(tmp_path).teams["api"]
    assert api.policy.steps[1].target is Target.PERSON
    assert api.policy.steps[0].wait == timedelta(minutes=5)  # the default wait
    assert api.page_on["P2"] == "never"
    assert api.page_on["P0"] == "policy"  # the severity policy in force decides


def test_own_people_without_own_teams_drop_the_example_team(tmp_path: Path) -> None:
    own_people(tmp_path)  # alice and bob only
    assert load(tmp_path).teams == {}


def test_unknown_people_and_targets_are_named(tmp_path: Path) -> None:
    own_people(tmp_path)
    write(tmp_path, "teams.yaml", TEAM.format(manager="zed", target="'@bob'"))
    problem = only_problem(tmp_path)
    assert (problem.field, problem.problem) == ("teams.api.manager", "'zed' is not in people.yaml")
    write(tmp_path, "teams.yaml", TEAM.format(manager="alice", target="tertiary"))
    [problem] = problems_of(tmp_path)
    assert "use primary, secondary, manager or @person" in problem.problem
    assert problem.line is not None


def test_a_step_that_reaches_nobody_is_named(tmp_path: Path) -> None:
    own_people(tmp_path)
    no_manager = TEAM.format(manager="alice", target="manager").replace("    manager: alice\n", "")
    write(tmp_path, "teams.yaml", no_manager)
    problem = only_problem(tmp_path)
    assert (problem.field, problem.problem) == (
        "teams.api.escalation.steps[1].notify",
        "notifies the manager, but the team names no manager",
    )


def test_the_shipped_team_defaults_for_hours_reminders_budget_and_calendar() -> None:
    web = load(None).teams["web"]
    assert web.defer_outside_hours == frozenset({"P3"})
    assert web.ack_reminder == timedelta(minutes=30)
    assert (web.page_budget.count, web.page_budget.window) == (5, timedelta(minutes=10))
    assert web.ical_token_env == "SHIPWATCH_ICAL_WEB_TOKEN"


def test_hours_reminders_and_budget_of_a_teams_own(tmp_path: Path) -> None:
    own_people(tmp_path)
    team = TEAM.format(manager="alice", target="'@bob'").replace(
        "wait: 15m}", "wait: 15m, when: working_hours}"
    )
    team += "    ack_reminder: never\n    defer_outside_working_hours: []\n"
    team += "    page_budget: {count: 3, window: 5m}\n"
    write(tmp_path, "teams.yaml", team)
    api = load(tmp_path).teams["api"]
    assert [s.when.value for s in api.policy.steps] == ["always", "working_hours"]
    assert api.ack_reminder is None
    assert api.defer_outside_hours == frozenset()
    assert (api.page_budget.count, api.page_budget.window) == (3, timedelta(minutes=5))


def test_mistakes_in_the_new_settings_are_named(tmp_path: Path) -> None:
    own_people(tmp_path)
    base = TEAM.format(manager="alice", target="'@bob'")
    for extra, field in (
        ("    ack_reminder: sometimes\n", "teams.api.ack_reminder"),
        ("    page_budget: {count: 0}\n", "teams.api.page_budget.count"),
        ("    ical_token_env: my token\n", "teams.api.ical_token_env"),
        ("    defer_outside_working_hours: [P9]\n", "teams.api.defer_outside_working_hours[0]"),
    ):
        write(tmp_path, "teams.yaml", base + extra)
        problem = only_problem(tmp_path)
        assert problem.field == field, problem
    write(tmp_path, "teams.yaml", base.replace("wait: 15m}", "wait: 15m, when: nightly}"))
    assert only_problem(tmp_path).field == "teams.api.escalation.steps[1].when"


def test_a_policy_whose_steps_all_wait_for_working_hours_is_refused(tmp_path: Path) -> None:
    own_people(tmp_path)
    team = TEAM.format(manager="alice", target="'@bob'")
    team = team.replace("{notify: primary}", "{notify: primary, when: working_hours}")
    team = team.replace("wait: 15m}", "wait: 15m, when: working_hours}")
    write(tmp_path, "teams.yaml", team)
    problem = only_problem(tmp_path)
    assert problem.field == "teams.api.escalation.steps"
    assert "reaches nobody" in problem.problem
    assert problem.line is not None


def test_check_warns_where_paging_cannot_meet_the_promised_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own_people(tmp_path)
    write(tmp_path, "teams.yaml", TEAM.format(manager="alice", target="'@bob'"))
    # on a day of a year the working calendar knows, so its warning stays out of this
    on_a_known_day = ["--on", "2026-06-01"]
    assert main(["check", str(tmp_path), *on_a_known_day]) == 0  # a warning, not an error
    out, _ = capsys.readouterr()
    assert out.count("warning:") == 1
    assert (
        "warning: teams.yaml: team api pages P2 incidents never, but the severity policy "
        "launch-plan promises P2 a response within 30m around the clock; "
        "set page_incidents.P2 to policy." in out
    )
    assert main(["check", *on_a_known_day]) == 0  # the shipped team meets the shipped policy
    assert "warning" not in capsys.readouterr().out
