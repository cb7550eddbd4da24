"""heartbeats.yaml: the shipped (empty) list, a team's own, and mistakes named by file,
line and field, by `shipwatch check` as by the loader."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.directory import load
from playbooks.incidents.heartbeats import Heartbeat
from tests.support import only_problem, problems_of, write


def test_nothing_is_watched_unless_configured() -> None:
    assert load(None).incidents.heartbeats == {}


def test_a_teams_heartbeats_with_their_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        "heartbeats.yaml",
        """
        heartbeats:
          - {name: nightly-backup, service: web, interval: 24h, grace: 1h, severity: P1}
          - {name: report-export, service: miniapp, interval: 30m}
        """,
    )
    assert load(tmp_path).incidents.heartbeats == {
        "nightly-backup": Heartbeat(
            "nightly-backup",
            "web",
            timedelta(hours=24),
            timedelta(hours=1),
            "P1",
            titles=(
                ("en", "No heartbeat from nightly-backup for 1d 1h"),
                ("zh", "已 1天1小时 未收到 nightly-backup 的心跳"),
            ),
        ),
        "report-export": Heartbeat(
            "report-export",
            "miniapp",
            timedelta(minutes=30),
            timedelta(minutes=5),
            "P2",
            titles=(
                ("en", "No heartbeat from report-export for 35m"),
                ("zh", "已 35分钟 未收到 report-export 的心跳"),
            ),
        ),
    }


@pytest.mark.parametrize(
    ("entry", "line", "field", "words"),
    [
        ("{name: b, service: nosuch, interval: 1h}", 3, "heartbeats[1].service", "nosuch"),
        ("{name: b, service: web, interval: 0m}", 3, "heartbeats[1].interval", "no time at all"),
        ("{name: b, service: web, interval: 20s}", 3, "heartbeats[1].interval", "1m or more"),
        ("{name: B b, service: web, interval: 1h}", 3, "heartbeats[1].name", ""),
        ("{name: b, service: web, interval: 1h, severity: P5}", 3, "heartbeats[1].severity", ""),
        ("{name: b, service: web, interval: 1h, every: 2h}", 3, "heartbeats[1].every", ""),
        ("{name: a, service: web, interval: 1h}", 2, "heartbeats", "declared twice"),
    ],
)
def test_mistakes_are_named_by_line_and_field(
    tmp_path: Path, entry: str, line: int, field: str, words: str
) -> None:
    path = write(
        tmp_path,
        "heartbeats.yaml",
        f"""
        heartbeats:
          - {{name: a, service: web, interval: 1h}}
          - {entry}
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert words in problem.problem


def test_check_reports_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "heartbeats.yaml", "heartbeats:\n  - {name: x, service: web, interval: 0m}\n")
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "heartbeats.yaml:2: heartbeats[0].interval:" in err
    assert problems_of(tmp_path)
