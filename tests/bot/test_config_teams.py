"""teams.yaml: the shipped example team, a team's own, and mistakes named by line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config_dir import load
from playbooks.paging import Target
from tests.bot.test_config_dir import GOOD_PEOPLE, only_problem, problems_of, write

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
    assert api.page_on["P0"] == "always"


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
