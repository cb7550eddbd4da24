"""Migrations: the schema they build is the schema the models describe, up and down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from storage import migrate
from storage.models import ReleaseRow
from tests.support import alembic_imported_opening


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == [], "add a migration for the model change (see README)"
    assert migrate.is_current(engine)


def test_downgrade_to_nothing_and_back(engine: Engine) -> None:
    migrate.downgrade(engine, revision="base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert "reminders" in inspect(engine).get_table_names()


def _release(state: str, version: str) -> ReleaseRow:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    return ReleaseRow(
        service="miniapp",
        version=version,
        plan={},
        state=state,
        owner="alice",
        channel="console:#releases",
        traffic="simulated",
        metrics="simulated",
        started_at=at,
        updated_at=at,
    )


def test_a_prepared_release_holds_its_service_and_a_downgrade_gives_it_up(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(_release("prepared", "2.1.0"))
        session.commit()
        session.add(_release("in_stage", "2.1.1"))
        with pytest.raises(IntegrityError):
            session.commit()
    # Before 0017 no release could be prepared: going back, it is given up on (aborted).
    migrate.downgrade(engine, revision="0016")
    with engine.connect() as connection:
        states = connection.execute(text("SELECT state FROM releases")).scalars().all()
    assert states == ["aborted"]
    migrate.upgrade(engine)
    assert migrate.is_current(engine)


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    assert migrate.head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_current_database_is_opened_without_alembic(engine: Engine) -> None:
    # A restart on a current database and every readiness check only read the revision.
    url = engine.url.render_as_string(hide_password=False)
    assert alembic_imported_opening(url, "upgrade") == []
