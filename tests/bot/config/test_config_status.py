"""status.yaml: the public status page's settings, checked with file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.config.directory import DEFAULTS, ConfigError, load
from playbooks.incidents.status import history_since


def _problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "status.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load(tmp_path)
    return [str(p) for p in raised.value.problems]


def test_status_yaml_names_file_line_and_field(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "enabled: true\n"
        "components:\n"
        "  - service: web\n"
        "    name: Website\n"
        "  - service: checkout\n"
        "    name: Checkout\n"
        "  - service: web\n"
        "    name: Again\n"
        "maintenance:\n"
        "  - services: [web]\n"
        "    start: 2026-12-01T02:00:00+08:00\n"
        "    end: 2026-12-01T01:00:00+08:00\n"
        "    title: Upgrade\n",
    )
    path = tmp_path / "status.yaml"
    assert any(
        p.startswith(f"{path}:5: components[1].service: there is no service 'checkout'")
        for p in problems
    ), problems
    assert any(p.startswith(f"{path}:7: components[2].service:") for p in problems), problems
    assert any(p.startswith(f"{path}:10: maintenance[0]") for p in problems), problems


def test_status_yaml_refuses_unknown_settings_and_naive_times(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "enabled: yes please\n"
        "colour: blue\n"
        "maintenance:\n"
        "  - {services: [web], start: 2026-12-01T02:00:00, end: 2026-12-01T03:00:00, title: x}\n",
    )
    fields = {p.split(": ")[1] for p in problems}
    assert {"enabled", "colour", "maintenance[0].start"} <= fields, problems


def test_the_shipped_status_yaml_is_off_beside_services_of_your_own(tmp_path: Path) -> None:
    assert load(None).status.enabled
    assert load(None).status.services == ("web", "miniapp")
    (tmp_path / "services.yaml").write_text(
        (DEFAULTS / "services.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert not load(tmp_path).status.enabled


def test_the_history_days_are_utc_calendar_days() -> None:
    now = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    assert history_since(now) == datetime(2026, 9, 7, tzinfo=UTC)


def test_shipwatch_check_reports_a_bad_status_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "status.yaml").write_text(
        "enabled: true\ncomponents:\n  - service: wbe\n    name: Website\n", encoding="utf-8"
    )
    code = main(["check", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code != 0
    assert f"{tmp_path / 'status.yaml'}:3: components[0].service: there is no service 'wbe'" in err
