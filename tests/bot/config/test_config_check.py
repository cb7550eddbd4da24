"""``shipwatch check``: every problem of a config directory in one run, references between
files checked, each problem a sentence with its file and line; warnings do not fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.directory import DEFAULTS, load
from playbooks.people import Role
from tests.bot.config.test_config_dir import GOOD_PEOPLE as PEOPLE
from tests.support import write


def check(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", str(folder)])
    out, err = capsys.readouterr()
    return code, out, err


def problem_lines(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines() if line.startswith("  ")]


ROLES = "roles:\n  admin: [alice]\n  responder: [bob]\n"


def test_a_bad_plan_and_its_service_show_every_problem_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(
        tmp_path,
        "plans/fast.yaml",
        """
        name: fast
        stages:
          - {name: canary, percent: 10%, soak: 10m}
          - {name: canary, percent: 5%, targets: {error_rate: 1%}}
          - {name: full, percent: 100%}
        guards:
          - name: error_rate
            query: rate(errors[5m])
            max: 2%
            for: 5
            action: stop
        decision: [owner]
        decision: [owner, release-manager]
        runbook:
          - {at: "T+0:00", step: Deploy, owner: devopps}
        """,
    )
    services = write(
        tmp_path,
        "services.yaml",
        """
        services:
          web:
            plan: fast
            release_channel: "#releases"
            tier: platinum
        """,
    )
    code, out, err = check(tmp_path, capsys)
    assert code == 2
    assert out == ""
    # Before, each of these waited for the ones above it to be fixed: four runs.
    assert problem_lines(err) == [
        f"{plan}:4: stages[1].percent: 5% does not follow 10%: percentages must be strictly "
        "increasing",
        f"{plan}:4: stages[1].name: stage 'canary' is named twice",
        f"{plan}:10: guards[0].for: 5 has no unit; write it like 30s, 5m, 2h or 1d",
        f"{plan}:13: 'decision' is written twice; keep one (YAML keeps the last)",
        f"{plan}:15: runbook[0].owner: 'devopps' is nobody Shipwatch knows: not a role, a duty "
        "of roles.yaml or a person of people.yaml; did you mean devops?",
        f"{services}:5: services.web.tier: there is no SLA tier 'platinum' in summaries.yaml; "
        "tiers: agent, core, support",
    ]
    assert "the configuration has 6 problems:" in err


def test_a_guard_on_a_bad_guard_name_is_not_blamed_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stage target naming a guard that has its own problem is no second problem."""
    plan = write(
        tmp_path,
        "plans/fast.yaml",
        """
        name: fast
        stages:
          - {name: canary, percent: 10%, targets: {error_rate: 1%}}
          - {name: full, percent: 100%}
        guards:
          - {name: error_rate, query: errors, max: lots, for: 5m, action: stop}
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{plan}:6: guards[0].max: 'lots' is not a number; write it like 0.005 or 0.5%"
    ]


def test_a_service_naming_a_team_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = write(
        tmp_path,
        "services.yaml",
        """
        services:
          web:
            plan: standard
            team: ghostteam
            release_channel: "#releases"
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{services}:4: services.web.team: there is no team 'ghostteam' in teams.yaml, so its "
        "incidents would page nobody; teams: web"
    ]


def test_a_typo_in_an_identity_platform(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
            identities:
              slakc: U012345
        """,
    )
    write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n")
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    [line] = problem_lines(err)
    assert line.startswith(f"{people}:5: people[0].identities.slakc: 'slakc' is not a platform")
    assert line.endswith("did you mean slack?")


def test_a_number_where_an_id_is_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
            identities:
              slack: 12345
        """,
    )
    write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n")
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{people}:5: people[0].identities.slack: slack id 12345 must be quoted text, like "
        'slack: "U012345"'
    ]
    assert "valid string" not in err


