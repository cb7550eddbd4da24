"""One handler per kind: two modules handling the same timer, observation or inbound kind
stop the bot at start rather than one silently replacing the other."""

from __future__ import annotations

import pytest

from commands.table import (
    DuplicateHandler,
    inbound_handlers,
    merged,
    observation_handlers,
    timer_handlers,
)


def test_the_shipped_tables_have_one_handler_per_kind() -> None:
    assert len(timer_handlers()) >= 10
    assert observation_handlers()
    assert inbound_handlers()


def test_a_kind_handled_twice_is_refused() -> None:
    assert merged({"a": 1}, {"b": 2}) == {"a": 1, "b": 2}
    with pytest.raises(DuplicateHandler, match="two handlers for 'a'"):
        merged({"a": 1}, {"b": 2}, {"a": 3})
