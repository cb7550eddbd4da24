"""Persistence: SQLModel tables, the unit of work, repositories, migrations."""