def test_a_lone_people_yaml_is_not_blamed_on_the_shipped_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "people.yaml", "people:\n  - {handle: wang.wei, name: 王伟}\n")
    code, out, err = check(tmp_path, capsys)
    assert code == 0, err
    assert "is valid: 1 person," in out
    assert str(DEFAULTS) not in out + err
    # A warning prints but does not fail the check.
    assert out.splitlines()[1] == (
        f"warning: {tmp_path / 'roles.yaml'}: is not there, so the shipped example applies, "
        "and its people alice, bob, carol, dave are not in your people.yaml: nobody holds a "
        "role; add roles.yaml (like roles: {admin: [you]})"
    )
    assert err == ""


def test_a_people_yaml_with_the_example_people_keeps_their_shipped_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "people.yaml", PEOPLE)
    code, out, _ = check(tmp_path, capsys)
    assert code == 0
    assert "carol, dave are not in your people.yaml: they hold no role" in out
    alice = load(tmp_path).directory.get("alice")
    assert alice is not None
    assert Role.ADMIN in alice.roles


@pytest.mark.parametrize("limit", ["1e309%", "1e309", ".inf", "150%", "-1%"])
def test_a_guard_limit_a_reading_can_never_cross_is_refused(
    limit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(
        tmp_path,
        "plans/fast.yaml",
        f"""
        name: fast
        stages:
          - {{name: full, percent: 100%}}
        guards:
          - name: error_rate
            query: errors
            max: {limit}
            for: 5m
            action: stop
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    [line] = problem_lines(err)
    assert line.startswith(f"{plan}:7: guards[0].max: ")
    assert "a reading can cross; give a finite limit" in line or (
        "is out of range; a limit in percent is between 0% and 100%" in line
    )


def test_every_repeated_key_and_every_file_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = write(
        tmp_path,
        "people.yaml",
        """
        people:
          - handle: alice
            name: Alice Chen
            name: Alice
          - handle: bob
            name: Bob Li
            locale: en
            locale: zh
        """,
    )
    roles = write(tmp_path, "roles.yaml", "roles:\n  admin: [alice, zed]\n")
    teams = write(
        tmp_path,
        "teams.yaml",
        """
        teams:
          ops:
            channel: ops
            layers:
              primary: {participants: [alice, yan], start: 2026-11-23T09:00, length: 1w}
            escalation:
              steps: [{notify: primary}]
          broken:
            layers: {}
            escalation: {steps: []}
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{people}:4: 'name' is written twice; keep one (YAML keeps the last)",
        f"{people}:8: 'locale' is written twice; keep one (YAML keeps the last)",
        f"{roles}:2: roles.admin[1]: 'zed' is not in people.yaml",
        f"{teams}:3: teams.ops.channel: 'ops' is not a channel; write it like \"#releases\" "
        '(quoted) or "slack:C0123"',
        f"{teams}:5: teams.ops.layers.primary.participants[1]: 'yan' is not in people.yaml",
        f"{teams}:10: teams.broken.escalation.steps: steps needs at least 1 entry; it has none",
    ]


def test_an_unquoted_channel_is_a_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = write(
        tmp_path,
        "services.yaml",
        """
        services:
          web:
            plan: standard
            release_channel: "#releases"
            incident_channel: #incidents
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{services}:5: services.web.incident_channel: the # starts a YAML comment, so "
        'incident_channel is empty; quote the channel, like incident_channel: "#incidents"'
    ]


def test_owners_and_platforms_of_playbooks_and_plans_name_someone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "people.yaml", PEOPLE)
    write(tmp_path, "roles.yaml", ROLES + "duties:\n  dba: [bob]\n")
    books = write(
        tmp_path,
        "playbooks.yaml",
        """
        playbooks:
          db-down:
            title: Database down
            trigger: the primary stops answering
            decision: ["@carol"]
            notify: ["#ops", "slakc:C0123", dba]
            steps:
              - {due: "T+5m", step: Fail over, owner: dbaa}
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{books}:5: playbooks.db-down.decision[0]: 'carol' is not in people.yaml",
        f"{books}:6: playbooks.db-down.notify[1]: 'slakc' is not a platform Shipwatch knows "
        "(console, slack, telegram, dingtalk, feishu, discord, mattermost, email, sms, push, "
        "apprise); "
        "did you mean slack?",
        f"{books}:8: playbooks.db-down.steps[0].owner: 'dbaa' is nobody Shipwatch knows: not a "
        "role, a duty of roles.yaml or a person of people.yaml; did you mean dba?",
    ]


def test_a_good_config_with_every_reference_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "people.yaml", PEOPLE)
    write(tmp_path, "roles.yaml", ROLES)
    write(
        tmp_path,
        "teams.yaml",
        """
        teams:
          ops:
            channel: "slack:C0123"
            layers:
              primary: {participants: [alice, bob], start: 2026-11-23T09:00, length: 1w}
            escalation:
              steps: [{notify: primary}, {notify: "@bob"}]
        """,
    )
    write(
        tmp_path,
        "services.yaml",
        """
        services:
          web: {plan: standard, team: ops, release_channel: "#releases"}
        """,
    )
    code, out, err = check(tmp_path, capsys)
    assert (code, err) == (0, "")
    assert "is valid: 2 people, 1 services" in out


