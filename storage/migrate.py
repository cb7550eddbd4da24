"""Apply and inspect Alembic migrations without an alembic.ini on disk.

Alembic is imported only when a migration has to run (or be written): importing it costs
about a third of a second, and a start on a database that is already current (every
restart) and every readiness check need only the revision, read here with one SELECT,
and the head, read from the revision files' own ``revision``/``down_revision`` lines.

A new database (no tables at all) is not migrated but created: the tables from the
models, in one transaction with the head revision stamped, as Alembic would stamp it
(``prepare``). ``tests/storage/test_schema_created.py`` checks that a database created so
and one migrated from nothing have the same schema, on SQLite and PostgreSQL, and that the
next migration applies to a created one.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    column,
    insert,
    inspect,
    select,
    table,
    text,
)

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).with_name("migrations")
_VERSION_TABLE = "alembic_version"
# revision = "0027" / down_revision: str | None = "0026", as Alembic's templates write them
_REVISION_LINE = re.compile(
    r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*["']([^"']+)["']\s*$""", re.MULTILINE
)


# Alembic's own version table, as its MigrationContext creates it.
_VERSION = Table(
    _VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


class MigrationError(Exception):
    """Alembic refused (a revision it does not know, as a newer version's database has)."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` in one transaction (nothing to do: no Alembic)."""
    if revision == "head" and is_current(engine):
        return
    from alembic import command
    from alembic.util.exc import CommandError

    config = _config()
    try:
        with engine.begin() as connection:
            _one_at_a_time(connection)  # then Alembic reads the revision a twin left
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except CommandError as error:
        raise MigrationError(str(error)) from error


# pg_advisory_xact_lock's key for changing the schema: any fixed number of our own.
_SCHEMA_LOCK = 0x5348_4950_5357_4348  # "SHIPSWCH"


def _one_at_a_time(connection: Connection) -> None:
    """Hold the schema to this transaction: of replicas starting together on one
    database, the others wait here until it commits, then find the work done.

    PostgreSQL takes a transaction-scoped advisory lock. SQLite needs nothing: every
    transaction begins IMMEDIATE, holding the one write lock from its first statement.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})


def prepare(engine: Engine) -> None:
    """Bring the database to the head revision: create a new one, migrate any other.

    A database with no tables gets the models' tables and the head's stamp in one
    transaction (a start on a new database, every drill): replaying every migration
    through Alembic costs the import of Alembic and a batch of table rebuilds on SQLite.
    A database with tables, or only a version table, is upgraded through Alembic.
    """
    if is_current(engine):
        return
    with engine.begin() as connection:
        _one_at_a_time(connection)
        # Asked again inside the transaction, which holds the schema: of two processes
        # starting on one new database, the second finds the tables made.
        created = not inspect(connection).get_table_names() and create(connection)
    if not created:
        upgrade(engine)


def create(connection: Connection) -> bool:
    """Create every table from the models and stamp the head revision, in the caller's
    transaction; False (and nothing done) where Alembic must decide the head."""
    head = head_revision()
    if head is None:
        return False
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

    SQLModel.metadata.create_all(connection, checkfirst=False)
    _VERSION.create(connection, checkfirst=False)
    connection.execute(insert(_VERSION).values(version_num=head))
    return True


def downgrade(engine: Engine, *, revision: str) -> None:
    """Step the schema back to ``revision`` (``base`` removes every table)."""
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@functools.cache
def head_revision() -> str | None:
    """The one revision no other revision follows, from the files in ``versions/``.

    The files do not change while the process runs, so they are read once. Where the
    lines do not give exactly one head (a merge revision's tuple, say), Alembic decides.
    ``tests/storage/test_migrations.py`` checks the answer against Alembic's own.
    """
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else followed).add(value)
    heads = revisions - followed
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return None
        versions = connection.execute(
            select(column("version_num", String)).select_from(table(_VERSION_TABLE))
        )
        found = [str(value) for value in versions.scalars()]
    if len(found) > 1:
        raise MigrationError(f"the database is at more than one revision: {', '.join(found)}")
    return found[0] if found else None


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def autogenerate(engine: Engine, *, message: str) -> None:
    """Write a new revision from the difference between the models and ``engine``."""
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
