"""services.yaml and plans/*.yaml: every problem named by file, line and field, in a
sentence a person can act on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.directory import DEFAULTS, load
from tests.support import only_problem, problems_of, where, write


def guarded_plan(guard_lines: str) -> str:
    """A sound two-stage plan whose one guard is ``guard_lines`` (from line 6 on)."""
    return (
        "name: tiny\n"  # 1
        "stages:\n"  # 2
        "  - {name: canary, percent: 10%, soak: 30m}\n"  # 3
        "  - {name: full, percent: 100%}\n"  # 4
        "guards:\n"  # 5
        "  - name: error_rate\n"  # 6
        "    query: errors\n"  # 7
        + textwrap.indent(textwrap.dedent(guard_lines).lstrip("\n"), "    ")  # 8 on
    )


SERVICE = (
    "services:\n"  # 1
    "  web:\n"  # 2
    "    plan: standard\n"  # 3
    '    release_channel: "#releases"\n'  # 4
)


def services_yaml(folder: Path, extra: str) -> Path:
    """``services.yaml`` with one service, web, whose settings go on from line 5."""
    return write(
        folder,
        "services.yaml",
        SERVICE + textwrap.indent(textwrap.dedent(extra).lstrip("\n"), "    "),
    )


# --- stages ----------------------------------------------------------------------------------


def test_percentages_that_go_down_are_named_at_the_stage_that_does(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/backwards.yaml",
        """
        name: backwards
        stages:
          - name: canary
            percent: 30%
          - name: early
            percent: 10%
          - name: full
            percent: 100%
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 6, "stages[1].percent")
    assert problem.problem == "10% does not follow 30%: percentages must be strictly increasing"
    assert str(problem) == f"{plan}:6: stages[1].percent: {problem.problem}"


def test_a_repeated_percentage_is_not_strictly_increasing(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/flat.yaml",
        """
        name: flat
        stages:
          - {name: canary, percent: 10%}
          - {name: again, percent: 10}
          - {name: full, percent: 100%}
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 4, "stages[1].percent")
    assert "strictly increasing" in problem.problem


def test_a_last_stage_short_of_100_percent(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/short.yaml",
        """
        name: short
        stages:
          - {name: canary, percent: 10%}
          - {name: half, percent: 50%}
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line, problem.field) == (str(plan), 4, "stages[1].percent")
    assert problem.problem == "the last stage must send 100% of traffic"


def test_a_stage_percent_that_is_not_a_number(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/words.yaml",
        """
        name: words
        stages:
          - {name: canary, percent: ten}
          - {name: full, percent: 100%}
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 3, "stages[0].percent")
    assert problem.problem == "'ten' is not a percentage; write it like 10 or 10%"


# --- guards ----------------------------------------------------------------------------------


def test_a_guard_without_for(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            max: 5%
            action: rollback
        """),
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 6, "guards[0].for")  # the guard's first line
    assert problem.problem == "for is missing; add it"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", "5 has no unit; write it like 30s, 5m, 2h or 1d"),
        ("5 minutes", "'5 minutes' is not a duration; write it like 30s, 5m, 2h or 1d"),
    ],
)
def test_a_guard_for_that_is_not_a_duration(tmp_path: Path, value: str, expected: str) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan(f"""
            max: 5%
            for: {value}
            action: rollback
        """),
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 9, "guards[0].for")
    assert problem.problem == expected


def test_a_guard_for_of_zero_is_refused_on_its_line(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            max: 5%
            for: 0s
            action: rollback
        """),
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 9, "guards[0].for")
    assert "'0s'" in problem.problem


def test_a_guard_for_of_zero_says_it_must_be_longer_than_zero(tmp_path: Path) -> None:
    write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            max: 5%
            for: 0s
            action: rollback
        """),
    )
    problem = only_problem(tmp_path).problem
    assert "zero" in problem or "longer than" in problem, problem


def test_a_guard_with_neither_max_nor_min(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            for: 5m
            action: rollback
        """),
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 6, "guards[0]")
    assert problem.problem == "a guard needs max or min"


def test_a_threshold_that_is_not_a_number(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            for: 5m
            max: lots
            action: rollback
        """),
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 9, "guards[0].max")
    assert problem.problem == "'lots' is not a number; write it like 0.005 or 0.5%"


