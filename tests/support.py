"""What many tests read or write the same way: the messages a Harness's adapter recorded,
rows in an app's database, and files of a config directory. Tests import these from here
rather than from each other."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot.app import Application
from bot.config.directory import ConfigError, ConfigProblem, load
from commands.core.effects import apply
from playbooks.effects import Effect
from storage.models import IncidentEvent, IncidentRow, OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.fakes.adapters import RecordingAdapter

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root, however deep the test asking for it sits."""


class WithApp(Protocol):
    """A Harness or a robot World: anything that runs an Application."""

    app: Application


class WithAdapter(Protocol):
    adapter: RecordingAdapter


# --- what the recording adapter was asked to send ------------------------------------------


def sent_to(h: WithAdapter, address: str) -> list[str]:
    """Every text sent to ``address``, posts and direct messages alike."""
    return [s.text for s in h.adapter.sent if s.address == address]


def posts(h: WithAdapter, channel: str) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "post" and s.address == channel]


def dms_to(h: WithAdapter, person: str) -> list[str]:
    return [s.text for s in h.adapter.sent if s.kind == "direct" and s.address == person]


def releases_posts(h: WithAdapter) -> list[str]:
    return sent_to(h, "#releases")


# --- the simulated integrations of an app ----------------------------------------------------


def set_metrics(h: WithApp, values: dict[str, float]) -> None:
    for name, value in values.items():
        h.app.integrations.simulated_metrics.set(name, value)


def traffic(h: WithApp) -> list[tuple[str, float, str]]:
    return h.app.integrations.simulated_traffic.applied


# --- rows in the app's database ------------------------------------------------------------


def count(h: WithApp, model: type[Any]) -> int:
    with unit_of_work(h.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def outbox(h: WithApp) -> list[OutboxMessage]:
    return outbox_rows(h.app.engine)


def incidents(h: WithApp) -> list[IncidentRow]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(IncidentRow).order_by(col(IncidentRow.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def incident_row(h: WithApp, incident_id: int = 1) -> IncidentRow:
    with unit_of_work(h.app.engine) as session:
        found = session.get(IncidentRow, incident_id)
        assert found is not None
        session.expunge(found)
        return found


def timeline(h: WithApp, incident_id: int) -> list[tuple[str, str, str]]:
    with unit_of_work(h.app.engine) as session:
        events = session.exec(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(col(IncidentEvent.id))
        ).all()
        return [(e.actor, e.kind, e.text) for e in events]


# --- config directories --------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    """``text`` (dedented) as ``folder/name``, creating the folders it needs."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(config_dir: Path | None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load(config_dir)
    assert caught.value.problems, "a ConfigError always lists at least one problem"
    return caught.value.problems


def where(problem: ConfigProblem) -> tuple[str, int | None, str]:
    return problem.file, problem.line, problem.field


def only_problem(config_dir: Path) -> ConfigProblem:
    problems = problems_of(config_dir)
    assert len(problems) == 1, problems
    return problems[0]


def alembic_imported_opening(url: str, how: str) -> list[str]:
    """The Alembic modules a fresh interpreter imports to open ``url`` with
    ``storage.migrate.<how>`` and find it current."""
    code = (
        "import json, sys; from storage import migrate; from storage.engine import make_engine; "
        f"e = make_engine({url!r}); migrate.{how}(e); assert migrate.is_current(e); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('alembic'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules: list[str] = json.loads(done.stdout)
    return modules


async def write_effects(app: Application, *effects: Effect) -> None:
    """Write ``effects`` as a handler's would be, in one transaction, then let the app
    deliver what they queued."""
    runtime = app.runtime
    with unit_of_work(app.engine) as session:
        apply(
            session,
            effects,
            now=app.clock.now(),
            directory=runtime.directory,
            new_token=runtime.new_token,
            reachable=runtime.reachable_platforms,
        )
    await app.settle()
