"""The launch keys of plans/*.yaml: read into the plan, and every mistake named."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from bot.config.directory import load
from playbooks.launch.plan import WindowGate
from tests.support import only_problem, where, write

STAGES = (
    "name: tiny\n"  # 1
    "stages:\n"  # 2
    "  - {name: canary, percent: 10%, soak: 30m}\n"  # 3
    "  - {name: full, percent: 100%}\n"  # 4
)


def test_the_shipped_mini_program_plan_carries_the_launch_plans() -> None:
    plan = load(None).releases.catalog.plans["gray-miniprogram"]
    launch = plan.launch
    assert sum(item.required for item in launch.checklist) == 6
    assert launch.gonogo.required
    assert [d.weight for d in launch.gonogo.dimensions] == [
        30,
        25,
        25,
        15,
        5,
    ]
    assert launch.windows.gate is WindowGate.START
    assert [(w.opens, w.closes) for w in launch.windows.windows] == [
        (time(17), time(18)),
        (time(10), time(11)),
    ]
    assert launch.progress_every == timedelta(minutes=30)
    assert [f.day for f in launch.followups] == [1, 3, 7]
    # Seed 004 §9.6 in its order: T-1h backups … migration, deploy, gray config, T+48h.
    assert [s.at for s in launch.runbook] == [
        timedelta(hours=-1),
        timedelta(0),
        timedelta(minutes=30),
        timedelta(minutes=31),
        timedelta(hours=1, minutes=15),
        timedelta(hours=1, minutes=30),
        timedelta(hours=2),
        timedelta(hours=48),
    ]
    assert [s.owner for s in launch.runbook][:4] == ["devops", "devops", "dba", "devops"]
    # Seed 001 §3.2: the launch day 00:00-24:00 with its roles.
    day = load(None).releases.catalog.plans["standard"].launch.runbook
    assert [(s.at, s.owner) for s in day][::5] == [
        (timedelta(0), "devops"),
        (timedelta(hours=4), "devops"),
        (timedelta(hours=24), "devops"),
    ]
    assert {s.owner for s in day} == {"devops", "dba", "qa", "pm", "dev"}
    # Snapshotted with the plan, and read back the same.
    assert type(plan).from_json(plan.to_json()) == plan
    # The standard plan's windows stay off: its releases start at any hour.
    assert load(None).releases.catalog.plans["standard"].launch.windows.gate is WindowGate.OFF


def test_overlapping_windows_are_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "plans/tiny.yaml",
        STAGES
        + "windows:\n"  # 5
        + "  allowed:\n"  # 6
        + "    - {days: weekdays, from: '17:00', to: '18:00'}\n"  # 7
        + "    - {days: [fri], from: '17:30', to: '19:00'}\n",  # 8
    )
    problem = only_problem(tmp_path)
    assert problem.field == "windows.allowed[1]"
    assert "overlaps windows.allowed[0]" in problem.problem


def test_a_checklist_item_before_an_unknown_stage(tmp_path: Path) -> None:
    write(tmp_path, "plans/tiny.yaml", STAGES + "checklist:\n  - {text: x, before: huge}\n")
    problem = only_problem(tmp_path)
    assert problem.field == "checklist[0].before"
    assert "there is no stage 'huge'" in problem.problem
    # The first stage is a gate too: the release waits prepared for it (/release go).
    write(
        tmp_path,
        "plans/tiny.yaml",
        STAGES + "checklist:\n  - {text: x, required: true, before: canary}\n",
    )
    plan = load(tmp_path).releases.catalog.plans["tiny"]
    assert plan.prepares


def test_bad_runbook_times_days_and_weights(tmp_path: Path) -> None:
    write(tmp_path, "plans/tiny.yaml", STAGES + "runbook:\n  - {at: 'soon', step: x}\n")
    problem = only_problem(tmp_path)
    assert where(problem)[0].endswith("plans/tiny.yaml")
    assert "T+0:30" in problem.problem
    write(
        tmp_path,
        "plans/tiny.yaml",
        STAGES + "windows: {allowed: [{days: someday, from: '17:00', to: '18:00'}]}\n",
    )
    assert "is not a day" in only_problem(tmp_path).problem
    write(
        tmp_path,
        "plans/tiny.yaml",
        STAGES + "gonogo:\n  dimensions:\n    - {name: speed, weight: 60, target: '> 90'}\n",
    )
    assert "add up to 60, not 100" in only_problem(tmp_path).problem


def test_an_unknown_window_timezone_is_named(tmp_path: Path) -> None:
    write(tmp_path, "plans/tiny.yaml", STAGES + "windows: {timezone: Mars/Olympus}\n")
    problem = only_problem(tmp_path)
    assert "is not a timezone" in problem.problem