def test_an_unknown_guard_action_lists_the_actions(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            max: 5%
            for: 5m
            action: explode
        """),
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 10, "guards[0].action")
    for action in ("rollback", "stop", "pause", "warn"):
        assert action in problem.problem


def test_thresholds_read_as_numbers_or_percentages(tmp_path: Path) -> None:
    write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            max: "0.5%"
            min: 0.001
            for: 2m
            interval: 15s
            action: pause
        """),
    )
    plan = load(tmp_path).releases.catalog.plans["tiny"]
    [guard] = plan.guards
    assert guard.max == pytest.approx(0.005)
    assert guard.min == pytest.approx(0.001)
    assert guard.window == timedelta(minutes=2)
    assert guard.interval == timedelta(seconds=15)
    assert guard.action == "pause"
    assert guard.percent  # written "0.5%": shown "> 0.5%", never "> 0.005"
    assert guard.threshold == "> 0.5% or < 0.1%"
    assert [(s.name, s.percent, s.soak) for s in plan.stages] == [
        ("canary", 10.0, timedelta(minutes=30)),
        ("full", 100.0, None),
    ]


def test_a_stage_target_names_a_guard_of_the_plan(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/tiny.yaml",
        """
        name: tiny
        stages:
          - {name: canary, percent: 10%, soak: 30m, targets: {error_rate: "< 1%", crash: 0.1%}}
          - {name: full, percent: 100%}
        guards:
          - {name: error_rate, query: errors, max: 5%, for: 5m, action: rollback}
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 3, "stages[0].targets.crash")
    assert "there is no guard 'crash'" in problem.problem


def test_shipped_plans_carry_the_seeds_tiers_and_targets() -> None:
    plans = load(None).releases.catalog.plans
    standard = {g.name: (g.threshold, g.window, g.action) for g in plans["standard"].guards}
    # Seed 001 §4.1's alarm thresholds: errors > 1%, API > 500 ms.
    assert standard["error_rate_stop"] == ("> 1%", timedelta(minutes=5), "stop")
    assert standard["p99_latency_ms"] == ("> 500", timedelta(minutes=5), "stop")
    assert standard["error_rate"] == ("> 5%", timedelta(minutes=5), "rollback")
    gray = plans["gray-miniprogram"]
    tiers = {g.name: (g.threshold, g.window, g.action) for g in gray.guards}
    # Seed 003 §7.3 / §8.2: stop at crash > 0.1%, errors > 2%, API errors > 5%.
    assert tiers["crash_rate_stop"] == ("> 0.1%", timedelta(seconds=30), "stop")
    assert tiers["error_rate_stop"] == ("> 2%", timedelta(seconds=30), "stop")
    assert tiers["api_error_rate_stop"] == ("> 5%", timedelta(seconds=30), "stop")
    # Seed 003 §9.1: roll back at crash > 0.5% for 2m, errors > 5% / timeouts > 10% for 5m.
    assert tiers["crash_rate"] == ("> 0.5%", timedelta(minutes=2), "rollback")
    assert tiers["error_rate"] == ("> 5%", timedelta(minutes=5), "rollback")
    assert tiers["api_timeout_rate"] == ("> 10%", timedelta(minutes=5), "rollback")
    # Seed 003 §5.1: each stage's own targets.
    targets = {s.name: dict(s.targets) for s in gray.stages}
    assert targets["internal"] == pytest.approx({"crash_rate": 0.001, "error_rate": 0.01})
    assert targets["small"] == pytest.approx({"crash_rate": 0.0005, "error_rate": 0.005})
    assert targets["large"] == pytest.approx({"crash_rate": 0.0001, "error_rate": 0.001})
    assert gray.decision == ("owner", "release-manager")
    assert [(s.name, s.percent) for s in gray.stages] == [
        ("internal", 1),
        ("small", 5),
        ("large", 20),
        ("full", 100),
    ]


def test_a_key_written_twice_is_a_problem(tmp_path: Path) -> None:
    write(
        tmp_path,
        "plans/tiny.yaml",
        guarded_plan("""
            max: 5%
            for: 5m
            action: rollback
            for: 50m
        """),
    )
    problems_of(tmp_path)


# --- plan files ------------------------------------------------------------------------------


def test_two_plan_files_with_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "plans/a.yaml", "name: twin\nstages:\n  - {name: full, percent: 100%}\n")
    second = write(
        tmp_path,
        "plans/b.yaml",
        "# the same plan again\nname: twin\nstages:\n  - {name: all, percent: 100%}\n",
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(second), 2, "name")
    assert problem.problem == "another plan file is already named 'twin'"


def test_a_plan_named_like_a_shipped_one_in_another_file(tmp_path: Path) -> None:
    mine = write(
        tmp_path, "plans/mine.yaml", "name: standard\nstages:\n  - {name: full, percent: 100%}\n"
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(mine), 1, "name")  # named in the person's file, not ours
    assert "'standard'" in problem.problem


def test_a_plan_file_named_like_a_shipped_one_replaces_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "plans/standard.yaml",
        """
        name: standard
        description: "ours: half, then all"
        stages:
          - {name: half, percent: 50%, soak: 1h}
          - {name: all, percent: 100%}
        """,
    )
    catalog = load(tmp_path).releases.catalog
    standard = catalog.plans["standard"]
    assert [(s.name, s.percent) for s in standard.stages] == [("half", 50.0), ("all", 100.0)]
    assert standard.description == "ours: half, then all"
    assert standard.guards == ()
    assert set(catalog.plans) == {"standard", "gray-miniprogram"}
    assert catalog.services["web"].plan == "standard"  # the shipped services.yaml still loads


def test_a_plan_in_the_config_dir_adds_to_the_shipped_ones(tmp_path: Path) -> None:
    write(tmp_path, "plans/quick.yaml", "name: quick\nstages:\n  - {name: all, percent: 100%}\n")
    assert set(load(tmp_path).releases.catalog.plans) == {"standard", "gray-miniprogram", "quick"}


def test_every_problem_of_a_plan_is_reported_at_once(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/messy.yaml",
        """
        name: messy
        stages:
          - {name: canary, percent: 30%}
          - {name: Canary, percent: 10%}
        guards:
          - {name: g, query: q, for: 5m, action: warn}
        """,
    )
    found = {(p.file, p.line, p.field) for p in problems_of(tmp_path)}
    assert found == {
        (str(plan), 4, "stages[1].percent"),
        (str(plan), 4, "stages[1].name"),
        (str(plan), 6, "guards[0]"),
    }


# --- services.yaml ---------------------------------------------------------------------------


def test_a_service_naming_a_plan_that_does_not_exist(tmp_path: Path) -> None:
    write(tmp_path, "plans/quick.yaml", "name: quick\nstages:\n  - {name: all, percent: 100%}\n")
    services = write(
        tmp_path,
        "services.yaml",
        """
        services:
          web:
            release_channel: "#releases"
            plan: standrad
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(services), 4, "services.web.plan")
    assert problem.problem == (
        "there is no plan 'standrad'; plans: gray-miniprogram, quick, standard"
    )


