"""The config directory: shipped defaults, overrides, and problems named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.config.directory import DEFAULTS, load
from bot.settings import Settings
from playbooks.people import Role
from tests.support import only_problem, problems_of, write

GOOD_PEOPLE = """
    people:
      - handle: alice
        name: Alice Chen
        identities:
          console: alice
      - handle: bob
        name: Bob Li
        identities:
          console: bob
"""


# --- the shipped defaults --------------------------------------------------------------------


def test_shipped_defaults_load() -> None:
    config = load(None)
    people = config.directory.people
    assert set(people) == {"alice", "bob", "carol", "dave", "mallory"}
    assert config.sources == {
        "people.yaml": DEFAULTS / "people.yaml",
        "roles.yaml": DEFAULTS / "roles.yaml",
        "services.yaml": DEFAULTS / "services.yaml",
        "severity.yaml": DEFAULTS / "severity.yaml",
        "alerts.yaml": DEFAULTS / "alerts.yaml",
        "teams.yaml": DEFAULTS / "teams.yaml",
        "summaries.yaml": DEFAULTS / "summaries.yaml",
        "playbooks.yaml": DEFAULTS / "playbooks.yaml",
        "heartbeats.yaml": DEFAULTS / "heartbeats.yaml",
        "status.yaml": DEFAULTS / "status.yaml",
    }
    assert config.incidents.policy.name == "launch-plan"
    assert set(config.incidents.policies) == {"launch-plan", "pilot-run", "operations"}
    assert set(config.releases.catalog.plans) == {"standard", "gray-miniprogram"}
    services = config.releases.catalog.services
    assert {name: (s.plan, s.release_channel, s.traffic.value) for name, s in services.items()} == {
        "web": ("standard", "#releases", "simulated"),
        "miniapp": ("gray-miniprogram", "#releases", "simulated"),
    }


def test_shipped_roles() -> None:
    directory = load(None).directory
    alice, bob, mallory = directory.get("alice"), directory.get("bob"), directory.get("mallory")
    assert alice is not None
    assert bob is not None
    assert mallory is not None
    assert alice.roles == {Role.ADMIN, Role.RELEASE_MANAGER}
    assert bob.roles == {Role.RESPONDER}
    assert mallory.roles == frozenset()
    assert alice.name == "Alice Chen"
    assert alice.identities == {"console": "alice"}


def test_roles_imply_lesser_roles() -> None:
    directory = load(None).directory
    alice, bob, carol, mallory = (directory.get(h) for h in ("alice", "bob", "carol", "mallory"))
    assert alice is not None
    assert bob is not None
    assert carol is not None
    assert mallory is not None
    assert alice.has_role(Role.RESPONDER)
    assert alice.has_role(Role.INCIDENT_COMMANDER)  # admin implies every role
    assert bob.has_role(Role.VIEWER)
    assert not bob.has_role(Role.RELEASE_MANAGER)
    assert not bob.has_role(Role.ADMIN)
    assert carol.has_role(Role.RESPONDER)
    assert not carol.has_role(Role.RELEASE_MANAGER)
    assert not any(mallory.has_role(role) for role in Role)


def test_directory_looks_people_up_by_identity() -> None:
    directory = load(None).directory
    person = directory.by_identity("console", "bob")
    assert person is not None
    assert person.handle == "bob"
    assert directory.by_identity("console", "nobody") is None
    assert directory.by_identity("slack", "bob") is None


# --- overrides -------------------------------------------------------------------------------


def test_empty_config_dir_uses_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert len(config.directory.people) == 5
    assert config.sources["people.yaml"] == DEFAULTS / "people.yaml"


def test_a_file_in_the_config_dir_replaces_the_shipped_one_whole(tmp_path: Path) -> None:
    people = write(tmp_path, "people.yaml", GOOD_PEOPLE)
    write(tmp_path, "roles.yaml", "roles:\n  admin: [bob]\n")
    config = load(tmp_path)
    assert set(config.directory.people) == {"alice", "bob"}
    assert config.sources == {
        "people.yaml": people,
        "roles.yaml": tmp_path / "roles.yaml",
        "services.yaml": DEFAULTS / "services.yaml",
        "severity.yaml": DEFAULTS / "severity.yaml",
        "alerts.yaml": DEFAULTS / "alerts.yaml",
        "teams.yaml": DEFAULTS / "teams.yaml",
        "summaries.yaml": DEFAULTS / "summaries.yaml",
        "playbooks.yaml": DEFAULTS / "playbooks.yaml",
        "heartbeats.yaml": DEFAULTS / "heartbeats.yaml",
        "status.yaml": DEFAULTS / "status.yaml",
    }
    bob, alice = config.directory.get("bob"), config.directory.get("alice")
    assert bob is not None
    assert alice is not None
    assert bob.roles == {Role.ADMIN}
    assert alice.roles == frozenset()


def test_locale_is_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: li.wei
            name: 李伟
            locale: zh
        """,
    )
    write(tmp_path, "roles.yaml", "roles: {}\n")
    person = load(tmp_path).directory.get("@Li.Wei")
    assert person is not None
    assert person.locale == "zh"
    assert person.name == "李伟"


