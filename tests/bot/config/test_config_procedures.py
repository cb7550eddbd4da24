"""Rollback runbooks in plans and the emergency playbooks of playbooks.yaml: the shipped
ones carry the seeds' steps, owners and clocks, and every mistake is named by file:line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config.directory import load
from tests.support import only_problem, where, write


def test_the_shipped_rollback_runbooks_and_playbooks_follow_the_seeds() -> None:
    catalog = load(None).releases.catalog
    standard = catalog.plans["standard"].rollback_runbook
    assert standard is not None
    assert standard.clock == timedelta(minutes=10)
    # Seed 004's matrix inside seed 001's 10 minutes: revert 5, migrate back 1, restore 3.
    assert [s.due for s in standard.steps][:5] == [timedelta(minutes=m) for m in (1, 5, 6, 9, 10)]
    assert [s.owner for s in standard.steps] == [
        "devops",
        "devops",
        "dba",
        "dba",
        "qa",
        "pm",
        "owner",
    ]
    mini = catalog.plans["gray-miniprogram"].rollback_runbook
    assert mini is not None
    assert "事后总结" in mini.steps[-1].text
    books = catalog.playbooks
    assert sorted(books) == ["database-down", "severe-bug", "third-party-down"]
    assert books["third-party-down"].clock == timedelta(hours=1)
    assert books["third-party-down"].updates == timedelta(minutes=30)
    assert books["third-party-down"].decision == ("tech-lead",)
    assert books["database-down"].clock == timedelta(minutes=5)
    assert books["severe-bug"].notify == ("#management", "release-manager")
    assert "崩溃率 > 0.1%" in books["severe-bug"].trigger


def test_playbook_mistakes_are_named_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "playbooks.yaml",
        """
        playbooks:
          db:
            title: database
            trigger: connections fail
            decision: [ops-lead]
            recovery: 5m
            steps:
              - {due: "T+10m", step: failover}
        """,
    )
    assert where(only_problem(tmp_path)) == (str(path), 6, "playbooks.db.recovery")
    write(
        tmp_path,
        "playbooks.yaml",
        """
        playbooks:
          db:
            title: database
            trigger: connections fail
            decision: [ops-lead]
            steps:
              - {due: "soon", step: failover}
        """,
    )
    problem = only_problem(tmp_path)
    assert problem.line == 7
    assert "is not a time from T" in problem.problem