def test_a_webhook_backend_needs_url_and_secret_env(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        traffic:
          backend: webhook
        """,
    )
    problems = problems_of(tmp_path)
    assert {where(p) for p in problems} == {
        (str(services), 6, "services.web.traffic.url"),
        (str(services), 6, "services.web.traffic.secret_env"),
    }
    sentences = {p.field: p.problem for p in problems}
    assert sentences["services.web.traffic.url"] == "the webhook backend needs url"
    assert sentences["services.web.traffic.secret_env"] == (
        "the webhook backend needs secret_env (an env variable name)"
    )


def test_a_webhook_backend_with_url_still_needs_secret_env(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        traffic:
          backend: webhook
          url: "https://deploy.example/traffic"
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.field) == (str(services), "services.web.traffic.secret_env")


def test_a_webhook_url_without_a_scheme(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        traffic:
          backend: webhook
          url: deploy.example/traffic
          secret_env: DEPLOY_SECRET
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(services), 7, "services.web.traffic.url")
    assert problem.problem == "'deploy.example/traffic' is not an http:// or https:// URL"


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        (
            "services.yaml",
            SERVICE + "    traffic: {backend: webhook, url: http://x, secret_env: deploy-secret}\n",
            "services.web.traffic.secret_env",
        ),
        ("plans/p.yaml", "name: My Plan\nstages:\n  - {name: all, percent: 100%}\n", "name"),
    ],
)
def test_names_that_break_a_pattern_get_a_sentence(
    tmp_path: Path, name: str, text: str, field: str
) -> None:
    write(tmp_path, name, text)
    problem = only_problem(tmp_path)
    assert problem.field == field
    assert "pattern" not in problem.problem, problem.problem


def test_an_unleash_backend_needs_its_settings(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        traffic:
          backend: unleash
          url: "https://unleash.example"
        """,
    )
    problems = problems_of(tmp_path)
    assert {where(p) for p in problems} == {
        (str(services), 6, f"services.web.traffic.{name}")
        for name in ("token_env", "feature", "strategy_id")
    }
    for p in problems:
        name = p.field.rsplit(".", 1)[1]
        assert p.problem == f"the unleash backend needs {name}"


