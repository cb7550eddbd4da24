"""Observation handlers with the payload type each reads: the bot builds the payload, the
room that reads it owns its shape, and a payload of the wrong type is refused here, by
name, before the handler reads a field of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from commands.core.context import SystemContext
from commands.core.invocations import Observed

_P = TypeVar("_P", bound=Observed)

ObservationHandler = Callable[[SystemContext, object], None]


class WrongPayload(TypeError):
    """An observation handler was handed a payload it does not read: a bug at the seam
    between the bot and the application, named where it happens."""


@dataclass(frozen=True, slots=True)
class Reads(Generic[_P]):
    """A handler and the payload type it reads (mypy checks the handler reads that type;
    the call checks it is given one)."""

    payload: type[_P]
    handle: Callable[[SystemContext, _P], None]

    def __call__(self, ctx: SystemContext, payload: object) -> None:
        if not isinstance(payload, self.payload):
            raise WrongPayload(
                f"observation {self.payload.kind!r} reads a {self.payload.__name__}, "
                f"not a {type(payload).__name__}"
            )
        self.handle(ctx, payload)


def observing(*handlers: Reads[Any]) -> Mapping[str, ObservationHandler]:
    """A room's observation table: each handler under its payload's kind."""
    table: dict[str, ObservationHandler] = {}
    for reads in handlers:
        if reads.payload.kind in table:
            raise ValueError(f"two handlers for {reads.payload.kind!r}")
        table[reads.payload.kind] = reads
    return table
