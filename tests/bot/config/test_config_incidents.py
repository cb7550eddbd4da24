"""severity.yaml: the shipped policies' clocks and audiences, and audiences naming
people who are not in people.yaml."""

from __future__ import annotations

from pathlib import Path

from bot.config.directory import DEFAULTS, load
from tests.bot.config.test_config_dir import GOOD_PEOPLE
from tests.support import only_problem, write


def test_the_shipped_audiences() -> None:
    audiences = load(None).incidents.audiences
    assert audiences == {"management": ("@dave",), "public": ("#status",)}


def test_own_people_keep_the_shipped_channels_not_the_shipped_people(tmp_path: Path) -> None:
    write(tmp_path, "people.yaml", GOOD_PEOPLE)  # alice and bob, no dave
    write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n")
    audiences = load(tmp_path).incidents.audiences
    assert audiences == {"management": (), "public": ("#status",)}


def test_an_audience_of_someone_unknown_is_named(tmp_path: Path) -> None:
    write(tmp_path, "people.yaml", GOOD_PEOPLE)
    write(tmp_path, "roles.yaml", "roles:\n  admin: [alice]\n")
    shipped = (DEFAULTS / "severity.yaml").read_text(encoding="utf-8")
    write(tmp_path, "severity.yaml", shipped.replace('["@dave"]', '["@alice", "@zed"]'))
    problem = only_problem(tmp_path)
    assert (problem.field, problem.problem) == (
        "audiences.management[1]",
        "'zed' is not in people.yaml",
    )
    assert problem.line is not None