def test_an_unleash_backend_without_a_url(tmp_path: Path) -> None:
    services_yaml(
        tmp_path,
        """
        traffic:
          backend: unleash
          token_env: UNLEASH_TOKEN
          feature: web-release
          strategy_id: s1
        """,
    )
    problem = only_problem(tmp_path)
    assert problem.field == "services.web.traffic.url"
    assert problem.problem == "the unleash backend needs url"


def test_a_prometheus_source_needs_url(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        metrics:
          source: prometheus
          timeout: 3s
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(services), 6, "services.web.metrics.url")
    assert problem.problem == "the prometheus source needs url"


def test_an_unknown_traffic_backend_lists_the_known_ones(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        traffic:
          backend: carrier-pigeon
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(services), 6, "services.web.traffic.backend")
    for backend in ("simulated", "manual", "webhook", "unleash"):
        assert backend in problem.problem


def test_an_unknown_metrics_source(tmp_path: Path) -> None:
    services = services_yaml(
        tmp_path,
        """
        metrics:
          source: graphite
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(services), 6, "services.web.metrics.source")
    assert "prometheus" in problem.problem


def test_a_configured_manual_service_loads(tmp_path: Path) -> None:
    services_yaml(
        tmp_path,
        """
        traffic:
          backend: manual
        """,
    )
    service = load(tmp_path).releases.catalog.services["web"]
    assert (service.plan, service.release_channel, service.traffic) == (
        "standard",
        "#releases",
        "manual",
    )


# --- shipwatch check -------------------------------------------------------------------------


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


def test_check_names_file_line_and_field_of_a_bad_plan(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/backwards.yaml",
        """
        name: backwards
        stages:
          - {name: canary, percent: 30%}
          - {name: early, percent: 10%}
          - {name: full, percent: 100%}
        """,
    )
    result = check(str(tmp_path))
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert (
        f"{plan}:4: stages[1].percent: 10% does not follow 30%: "
        "percentages must be strictly increasing"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_check_of_the_shipped_defaults_passes() -> None:
    for args in ((), (str(DEFAULTS),)):
        result = check(*args)
        assert result.returncode == 0, result
        assert "is valid" in result.stdout
        assert "2 services" in result.stdout
        assert "2 release plans" in result.stdout
        assert result.stderr == ""


def test_a_misspelt_setting_is_named(tmp_path: Path) -> None:
    plan = write(
        tmp_path,
        "plans/typo.yaml",
        """
        name: typo
        stages:
          - {name: all, percent: 100%, sokk: 1h}
        """,
    )
    problem = only_problem(tmp_path)
    assert where(problem) == (str(plan), 3, "stages[0].sokk")
    assert problem.problem == "sokk is not a setting here; check its spelling and indentation"