# --- problems name file, line and field ------------------------------------------------------


def test_person_missing_a_name(tmp_path: Path) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
          - handle: bob
            identities:
              console: bob
        """,
    )
    problem = only_problem(tmp_path)
    assert problem.file == str(people)
    assert problem.line == 4  # the line where people[1] starts
    assert problem.field == "people[1].name"
    assert str(problem).startswith(f"{people}:4: people[1].name: ")


def test_handle_that_is_not_a_handle(tmp_path: Path) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - name: Alice Chen
            handle: alice
          - name: Bad
            handle: "Bad Handle"
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line, problem.field) == (str(people), 5, "people[1].handle")
    assert "'Bad Handle'" in problem.problem
    assert not problem.problem.startswith("Value error")


def test_bad_locale_and_unknown_field_each_get_their_line(tmp_path: Path) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
            locale: fr
            email: alice@example.com
        """,
    )
    problems = problems_of(tmp_path)
    found = {(p.file, p.line, p.field) for p in problems}
    assert found == {(str(people), 4, "people[0].locale"), (str(people), 5, "people[0].email")}
    [locale] = [p for p in problems if p.field == "people[0].locale"]
    assert "'fr'" in locale.problem


def test_invalid_yaml_gives_the_line(tmp_path: Path) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice
          - handle: bob
            name: Bob: Li
        """,
    )
    problem = only_problem(tmp_path)
    assert problem.file == str(people)
    assert problem.line == 5
    assert "YAML" in problem.problem


def test_wrong_shape_is_reported(tmp_path: Path) -> None:
    roles = write(tmp_path, "roles.yaml", "- admin\n- alice\n")
    problem = only_problem(tmp_path)
    assert problem.file == str(roles)
    assert problem.line == 1


def test_roles_naming_someone_unknown(tmp_path: Path) -> None:
    roles = write(
        tmp_path,
        "roles.yaml",
        """
        roles:
          admin: [alice]
          responder:
            - bob
            - zed
        """,
    )
    problem = only_problem(tmp_path)  # checked against the shipped people.yaml
    assert (problem.file, problem.line, problem.field) == (str(roles), 5, "roles.responder[1]")
    assert "zed" in problem.problem


def test_duplicate_handle(tmp_path: Path) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
          - handle: bob
            name: Bob Li
          - handle: alice
            name: Alice Again
        """,
    )
    write(tmp_path, "roles.yaml", "roles: {}\n")
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line, problem.field) == (str(people), 6, "people[2].handle")
    assert "alice" in problem.problem


def test_same_identity_on_two_people(tmp_path: Path) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
            identities:
              console: alice
          - handle: bob
            name: Bob Li
            identities:
              slack: U1
              console: alice
        """,
    )
    write(tmp_path, "roles.yaml", "roles: {}\n")
    problem = only_problem(tmp_path)
    assert problem.file == str(people)
    assert problem.line == 10
    assert problem.field == "people[1].identities.console"
    assert "alice" in problem.problem


def test_same_user_id_on_different_platforms_is_fine(tmp_path: Path) -> None:
    write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
            identities: {console: U1}
          - handle: bob
            name: Bob Li
            identities: {slack: U1}
        """,
    )
    write(tmp_path, "roles.yaml", "roles: {}\n")
    assert len(load(tmp_path).directory.people) == 2


