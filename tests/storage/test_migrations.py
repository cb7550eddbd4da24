"""Migrations: the schema they build is the schema the models describe, up and down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from storage import migrate


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
