"""Alembic migrations, applied at start and by ``shipwatch db upgrade``."""