def test_unknown_role_name(tmp_path: Path) -> None:
    roles = write(
        tmp_path,
        "roles.yaml",
        """
        roles:
          admin: [alice]
          wizard: [bob]
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line, problem.field) == (str(roles), 3, "roles.wizard")
    assert "admin" in problem.problem  # the message lists the valid roles


def test_every_problem_in_both_files_is_reported_at_once(tmp_path: Path) -> None:
    people = write(tmp_path, "people.yaml", "people:\n  - handle: Alice\n")
    roles = write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n  wizard: [alice]\n")
    found = {(p.file, p.field) for p in problems_of(tmp_path)}
    assert found == {
        (str(people), "people[0].handle"),
        (str(people), "people[0].name"),
        (str(roles), "roles.wizard"),
    }


def test_a_path_that_is_not_a_directory(tmp_path: Path) -> None:
    file = write(tmp_path, "people.yaml", GOOD_PEOPLE)
    for path in (file, tmp_path / "missing"):
        problem = only_problem(path)
        assert problem.file == str(path)
        assert problem.line is None
        assert "not a directory" in problem.problem


# --- shipwatch check -------------------------------------------------------------------------


def test_check_accepts_a_good_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "people.yaml", GOOD_PEOPLE)
    write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n  responder: [bob]\n")
    assert main(["check", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "valid" in out
    assert str(tmp_path) in out
    assert "2 people" in out
    assert err == ""


def test_check_without_a_directory_checks_the_shipped_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check"]) == 0
    out, _ = capsys.readouterr()
    assert "valid" in out
    assert "5 people" in out


def test_check_uses_the_config_dir_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "roles.yaml", "roles:\n  wizard: [alice]\n")
    monkeypatch.setenv("SHIPWATCH_CONFIG_DIR", str(tmp_path))
    assert main(["check"]) == 2
    assert "roles.wizard" in capsys.readouterr().err


def test_check_prints_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
          - handle: "Bad Handle"
          - handle: carol
            name: Carol
            locale: fr
        """,
    )
    roles = write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n  wizard: [alice]\n")
    assert main(["check", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "problems" in err
    for expected in (
        f"{people}:4: people[1].handle:",
        f"{people}:4: people[1].name:",
        f"{people}:7: people[2].locale:",
        f"{roles}:3: roles.wizard:",
    ):
        assert expected in err
    assert "valid:" not in err


def test_check_of_a_path_that_is_not_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert main(["check", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{missing}: is not a directory" in err


def test_summaries_yaml_problems_are_named_by_line_and_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        "summaries.yaml",
        """
        timezone: Mars/Base
        metrics:
          availability:
            query: up
            unit: percent
            target: {min: lots}
        """,
    )
    assert [str(p).removeprefix(str(tmp_path) + "/") for p in problems_of(tmp_path)] == [
        "summaries.yaml:1: timezone: 'Mars/Base' is not a timezone; use an IANA name like "
        "Asia/Shanghai or UTC",
        "summaries.yaml:5: metrics.availability.unit: "
        "'percent' is not an option for unit; use 'ratio', 'seconds' or 'count'",
        "summaries.yaml:6: metrics.availability.target.min: 'lots' is not a number; "
        "write it like 0.005, 0.5%, 100ms or 2s",
    ]


def test_the_shipped_summaries_carry_seed_000s_targets() -> None:
    metrics = {m.name: m for m in load(None).summaries.metrics}
    assert list(metrics) == [
        "availability",
        "p95_latency",
        "error_rate",
        "avg_response_time",  # seed 000's daily template: 平均响应时间
        "error_count",  # and 错误数
        "active_users",
    ]
    assert (metrics["p95_latency"].target.max, metrics["p95_latency"].alert.max) == (0.1, 0.2)
    assert (metrics["availability"].target.min, metrics["availability"].alert.min) == (
        0.995,
        0.99,
    )
    assert (metrics["error_rate"].target.max, metrics["error_rate"].alert.max) == (0.005, 0.01)
    assert metrics["active_users"].target.empty


def test_a_report_jitter_beyond_the_grace_window_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(summary_grace_minutes=5, summary_jitter_minutes=10)
    assert "keep the jitter at most the grace" in str(error.value)
    assert (
        Settings(summary_grace_minutes=10, summary_jitter_minutes=10).summary_jitter_minutes == 10
    )
