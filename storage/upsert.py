"""INSERT … ON CONFLICT in the words of the database in use, SQLite's or PostgreSQL's.

Each dialect's ``insert`` is imported when a statement is first built for it, not with
the repositories: a start on SQLite never loads SQLAlchemy's PostgreSQL dialect (about
20 ms), nor one on PostgreSQL SQLite's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def insert(dialect: str, table: Any) -> PostgresInsert | SqliteInsert:
    """An INSERT into ``table`` that can take ``on_conflict_do_*``, for ``dialect``
    (a dialect name: ``postgresql``, or else SQLite)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
