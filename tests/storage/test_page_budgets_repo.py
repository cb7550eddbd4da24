"""A person's first page-budget row: two first pages at once never fail on each other."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from storage.repositories import page_budgets as repo
from storage.unit_of_work import unit_of_work

pytestmark = pytest.mark.usefixtures("database_url")
T0 = datetime(2026, 11, 23, 1, tzinfo=UTC)


def test_a_first_row_created_while_another_is_being_created_is_shared(engine: Engine) -> None:
    outcomes: list[object] = []

    def second() -> None:
        try:
            with unit_of_work(engine) as session:
                row, created = repo.lock(session, person="bob", now=T0)
                outcomes.append((created, row.sent))
        except Exception as error:  # the failure is what is asserted
            outcomes.append(error)

    with unit_of_work(engine) as session:
        row, created = repo.lock(session, person="bob", now=T0)
        assert created
        row.sent = 1
        repo.put(session, row)
        other = threading.Thread(target=second)
        other.start()  # waits on this transaction's row, then finds it
    other.join(timeout=30)
    assert outcomes == [(False, 1)]
    with unit_of_work(engine) as session:
        assert repo.get(session, person="bob") is not None