def test_run_refuses_the_same_problems_check_names(tmp_path: Path) -> None:
    """``shipwatch run`` reads the config through the same checks, and does not start."""
    services = write(
        tmp_path,
        "services.yaml",
        """
        services:
          web: {plan: standard, team: ghostteam, release_channel: "#releases"}
        """,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "SHIPWATCH_CONFIG_DIR": str(tmp_path),
            "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        },
    )
    assert result.returncode == 2
    assert f"{services}:2: services.web.team: there is no team 'ghostteam'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run.db").exists()


def test_channels_yaml_names_known_platforms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = write(
        tmp_path,
        "channels.yaml",
        'telegram: {"#releases": "-100123"}\ntelegarm: {"#ops": "-100456"}\n',
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{channels}:2: telegarm: 'telegarm' is not a platform Shipwatch knows "
        "(console, slack, telegram, dingtalk, feishu, discord, mattermost, email, sms, push, "
        "apprise); "
        "did you mean telegram?"
    ]


def test_check_speaks_the_configured_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    services = write(
        tmp_path,
        "services.yaml",
        """
        services:
          web: {plan: standard, team: ghostteam, release_channel: "#releases"}
        """,
    )
    monkeypatch.setenv("SHIPWATCH_LOCALE", "zh")
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert err.splitlines() == [
        "shipwatch: 配置有 1 个问题：",
        f"  {services}:2: services.web.team: teams.yaml 里没有团队 'ghostteam'，它的故障将呼叫"
        "不到任何人；现有团队：web",
    ]
    # --locale wins over the setting, as in the console
    assert main(["check", str(tmp_path), "--locale", "en"]) == 2
    assert "the configuration has 1 problem:" in capsys.readouterr().err


def test_wrong_types_read_as_what_to_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(
        tmp_path,
        "plans/fast.yaml",
        """
        name: fast
        auto_promote: maybe
        stages:
          - {name: full, percent: 100%, approvals: two}
        decision: ["Release Manager"]
        gonogo: [required]
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    assert problem_lines(err) == [
        f"{plan}:2: auto_promote: auto_promote must be true or false; 'maybe' is neither",
        f"{plan}:4: stages[0].approvals: approvals must be a whole number, like 3; 'two' is "
        "not one",
        f"{plan}:5: decision[0]: 'Release Manager' is not a decision Shipwatch understands; "
        "write owner, a role, a duty of roles.yaml or @person",
        f"{plan}:6: gonogo: gonogo must be a mapping (name: value lines indented under it), "
        "not list",
    ]


def test_a_service_is_not_blamed_for_its_plan_files_own_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(tmp_path, "plans/fast.yaml", "name: fast\nstages: [\n")
    write(
        tmp_path,
        "services.yaml",
        """
        services:
          web: {plan: fast, release_channel: "#releases"}
        """,
    )
    code, _, err = check(tmp_path, capsys)
    assert code == 2
    [line] = problem_lines(err)
    assert line.startswith(f"{plan}:3: not valid YAML")
