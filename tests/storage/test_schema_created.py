"""A new database is created from the models and stamped at the head, not migrated: the
schema it gets is the schema the migrations build from nothing, and the next migration
applies to it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, inspect, text

from storage import migrate
from storage.engine import make_engine
from tests.support import alembic_imported_opening

MIGRATIONS = Path(migrate.__file__).with_name("migrations")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two new, empty databases of one kind: one to create, one to migrate."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/created.db", f"sqlite:///{tmp_path}/migrated.db"
    return (
        str(request.getfixturevalue("postgres_url")),
        str(request.getfixturevalue("second_postgres_url")),
    )


@pytest.fixture
def created(new_urls: tuple[str, str]) -> Iterator[Engine]:
    engine = make_engine(new_urls[0])
    migrate.prepare(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(new_urls: tuple[str, str]) -> Iterator[Engine]:
    engine = make_engine(new_urls[1])
    migrate.upgrade(engine)  # through Alembic, every migration from nothing
    yield engine
    engine.dispose()


def _default(value: Any) -> str | None:
    # SQLite gives back a rebuilt table's default as written; the same text either way.
    return None if value is None else re.sub(r"\s+", " ", str(value)).strip()


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything a table is: columns in order (type, nullability, server default), primary key,
    indexes (with a partial index's condition), unique constraints, foreign keys, checks."""
    with engine.connect() as connection:
        found = inspect(connection)
        dialect = connection.dialect
        schema: dict[str, Any] = {}
        for name in sorted(found.get_table_names()):
            columns = [
                (
                    c["name"],
                    c["type"].compile(dialect=dialect),
                    c["nullable"],
                    _default(c.get("default")),
                )
                for c in found.get_columns(name)  # in the table's order
            ]
            primary = found.get_pk_constraint(name)
            schema[name] = {
                "columns": columns,
                "primary_key": (primary.get("name"), tuple(primary["constrained_columns"])),
                "indexes": sorted(
                    (
                        str(index["name"]),
                        tuple(str(c) for c in index["column_names"]),
                        bool(index["unique"]),
                        sorted(
                            (key, _default(value))
                            for key, value in index.get("dialect_options", {}).items()
                        ),
                    )
                    for index in found.get_indexes(name)
                ),
                "unique": sorted(
                    (str(u["name"]), tuple(u["column_names"]))
                    for u in found.get_unique_constraints(name)
                ),
                "foreign_keys": sorted(
                    (
                        str(f["name"]),
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        sorted((f.get("options") or {}).items()),
                    )
                    for f in found.get_foreign_keys(name)
                ),
                "checks": sorted(
                    (str(c["name"]), _default(c["sqltext"]))
                    for c in found.get_check_constraints(name)
                ),
            }
        if dialect.name == "sqlite":
            # A partial index's WHERE, which SQLite's reflection leaves out, as SQLite keeps it.
            schema["sqlite_master indexes"] = _sqlite_indexes(connection)
    return schema


def _sqlite_indexes(connection: Connection) -> list[tuple[str, str | None]]:
    rows = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
    )
    return [(str(name), _default(sql)) for name, sql in rows]


def test_a_created_database_has_the_schema_the_migrations_build(
    created: Engine, migrated: Engine
) -> None:
    made, replayed = _schema(created), _schema(migrated)
    assert set(made) == set(replayed)
    for name in made:
        assert made[name] == replayed[name], name
    assert len(made) > 25  # every table, not two empty databases agreeing
    assert migrate.current_revision(created) == migrate.current_revision(migrated)
    assert migrate.is_current(created)


def test_a_created_database_takes_the_next_migration(created: Engine, tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    # The migrations as shipped, and one more after the head, as the next version brings.
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrate.head_revision()
    (scripts / "versions" / "9999_next.py").write_text(
        f'''"""The next migration."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("next_note", sa.String(length=40), nullable=True))
        batch.create_index("ix_timers_next_note", ["next_note"])


def downgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.drop_index("ix_timers_next_note")
        batch.drop_column("next_note")
''',
        encoding="utf-8",
    )
    config = Config()
    config.set_main_option("script_location", str(scripts))
    with created.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert migrate.current_revision(created) == "9999"
    timers = inspect(created)
    assert "next_note" in {c["name"] for c in timers.get_columns("timers")}
    assert "ix_timers_next_note" in {i["name"] for i in timers.get_indexes("timers")}
    # And back to the shipped head: the created database was there all along.
    with created.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, str(head))
    assert migrate.is_current(created)


def test_a_database_with_tables_is_migrated_not_created(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        migrate.upgrade(engine, revision="0026")
        migrate.prepare(engine)
        assert migrate.is_current(engine)
        assert "guard_readings" in inspect(engine).get_table_names()  # 0027's table
    finally:
        engine.dispose()


def test_a_new_database_is_created_without_alembic(sqlite_url: str) -> None:
    assert alembic_imported_opening(sqlite_url, "prepare") == []
